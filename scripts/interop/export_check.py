"""Reads an Isobar Parquet export with DuckDB and pyarrow and checks it against the numbers the
Rust test (query/tests/export_interop.rs) computed from the same data.

usage: export_check.py DIR ROWS SUM_TEMP MAX_COUNT DATES

DIR holds Hive partitions date=YYYY-MM-DD/part-N.parquet; ROWS is the row count; SUM_TEMP the
sum of "obs.temp"; MAX_COUNT the maximum of "obs.count"; DATES the comma-separated partition dates.
Exits non-zero with a message on the first mismatch.
"""

import sys

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds


def fail(msg):
    print(f"export_check: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) != 6:
        fail(__doc__)
    root, rows, sum_temp, max_count, dates = sys.argv[1:]
    rows, sum_temp, max_count = int(rows), float(sum_temp), int(max_count)
    dates = sorted(dates.split(","))

    con = duckdb.connect()
    glob = f"{root}/**/*.parquet"
    src = f"read_parquet('{glob}', hive_partitioning=true)"
    got_rows, got_sum, got_max, got_dates = con.execute(
        f'SELECT count(*), sum("obs.temp"), max("obs.count"), count(DISTINCT date) FROM {src}'
    ).fetchone()
    if got_rows != rows:
        fail(f"duckdb rows {got_rows} != {rows}")
    if abs(got_sum - sum_temp) > 1e-6 * max(1.0, abs(sum_temp)):
        fail(f"duckdb sum(obs.temp) {got_sum} != {sum_temp}")
    if got_max != max_count:
        fail(f"duckdb max(obs.count) {got_max} != {max_count}")
    if got_dates != len(dates):
        fail(f"duckdb distinct dates {got_dates} != {len(dates)}")
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {src})").fetchall())
    # DuckDB 1.4+ keeps nanoseconds (TIMESTAMPTZ_NS); older versions convert to microseconds.
    want = {
        "series": {"VARCHAR"},
        "ts": {"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ_NS"},
        "obs.temp": {"DOUBLE"},
        "obs.count": {"BIGINT"},
        "date": {"DATE"},
    }
    for name, ty in want.items():
        if types.get(name) not in ty:
            fail(f"duckdb type of {name}: {types.get(name)} != {ty} (all: {types})")
    per_day = con.execute(
        f"SELECT CAST(date AS VARCHAR), count(*) FROM {src} "
        "WHERE strftime(ts AT TIME ZONE 'UTC', '%Y-%m-%d') <> CAST(date AS VARCHAR) GROUP BY 1"
    ).fetchall()
    if per_day:
        fail(f"rows in the wrong date partition: {per_day}")

    dataset = ds.dataset(root, format="parquet", partitioning="hive")
    if dataset.count_rows() != rows:
        fail(f"pyarrow rows {dataset.count_rows()} != {rows}")
    schema = dataset.schema
    if schema.field("ts").type != pa.timestamp("ns", tz="UTC"):
        fail(f"pyarrow ts type {schema.field('ts').type}")
    series_type = schema.field("series").type
    if not (pa.types.is_string(series_type) or pa.types.is_large_string(series_type)
            or (pa.types.is_dictionary(series_type) and pa.types.is_string(series_type.value_type))):
        fail(f"pyarrow series type {series_type}")
    if schema.field("obs.temp").type != pa.float64() or schema.field("obs.count").type != pa.int64():
        fail(f"pyarrow value types {schema}")
    table = dataset.to_table(columns=["obs.temp", "date"])
    total = sum(v for v in table.column("obs.temp").to_pylist() if v is not None)
    if abs(total - sum_temp) > 1e-6 * max(1.0, abs(sum_temp)):
        fail(f"pyarrow sum(obs.temp) {total} != {sum_temp}")
    seen = sorted({str(d) for d in table.column("date").to_pylist()})
    if seen != dates:
        fail(f"pyarrow dates {seen} != {dates}")
    print(f"export_check: ok ({rows} rows, {len(dates)} partitions)")


if __name__ == "__main__":
    main()
