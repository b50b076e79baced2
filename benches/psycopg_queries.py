"""Times one SQL query over Isobar's PostgreSQL protocol with psycopg 3 (libpq), for
`sql_server_bench --psycopg`: one connection opened once, then RUNS executions, each fetching
every row (text results, what psycopg and most drivers use by default), after one warm-up run.
Prints "<median ms> <min ms>" and fails when a run returns other than ROWS rows.

Usage: psycopg_queries.py HOST PORT RUNS ROWS SQL
"""
import statistics
import sys
import time

import psycopg

host, port, runs, rows, sql = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
conn = psycopg.connect(host=host, port=port, dbname="isobar", user="bench", sslmode="disable", autocommit=True)
cur = conn.cursor()
cur.execute(sql)
got = len(cur.fetchall())
if got != rows:
    raise SystemExit(f"{got} rows over PostgreSQL, {rows} natively: {sql}")
times = []
for _ in range(runs):
    start = time.perf_counter()
    cur.execute(sql)
    n = len(cur.fetchall())
    times.append((time.perf_counter() - start) * 1e3)
    if n != rows:
        raise SystemExit(f"{n} rows over PostgreSQL, {rows} natively: {sql}")
print(f"{statistics.median(times):.3f} {min(times):.3f}")
