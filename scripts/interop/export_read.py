"""Reads Isobar exports with DuckDB and Polars, as a data team would, and checks them against the
numbers the Rust test (tests/e2e_python_export.rs) computed from the data it wrote.

usage: export_read.py CHECKS.json

CHECKS.json is a list of datasets, each
  {"root": DIR, "partition": "month" | "year" | "date" | null, "columns": [...],
   "rows": N, "sum_column": NAME | null, "sum": X | null, "partitions": [VALUE, ...]}
where root holds part files (under Hive partition directories when partition is set), columns
are the file columns in order, sum_column a numeric column whose sum must be X, and partitions
the partition values expected. DuckDB queries use
the column names unquoted, as plain SQL identifiers. Exits non-zero with a message on the first
mismatch.
"""

import json
import sys

import duckdb
import polars as pl


def fail(msg):
    print(f"export_read: {msg}", file=sys.stderr)
    sys.exit(1)


def close(a, b):
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


def check_duckdb(con, d):
    root, part, col = d["root"], d["partition"], d["sum_column"]
    src = f"read_parquet('{root}/**/*.parquet', hive_partitioning={'true' if part else 'false'})"
    names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
    want = d["columns"] + ([part] if part else [])
    if names != want:
        fail(f"duckdb columns of {root}: {names} != {want}")
    # Unquoted identifiers: the point of underscore and family naming.
    rows, total = con.execute(f"SELECT count(*), sum({col or 0}) FROM {src}").fetchone()
    if rows != d["rows"]:
        fail(f"duckdb rows of {root}: {rows} != {d['rows']}")
    if col and not close(total, d["sum"]):
        fail(f"duckdb sum({col}) of {root}: {total} != {d['sum']}")
    if part:
        seen = sorted(str(v) for (v,) in con.execute(f"SELECT DISTINCT CAST({part} AS VARCHAR) FROM {src}").fetchall())
        if seen != sorted(d["partitions"]):
            fail(f"duckdb {part} values of {root}: {seen} != {sorted(d['partitions'])}")
        fmt = {"date": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}[part]
        wrong = con.execute(
            f"SELECT count(*) FROM {src} WHERE strftime(ts AT TIME ZONE 'UTC', '{fmt}') <> CAST({part} AS VARCHAR)"
        ).fetchone()[0]
        if wrong:
            fail(f"duckdb: {wrong} rows of {root} in the wrong {part} partition")


def check_polars(d):
    root, part, col = d["root"], d["partition"], d["sum_column"]
    lf = pl.scan_parquet(f"{root}/**/*.parquet", hive_partitioning=bool(part))
    schema = lf.collect_schema()
    want = d["columns"] + ([part] if part else [])
    if list(schema.names()) != want:
        fail(f"polars columns of {root}: {schema.names()} != {want}")
    if schema["ts"] != pl.Datetime("ns", "UTC"):
        fail(f"polars ts type of {root}: {schema['ts']}")
    total = pl.col(col).sum() if col else pl.lit(0)
    out = lf.select(pl.len().alias("rows"), total.alias("total")).collect()
    if out["rows"][0] != d["rows"]:
        fail(f"polars rows of {root}: {out['rows'][0]} != {d['rows']}")
    if col and not close(out["total"][0], d["sum"]):
        fail(f"polars sum({col}) of {root}: {out['total'][0]} != {d['sum']}")
    if part:
        seen = sorted(str(v) for v in lf.select(pl.col(part).unique()).collect()[part].to_list())
        if seen != sorted(d["partitions"]):
            fail(f"polars {part} values of {root}: {seen} != {sorted(d['partitions'])}")


def main():
    if len(sys.argv) != 2:
        fail(__doc__)
    with open(sys.argv[1]) as f:
        datasets = json.load(f)
    con = duckdb.connect()
    for d in datasets:
        check_duckdb(con, d)
        check_polars(d)
    print(f"export_read: ok ({len(datasets)} datasets, duckdb {duckdb.__version__}, polars {pl.__version__})")


if __name__ == "__main__":
    main()
