"""Interoperability check of Isobar's Arrow Flight SQL front end with ADBC, a client nobody here
wrote: adbc-driver-flightsql through adbc-driver-manager's DB-API, and pandas over that
connection.

Usage: python adbc_flight_sql.py ADDRESS ROOT_TOKEN WEATHER_ONLY_TOKEN

The server has tables `weather` (families env: temp f64, code i64; meta: note string) and
`other` (family m: v f64) with one row KXYZ in `other`. ROOT_TOKEN may do anything;
WEATHER_ONLY_TOKEN may read `weather` only.

Checks: adbc_ingest of a pyarrow table and reading it back with cursor.execute and
fetch_arrow_table; a query with a parameter; adbc_get_objects listing the relations with their
columns; pandas.read_sql; and the refusals: no token (UNAUTHENTICATED), a join over a table the
token may not read (UNAUTHORIZED, gRPC PERMISSION_DENIED), a syntax error (INVALID_ARGUMENT with
line and column), a client that stops reading mid-stream (the next query works). Prints
"adbc flight sql ok" on success; exits non-zero on any mismatch.
"""

import sys

import adbc_driver_manager
import pandas as pd
import pyarrow as pa

import adbc_connect

ADDRESS, ROOT, WEATHER_ONLY = sys.argv[1], sys.argv[2], sys.argv[3]
T0 = 1_700_000_000_000_000_000
SEC = 1_000_000_000
Code = adbc_driver_manager.AdbcStatusCode


def connect(token):
    return adbc_connect.connect(ADDRESS, token)


def refused(token, sql, code, *needles):
    with connect(token) as conn, conn.cursor() as cur:
        try:
            cur.execute(sql)
            cur.fetch_arrow_table()
        except adbc_driver_manager.Error as e:
            assert e.status_code == code, f"{sql}: {e.status_code} {e}"
            for needle in needles:
                assert needle in str(e), f"{needle!r} not in {e}"
            return
    raise AssertionError(f"{sql} was not refused")


with connect(ROOT) as conn:
    with conn.cursor() as cur:
        # Bulk ingest into the family relation weather.env (plain column names).
        readings = pa.table(
            {
                "series": ["KSEA", "KSEA", "KBOI"],
                "ts": pa.array([T0, T0 + SEC, T0], pa.timestamp("ns", tz="UTC")),
                "temp": [11.5, 12.0, -2.0],
                "code": pa.array([1, 2, 3], pa.int64()),
            }
        )
        written = cur.adbc_ingest("env", readings, mode="append", db_schema_name="weather")
        assert written == 3, written

        cur.execute("SELECT series, ts, temp, code FROM weather.env ORDER BY series, ts")
        table = cur.fetch_arrow_table()
        assert table.column("series").to_pylist() == ["KBOI", "KSEA", "KSEA"], table
        assert table.column("temp").to_pylist() == [-2.0, 11.5, 12.0], table
        assert table.column("code").to_pylist() == [3, 1, 2], table
        assert [t.value for t in table.column("ts")] == [T0, T0, T0 + SEC], table

        # A parameter (a prepared statement with a bound parameter batch).
        cur.execute("SELECT temp FROM weather.env WHERE series = $1 ORDER BY ts", parameters=("KSEA",))
        assert cur.fetch_arrow_table().column("temp").to_pylist() == [11.5, 12.0]

        # The table relation in schema public joins the families on (series, ts).
        cur.execute('SELECT count(*) AS n FROM public.weather WHERE "env.temp" > 0')
        assert cur.fetch_arrow_table().column("n").to_pylist() == [2]

    # Metadata: catalogs, schemas, relations with their columns.
    objects = conn.adbc_get_objects(depth="all").read_all().to_pylist()
    catalogs = {c["catalog_name"]: c for c in objects}
    assert "isobar" in catalogs, objects
    schemas = {s["db_schema_name"]: s for s in catalogs["isobar"]["catalog_db_schemas"]}
    assert {"public", "weather", "other"} <= set(schemas), sorted(schemas)
    env = [t for t in schemas["weather"]["db_schema_tables"] if t["table_name"] == "env"]
    assert env, schemas["weather"]
    columns = [c["column_name"] for c in env[0]["table_columns"]]
    assert columns[:2] == ["series", "ts"] and {"temp", "code"} <= set(columns), columns
    public = {t["table_name"] for t in schemas["public"]["db_schema_tables"]}
    assert {"weather", "other"} <= public, public

    # pandas over the ADBC connection.
    frame = pd.read_sql("SELECT series, max(temp) AS top FROM weather.env GROUP BY series ORDER BY series", conn)
    assert list(frame["series"]) == ["KBOI", "KSEA"] and list(frame["top"]) == [-2.0, 12.0], frame

    # A client that stops reading mid-stream: the server is unaffected.
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM weather.env CROSS JOIN weather.env AS b CROSS JOIN weather.env AS c")
        reader = cur.fetch_record_batch()
        reader.read_next_batch()
        reader.close()
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) AS n FROM other.m")
        assert cur.fetch_arrow_table().column("n").to_pylist() == [1]

# The token that may read `weather` only: its own table works, the metadata lists only it,
# and a join touching `other` is refused naming it.
with connect(WEATHER_ONLY) as conn:
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) AS n FROM weather.env")
        assert cur.fetch_arrow_table().column("n").to_pylist() == [3]
    objects = conn.adbc_get_objects(depth="tables").read_all().to_pylist()
    schemas = {s["db_schema_name"] for c in objects for s in c["catalog_db_schemas"] or []}
    assert "other" not in schemas and "weather" in schemas, schemas
refused(WEATHER_ONLY, "SELECT * FROM weather.env JOIN other.m USING (series, ts)", Code.UNAUTHORIZED, "other")
refused(None, "SELECT 1", Code.UNAUTHENTICATED)
refused(ROOT, "SELEC 1", Code.INVALID_ARGUMENT, "Line: 1", "Column")

print("adbc flight sql ok")
