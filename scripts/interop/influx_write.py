"""Writes line protocol to Isobar with the official InfluxDB v2 Python client (influxdb-client).

Usage: influx_write.py http://127.0.0.1:PORT

Three writes, each asserted to succeed by the client (it raises on any non-2xx answer):
- gzip-compressed points with second precision,
- a raw line-protocol string with millisecond precision,
- a bad line, which must come back as HTTP 400 naming the line.
The Rust test (tests/e2e_python_influx.rs) then reads the data back through Isobar's scan.
"""

import sys

from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

url = sys.argv[1]
with InfluxDBClient(url=url, token="any-token", org="acme", enable_gzip=True) as client:
    assert client.ping(), "ping failed"
    write = client.write_api(write_options=SYNCHRONOUS)
    points = [
        Point("weather").tag("station", "KSEA").tag("region", "us west").field("temp_c", 11.5).field("gusts", 3).time(1_700_000_000, WritePrecision.S),
        Point("weather").tag("region", "us west").tag("station", "KSEA").field("temp_c", 11.75).field("sky", "clear, dry").time(1_700_000_060, WritePrecision.S),
        Point("weather").tag("station", "KPDX").field("temp_c", 9.0).field("raining", True).time(1_700_000_000, WritePrecision.S),
    ]
    write.write(bucket="iot", record=points, write_precision=WritePrecision.S)
    write.write(bucket="iot", record="weather,station=KBOI temp_c=-2.5 1700000000123", write_precision=WritePrecision.MS)
    try:
        write.write(bucket="iot", record="weather,station=KBOI temp_c=1\nweather,station=KBOI temp_c=", write_precision=WritePrecision.S)
        raise AssertionError("the bad line was accepted")
    except ApiException as e:
        assert e.status == 400, e.status
        assert "line 2" in e.body, e.body
print("influxdb-client ok: 4 points")
