"""Interoperability check of Isobar's PostgreSQL wire-protocol front end with clients nobody here
wrote: psycopg 3 (libpq underneath), SQLAlchemy 2 over psycopg, and pandas over SQLAlchemy.

Usage: python pg_clients.py HOST PORT ROOT_TOKEN WEATHER_ONLY_TOKEN OTHER_ONLY_TOKEN

The server has tables `weather` (families env: temp f64, code i64; meta: note string) and
`other` (family m: v f64, one row KXYZ). In `weather.env`: KSEA at T0 (temp 11.5, code 1) and
T0+1s (12.0, code 2), KPDX at T0+2s (temp NULL, code 3), and series BIG with 50,000 rows from
T0+1day, one a millisecond, temp 0, 1, ..., 49999. ROOT_TOKEN may do anything;
WEATHER_ONLY_TOKEN may read `weather` only; OTHER_ONLY_TOKEN may read `other` only. The database
is `isobar`; the user name is free, the password is the token.

Checks, psycopg: a query with timezone-aware datetime parameters (text and binary results, and
binary parameters), timestamps coming back aware and in UTC; NULLs; a server-side cursor (DECLARE
/ FETCH / CLOSE in a transaction) over 50,000 rows with fetchmany and itersize, and the same rows
fetched whole; statements prepared by psycopg (prepare_threshold=0) executed many times with
other parameters; SHOW, version(), SET, BEGIN/COMMIT and the transaction status the server
reports; the refusals with their SQLSTATE: a wrong password, no password, another database, a
table the token may not read (42501), an unknown table (42P01), a syntax error (42601), each
followed by a query on the same connection (after ROLLBACK when in a transaction).
SQLAlchemy + pandas: read_sql with bound parameters into a tz-aware datetime column, and the
inspector listing schemas, tables and columns. Prints "pg clients ok" on success; raises with a
message saying what differed on any mismatch.
"""

import os
import re
import sys
from datetime import datetime, timedelta, timezone

import pandas as pd
import psycopg
from psycopg import errors
from psycopg.pq import TransactionStatus
from sqlalchemy import create_engine, inspect, text
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import URL

HOST, PORT = sys.argv[1], int(sys.argv[2])
ROOT, WEATHER_ONLY, OTHER_ONLY = sys.argv[3], sys.argv[4], sys.argv[5]

T0 = datetime.fromtimestamp(1_700_000_000, timezone.utc)  # 2023-11-14 22:13:20+00
SEC = timedelta(seconds=1)
BIG_T0 = T0 + timedelta(days=1)
BIG_ROWS = 50_000
BIG_SUM = float(sum(range(BIG_ROWS)))
# The KSEA and KPDX rows of weather.env, as (series, ts, temp), ordered by series then ts.
KNOWN = [("KPDX", T0 + 2 * SEC, None), ("KSEA", T0, 11.5), ("KSEA", T0 + SEC, 12.0)]
# A password file that does not exist: libpq never falls back to a ~/.pgpass.
NO_PASSFILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "no-such-pgpass")
RANGE_SQL = "SELECT series, ts, temp FROM weather.env WHERE ts >= %s AND ts < %s ORDER BY series, ts"


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def connect(token, user="root", **kwargs):
    kwargs.setdefault("autocommit", True)
    return psycopg.connect(
        host=HOST,
        port=PORT,
        dbname=kwargs.pop("dbname", "isobar"),
        user=user,
        password=token,
        sslmode="disable",
        connect_timeout=10,
        passfile=NO_PASSFILE,
        application_name="isobar-interop",
        **kwargs,
    )


def check_utc(ts, what):
    check(isinstance(ts, datetime), f"{what}: ts is {type(ts).__name__} {ts!r}, not a datetime")
    check(ts.tzinfo is not None, f"{what}: ts {ts!r} is naive, expected an aware datetime (timestamptz)")
    check(ts.utcoffset() == timedelta(0), f"{what}: ts {ts!r} is not in UTC (offset {ts.utcoffset()})")


def check_known(rows, what):
    check(rows == KNOWN, f"{what}: rows {rows!r}, expected {KNOWN!r}")
    for row in rows:
        check_utc(row[1], what)


def refused(conn, sql, params, error, sqlstate, *needles):
    """Runs `sql` on `conn` expecting `error` with `sqlstate`; returns the exception."""
    try:
        conn.execute(sql, params)
    except psycopg.Error as e:
        check(
            isinstance(e, error) and e.sqlstate == sqlstate,
            f"{sql}: got {type(e).__name__} (SQLSTATE {e.sqlstate}): {e}; expected {error.__name__} ({sqlstate})",
        )
        for needle in needles:
            check(needle in str(e), f"{sql}: {needle!r} not in the error message {str(e)!r}")
        return e
    raise AssertionError(f"{sql} was not refused (expected {error.__name__}, SQLSTATE {sqlstate})")


def still_works(conn, what):
    (n,) = conn.execute("SELECT count(*) FROM weather.env WHERE series = 'KSEA'").fetchone()
    check(n == 2, f"after {what}: the connection answered count {n!r}, expected 2")


def connection_refused(what, needle=None, **kwargs):
    try:
        connect(**kwargs).close()
    except psycopg.OperationalError as e:
        if needle is not None:
            check(needle in str(e), f"{what}: {needle!r} not in {str(e)!r}")
        return
    raise AssertionError(f"{what}: the connection was accepted")


# --- psycopg: session basics --------------------------------------------------------------------
with connect(ROOT, prepare_threshold=None) as conn:
    check(conn.info.server_version >= 100000, f"server_version parameter: {conn.info.server_version}")
    (version,) = conn.execute("SHOW server_version").fetchone()
    check(re.match(r"\d+(\.\d+)?", version or ""), f"SHOW server_version: {version!r}")
    (banner,) = conn.execute("SELECT version()").fetchone()
    # SQLAlchemy parses this with `PostgreSQL (\d+)\.?(\d+)?` and refuses to connect otherwise.
    check(re.search(r"PostgreSQL \d+", banner or ""), f"SELECT version(): {banner!r}")
    conn.execute("SET application_name = 'x'")
    (name,) = conn.execute("SHOW application_name").fetchone()
    check(name == "x", f"SHOW application_name after SET: {name!r}")

    # An explicit transaction on an autocommit connection: the status of ReadyForQuery.
    check(conn.info.transaction_status == TransactionStatus.IDLE, f"status at start: {conn.info.transaction_status!r}")
    conn.execute("BEGIN")
    check(conn.info.transaction_status == TransactionStatus.INTRANS, f"after BEGIN: {conn.info.transaction_status!r}")
    still_works(conn, "BEGIN")
    conn.execute("COMMIT")
    check(conn.info.transaction_status == TransactionStatus.IDLE, f"after COMMIT: {conn.info.transaction_status!r}")

    # --- parameters: timezone-aware datetimes, text results ---
    rows = conn.execute(RANGE_SQL, (T0, T0 + 3 * SEC)).fetchall()
    check_known(rows, "text results")
    # The same instants written with another offset select the same rows.
    pacific = timezone(timedelta(hours=-8))
    (n,) = conn.execute(
        "SELECT count(*) FROM weather.env WHERE ts >= %s AND ts < %s",
        (T0.astimezone(pacific), (T0 + 3 * SEC).astimezone(pacific)),
    ).fetchone()
    check(n == 3, f"a range given at UTC-8 counted {n!r} rows, expected 3")

    # --- binary results; then binary parameters as well (%b) ---
    with conn.cursor(binary=True) as cur:
        check_known(cur.execute(RANGE_SQL, (T0, T0 + 3 * SEC)).fetchall(), "binary results")
        check_known(cur.execute(RANGE_SQL.replace("%s", "%b"), (T0, T0 + 3 * SEC)).fetchall(), "binary parameters")

    # --- NULLs ---
    rows = conn.execute("SELECT temp, code FROM weather.env WHERE series = %s", ("KPDX",)).fetchall()
    check(rows == [(None, 3)], f"KPDX (temp NULL): {rows!r}, expected [(None, 3)]")
    rows = conn.execute("SELECT temp, code FROM weather.env WHERE series = %s", ("KPDX",), binary=True).fetchall()
    check(rows == [(None, 3)], f"KPDX in binary: {rows!r}, expected [(None, 3)]")
    (total, with_temp) = conn.execute(
        "SELECT count(*), count(temp) FROM weather.env WHERE series IN ('KSEA', 'KPDX')"
    ).fetchone()
    check((total, with_temp) == (3, 2), f"count(*), count(temp): {(total, with_temp)!r}, expected (3, 2)")
    (n,) = conn.execute("SELECT count(*) FROM weather.env WHERE temp IS NULL AND series = 'KPDX'").fetchone()
    check(n == 1, f"temp IS NULL counted {n!r}, expected 1")

    # --- the table relation in schema public: dotted column names quoted ---
    temps = [r[0] for r in conn.execute("""SELECT "env.temp" FROM weather WHERE series = 'KSEA' ORDER BY ts""")]
    check(temps == [11.5, 12.0], f'public.weather "env.temp": {temps!r}')

    # --- a larger result: whole, then through a server-side cursor ---
    rows = conn.execute("SELECT ts, temp FROM weather.env WHERE series = %s ORDER BY ts", ("BIG",)).fetchall()
    check(len(rows) == BIG_ROWS, f"BIG fetched whole: {len(rows)} rows, expected {BIG_ROWS}")
    check(sum(r[1] for r in rows) == BIG_SUM, f"BIG fetched whole: sum {sum(r[1] for r in rows)}, expected {BIG_SUM}")
    check(rows[0][0] == BIG_T0, f"BIG first ts {rows[0][0]!r}, expected {BIG_T0!r}")
    check(all(a[0] < b[0] for a, b in zip(rows, rows[1:])), "BIG fetched whole: ts not strictly increasing")

    with conn.transaction():
        check(conn.info.transaction_status == TransactionStatus.INTRANS, "conn.transaction() did not open one")
        with conn.cursor(name="big") as cur:
            cur.itersize = 5000
            cur.execute("SELECT ts, temp FROM weather.env WHERE series = %s ORDER BY ts", ("BIG",))
            names = [c.name for c in cur.description or []]
            check(names == ["ts", "temp"], f"the declared cursor describes columns {names!r}")
            first = cur.fetchmany(1000)
            check(len(first) == 1000, f"fetchmany(1000) on the cursor: {len(first)} rows")
            check([r[1] for r in first] == [float(i) for i in range(1000)], "fetchmany(1000): not 0.0 .. 999.0")
            check_utc(first[0][0], "server-side cursor")
            count, total = len(first), sum(r[1] for r in first)
            for row in cur:  # FETCH FORWARD 5000 at a time
                count += 1
                total += row[1]
            check(cur.fetchall() == [], "the cursor had rows left after its iteration")
            check((count, total) == (BIG_ROWS, BIG_SUM), f"server-side cursor: {count} rows, sum {total}")
    check(conn.info.transaction_status == TransactionStatus.IDLE, f"after the transaction: {conn.info.transaction_status!r}")
    (n, s) = conn.execute("SELECT count(*), sum(temp) FROM weather.env WHERE series = 'BIG'").fetchone()
    check((n, s) == (BIG_ROWS, BIG_SUM), f"count, sum over BIG: {(n, s)!r}")

    # --- refusals on an autocommit connection, simple and extended protocol ---
    refused(conn, "SELECT * FROM weather.nope", None, errors.UndefinedTable, "42P01", "nope")
    still_works(conn, "an unknown table (simple protocol)")
    refused(conn, "SELECT * FROM nope WHERE series = %s", ("KSEA",), errors.UndefinedTable, "42P01", "nope")
    still_works(conn, "an unknown table (extended protocol)")
    refused(conn, "SELEC 1", None, errors.SyntaxError, "42601")
    still_works(conn, "a syntax error (simple protocol)")
    refused(conn, "SELEC %s", (1,), errors.SyntaxError, "42601")
    still_works(conn, "a syntax error (extended protocol)")

# --- statements prepared by psycopg: Parse once with a name, then Bind/Execute only ---
with connect(ROOT, prepare_threshold=0) as conn:
    query = "SELECT temp FROM weather.env WHERE series = %s AND ts >= %s AND ts < %s ORDER BY ts"
    cases = [("KSEA", [11.5, 12.0]), ("KPDX", [None]), ("NOWHERE", [])]
    for attempt in range(3):
        for series, want in cases:
            for binary in (False, True):
                got = [r[0] for r in conn.execute(query, (series, T0, T0 + 3 * SEC), binary=binary)]
                check(got == want, f"prepared, run {attempt}, {series}, binary={binary}: {got!r}, expected {want!r}")
    rows = conn.execute(RANGE_SQL, (T0, T0 + 3 * SEC)).fetchall()
    check_known(rows, "prepared range query, first run")
    check_known(conn.execute(RANGE_SQL, (T0, T0 + 3 * SEC)).fetchall(), "prepared range query, second run")

# --- refusals inside a transaction: the status turns to error until ROLLBACK ---
with connect(ROOT, autocommit=False) as conn:
    still_works(conn, "the implicit BEGIN")
    check(conn.info.transaction_status == TransactionStatus.INTRANS, f"psycopg's BEGIN: {conn.info.transaction_status!r}")
    refused(conn, "SELECT * FROM weather.nope", None, errors.UndefinedTable, "42P01")
    check(
        conn.info.transaction_status == TransactionStatus.INERROR,
        f"after an error in a transaction the status is {conn.info.transaction_status!r}, expected INERROR",
    )
    conn.rollback()
    check(conn.info.transaction_status == TransactionStatus.IDLE, f"after ROLLBACK: {conn.info.transaction_status!r}")
    still_works(conn, "an error in a transaction and ROLLBACK")
    refused(conn, "SELEC 1", None, errors.SyntaxError, "42601")
    conn.rollback()
    still_works(conn, "a syntax error in a transaction and ROLLBACK")
    conn.commit()

# --- permissions: each token reads its own table only ---
with connect(WEATHER_ONLY, user="weather-reader") as conn:
    (n,) = conn.execute("SELECT count(*) FROM weather.env").fetchone()
    check(n == BIG_ROWS + 3, f"weather-reader counted {n} rows of weather.env, expected {BIG_ROWS + 3}")
    refused(conn, "SELECT * FROM other.m", None, errors.InsufficientPrivilege, "42501", "other")
    still_works(conn, "a refused table")
    refused(
        conn,
        "SELECT * FROM weather.env JOIN other.m USING (series, ts) WHERE series = %s",
        ("KSEA",),
        errors.InsufficientPrivilege,
        "42501",
        "other",
    )
    still_works(conn, "a refused join")

with connect(OTHER_ONLY, user="other-reader") as conn:
    (n,) = conn.execute("SELECT count(*) FROM other.m").fetchone()
    check(n == 1, f"other-reader counted {n} rows of other.m, expected 1")
    refused(conn, "SELECT * FROM weather.env", None, errors.InsufficientPrivilege, "42501", "weather")
    (n,) = conn.execute("SELECT count(*) FROM other.m").fetchone()
    check(n == 1, f"other-reader after a refusal counted {n}, expected 1")

# --- cancel: the protocol's CancelRequest (what psql's Ctrl-C sends) stops a running query ---
# A three-way cross join of BIG counts 1.25e14 triples: days of work, stopped after 0.5 s. (A
# two-way join of BIG counts 2.5e9 pairs in about a second on a fast machine: its batches have no
# columns, so the count is a sum of batch lengths, and it could end before the cancel came.)
import threading
import time

with connect(ROOT) as conn:
    timer = threading.Timer(0.5, conn.cancel)
    timer.start()
    started = time.monotonic()
    try:
        conn.execute(
            "SELECT count(*) FROM weather.env a CROSS JOIN weather.env b CROSS JOIN weather.env c"
            " WHERE a.series = 'BIG' AND b.series = 'BIG' AND c.series = 'BIG'"
        ).fetchone()
        raise SystemExit("FAILED: the cancelled query ran to its end")
    except errors.QueryCanceled as e:
        check(e.sqlstate == "57014", f"cancel: SQLSTATE {e.sqlstate}")
    finally:
        timer.cancel()
    elapsed = time.monotonic() - started
    check(elapsed < 10, f"cancel took {elapsed:.1f} s to stop the query")
    still_works(conn, "after a cancelled query")

# --- refused connections ---
connection_refused("a wrong password", "password authentication failed", token="not-the-token")
connection_refused("no password", None, token=None)
connection_refused("database postgres", None, token=ROOT, dbname="postgres")

# --- SQLAlchemy 2 over psycopg, and pandas ---
url = URL.create(
    "postgresql+psycopg",
    username="root",
    password=ROOT,
    host=HOST,
    port=PORT,
    database="isobar",
    query={"sslmode": "disable", "connect_timeout": "10"},
)
engine = create_engine(url)
try:
    with engine.connect() as conn:
        frame = pd.read_sql(
            text("SELECT series, ts, temp FROM weather.env WHERE ts BETWEEN :a AND :b ORDER BY ts"),
            conn,
            params={"a": T0, "b": T0 + 2 * SEC},
        )
    check(len(frame) == 3, f"read_sql: {len(frame)} rows, expected 3:\n{frame}")
    check(list(frame["series"]) == ["KSEA", "KSEA", "KPDX"], f"read_sql series:\n{frame}")
    dtype = frame["ts"].dtype
    check(
        isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "UTC",
        f"read_sql ts dtype {dtype}, expected datetime64[ns, UTC] (tz-aware)",
    )
    want_ts = [pd.Timestamp(T0), pd.Timestamp(T0 + SEC), pd.Timestamp(T0 + 2 * SEC)]
    check(list(frame["ts"]) == want_ts, f"read_sql ts {list(frame['ts'])!r}, expected {want_ts!r}")
    temps = list(frame["temp"])
    check(temps[:2] == [11.5, 12.0] and pd.isna(temps[2]), f"read_sql temp {temps!r}, expected [11.5, 12.0, NaN]")

    inspector = inspect(engine)
    schemas = inspector.get_schema_names()
    check({"public", "weather", "other"} <= set(schemas), f"get_schema_names: {schemas!r}")
    tables = inspector.get_table_names(schema="weather")
    check({"env", "meta"} <= set(tables), f"get_table_names(schema='weather'): {tables!r}")
    public = inspector.get_table_names()
    check({"weather", "other"} <= set(public), f"get_table_names() (schema public): {public!r}")
    columns = inspector.get_columns("env", schema="weather")
    names = [c["name"] for c in columns]
    check(names == ["series", "ts", "temp", "code"], f"get_columns('env', schema='weather'): {names!r}")
    types = {c["name"]: c["type"] for c in columns}
    check(isinstance(types["temp"], sqltypes.Float), f"temp reflected as {types['temp']!r}, expected DOUBLE PRECISION")
    check(
        isinstance(types["ts"], sqltypes.DateTime) and types["ts"].timezone,
        f"ts reflected as {types['ts']!r}, expected TIMESTAMP WITH TIME ZONE",
    )
    check(isinstance(types["code"], sqltypes.BigInteger), f"code reflected as {types['code']!r}, expected BIGINT")
finally:
    engine.dispose()

print("pg clients ok")
