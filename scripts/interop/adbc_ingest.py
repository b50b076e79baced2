"""Interoperability check of Flight SQL bulk ingest with ADBC (adbc-driver-flightsql through
adbc-driver-manager's DB-API), a client nobody here wrote.

Usage: python adbc_ingest.py ADDRESS TOKEN

The server has table `weather` (families env: temp f64, code i64; meta: note string), empty,
and TOKEN may write it. Ingests a pyarrow table into the family relation weather.env and a
pandas DataFrame into the table relation public.weather (columns family.column); checks that
ingest without a token is UNAUTHENTICATED and mode="create" on an existing relation is
ALREADY_EXISTS. The caller reads the rows back through the native API. Prints "adbc ingest ok".
"""

import sys

import adbc_driver_manager
import pandas as pd
import pyarrow as pa

import adbc_connect

ADDRESS, TOKEN = sys.argv[1], sys.argv[2]
T0 = 1_700_000_000_000_000_000
SEC = 1_000_000_000
Code = adbc_driver_manager.AdbcStatusCode


def connect(token):
    return adbc_connect.connect(ADDRESS, token)


readings = pa.table(
    {
        "series": ["KSEA", "KSEA", "KBOI"],
        "ts": pa.array([T0, T0 + SEC, T0], pa.timestamp("ns", tz="UTC")),
        "temp": [11.5, 12.0, None],
        "code": pa.array([1, 2, 3], pa.int64()),
    }
)
frame = pd.DataFrame(
    {
        "series": ["KPDX"],
        "ts": pd.to_datetime([T0 + 2 * SEC], unit="ns", utc=True),
        "env.temp": [9.5],
        "meta.note": ["rain"],
    }
)

with connect(TOKEN) as conn, conn.cursor() as cur:
    assert cur.adbc_ingest("env", readings, mode="append", db_schema_name="weather") == 3
    # A cursor keeps the target schema of its last ingest (db_schema_name=None does not reset
    # it), so the table relation is named with its schema, `public`.
    assert cur.adbc_ingest("weather", frame, mode="append", db_schema_name="public") == 1
    try:
        cur.adbc_ingest("env", readings, mode="create", db_schema_name="weather")
        raise AssertionError("mode=create on an existing relation was accepted")
    except adbc_driver_manager.Error as e:
        assert e.status_code == Code.ALREADY_EXISTS, f"{e.status_code} {e}"

with connect(None) as conn, conn.cursor() as cur:
    try:
        cur.adbc_ingest("env", readings, mode="append", db_schema_name="weather")
        raise AssertionError("ingest without a token was accepted")
    except adbc_driver_manager.Error as e:
        assert e.status_code == Code.UNAUTHENTICATED, f"{e.status_code} {e}"

print("adbc ingest ok")
