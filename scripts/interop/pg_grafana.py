"""Replays the statements Grafana's PostgreSQL data source sends (tests/fixtures/grafana_postgres.sql)
against Isobar's PostgreSQL front end over the simple query protocol, as Grafana's drivers send
them, and checks each answer; for the panel queries also that EXPLAIN shows the time range (and,
for time_bucket / date_bin, the whole aggregate) answered by the engine rather than a full scan.

Usage: pg_grafana.py HOST PORT TOKEN FIXTURE

The data (written by tests/e2e_postgres_clients.rs): table `weather`, family `env` (temp, hum),
series KSEA, KPDX, KBOI, one row a minute from 2023-11-14T22:00:00Z for 120 minutes, with
temp = minute / 2 + offset (KSEA 10, KPDX 20, KBOI 30) and hum = 50 + minute % 7.
"""
import datetime as dt
import math
import sys

import psycopg

HOST, PORT, TOKEN, FIXTURE = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
START = dt.datetime(2023, 11, 14, 22, 0, tzinfo=dt.timezone.utc)
OFFSETS = {"KSEA": 10.0, "KPDX": 20.0, "KBOI": 30.0}
MINUTES = 120


def check(ok, message):
    if not ok:
        raise SystemExit(f"FAILED: {message}")


def entries(path):
    """The fixture's entries: name -> statement text (without the fixture's closing `;`)."""
    out, current = {}, None
    for line in open(path, encoding="utf-8"):
        if line.startswith("-- @@ "):
            current = line[6:].strip()
            out[current] = []
            continue
        if current is None or current not in out or isinstance(out[current], str):
            continue
        if not out[current] and (line.startswith("-- source:") or line.startswith("-- expect:")):
            continue
        out[current].append(line.rstrip("\n"))
        if line.rstrip().endswith(";"):
            text = "\n".join(out[current]).rstrip()
            out[current] = text if text == ";" else text[:-1]
    return out


def minute_avgs(column):
    """Expected per-minute average over the three series of `column`."""
    avgs = []
    for m in range(MINUTES):
        if column == "temp":
            values = [m / 2 + off for off in OFFSETS.values()]
        else:
            values = [50 + m % 7 for _ in OFFSETS]
        avgs.append(sum(values) / len(values))
    return avgs


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)


sql = entries(FIXTURE)
check(len(sql) >= 12, f"fixture has {len(sql)} entries")
conn = psycopg.connect(
    host=HOST, port=PORT, dbname="isobar", user="grafana", password=TOKEN, sslmode="disable",
    autocommit=True, cursor_factory=psycopg.ClientCursor,
)


def run(name):
    cur = conn.execute(sql[name])
    return cur, (cur.fetchall() if cur.description else None)


def explain(name):
    return "\n".join(r[-1] for r in conn.execute("EXPLAIN " + sql[name]).fetchall())


for ping in ("health_ping_libpq", "health_ping_pgx"):
    cur, rows = run(ping)
    check(rows is None, f"{ping}: expected no rows, got {rows!r}")

_, rows = run("server_version_num")
check(rows == [(1500,)], f"server_version_num: {rows!r}")

_, rows = run("timescaledb_detect")
check(rows == [], f"timescaledb_detect: {rows!r}")

_, rows = run("schema_list")
check([r[0] for r in rows] == ["public", "weather"], f"schema_list: {rows!r}")

_, rows = run("table_list")
names = {r[0] for r in rows}
check(any(n.endswith("weather") and "env" not in n for n in names) and "weather.env" in names, f"table_list: {rows!r}")

_, rows = run("columns_weather_env")
check(
    dict(rows) == {"series": "text", "ts": "timestamp with time zone", "temp": "double precision", "hum": "double precision"},
    f"columns_weather_env: {rows!r}",
)

# The time-series panel, Grafana's default macro: epoch seconds per minute.
_, rows = run("timeseries_timegroupalias")
check(len(rows) == MINUTES, f"timegroupalias: {len(rows)} rows, expected {MINUTES}")
temps, hums = minute_avgs("temp"), minute_avgs("hum")
for m, (t, temp, hum) in enumerate(rows):
    want = (START + dt.timedelta(minutes=m)).timestamp()
    check(close(t, want) and close(temp, temps[m]) and close(hum, hums[m]), f"timegroupalias row {m}: {(t, temp, hum)!r}")
plan = explain("timeseries_timegroupalias")
check("IsobarExec: scan weather.env" in plan and "ts=[2023-11-14T22:00:00Z" in plan, f"timegroupalias reads only the range:\n{plan}")

# With the TimescaleDB option (time_bucket) and with date_bin: the engine answers the aggregate.
for name, columns in (("timeseries_time_bucket", 2), ("timeseries_date_bin", 3)):
    _, rows = run(name)
    check(len(rows) == MINUTES, f"{name}: {len(rows)} rows")
    for m, row in enumerate(rows):
        check(row[0] == START + dt.timedelta(minutes=m) and close(row[1], temps[m]), f"{name} row {m}: {row!r}")
        if columns == 3:
            check(close(row[2], hums[m]), f"{name} row {m}: {row!r}")
    plan = explain(name)
    check("IsobarEngine: aggregate weather.env" in plan and "bucket=1m" in plan, f"{name} is not pushed down:\n{plan}")

_, rows = run("table_panel_timefilter")
check(len(rows) == 3 * MINUTES and all(rows[i][1] <= rows[i + 1][1] for i in range(len(rows) - 1)), f"table panel: {len(rows)} rows")
plan = explain("table_panel_timefilter")
check("ts=[2023-11-14T22:00:00Z" in plan, f"table panel reads only the range:\n{plan}")

_, rows = run("raw_timefrom_timeto")
check(len(rows) == 3 * MINUTES, f"raw_timefrom_timeto: {len(rows)} rows")

_, rows = run("builder_aggregate")
want = {s: sum(m / 2 + off for m in range(MINUTES)) / MINUTES for s, off in OFFSETS.items()}
check({s: round(v, 9) for s, v in rows} == {s: round(v, 9) for s, v in want.items()}, f"builder_aggregate: {rows!r}")

print("pg grafana ok")
