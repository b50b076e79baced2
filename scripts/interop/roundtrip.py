"""Interoperability check with a client nobody here wrote: Python grpcio stubs generated from
proto/isobar/v1/*.proto by grpcio-tools, and pyarrow to decode the Arrow IPC answer.

Usage: python roundtrip.py STUBS_DIR ADDRESS
  STUBS_DIR  directory holding the generated isobar/v1/*_pb2*.py modules
  ADDRESS    host:port of a running Isobar server with an empty database

Creates a table, writes columnar batches (with a null) and rows, streams a write, scans back,
checks every value, checks that bad input gets the documented status codes. Exits non-zero on
any mismatch (assert).
"""

import sys

sys.path.insert(0, sys.argv[1])
ADDRESS = sys.argv[2]

import grpc  # noqa: E402
import pyarrow as pa  # noqa: E402

from isobar.v1 import admin_pb2, admin_pb2_grpc, common_pb2, ingest_pb2, ingest_pb2_grpc  # noqa: E402
from isobar.v1 import query_pb2, query_pb2_grpc, table_pb2  # noqa: E402

T0 = 1_700_000_000_000_000_000
SEC = 1_000_000_000

channel = grpc.insecure_channel(ADDRESS)
admin = admin_pb2_grpc.AdminStub(channel)
ingest = ingest_pb2_grpc.IngestStub(channel)
query = query_pb2_grpc.QueryStub(channel)

spec = table_pb2.TableSpec(
    name="py_weather",
    families=[
        table_pb2.FamilySpec(
            name="env",
            columns=[
                table_pb2.ColumnSpec(name="temp", type=common_pb2.COLUMN_TYPE_F64),
                table_pb2.ColumnSpec(name="ok", type=common_pb2.COLUMN_TYPE_BOOL),
            ],
        ),
        table_pb2.FamilySpec(
            name="meta", columns=[table_pb2.ColumnSpec(name="note", type=common_pb2.COLUMN_TYPE_STRING)]
        ),
    ],
)
created = admin.CreateTable(admin_pb2.CreateTableRequest(table=spec))
assert created.created and created.table.name == "py_weather", created

# Columnar: 3 rows, temp null in row 1 (validity bits 0b101).
batch = ingest_pb2.SeriesBatch(
    table="py_weather",
    series="station=PY1",
    ts=[T0, T0 + SEC, T0 + 2 * SEC],
    columns=[
        ingest_pb2.Column(
            family="env", name="temp", f64_values=ingest_pb2.DoubleValues(values=[20.5, 0.0, 22.25]), validity=bytes([0b101])
        ),
        ingest_pb2.Column(family="env", name="ok", bool_values=ingest_pb2.BoolValues(values=[True, False, True])),
        ingest_pb2.Column(family="meta", name="note", string_values=ingest_pb2.StringValues(values=["a", "b,c", "ü"])),
    ],
)
ack = ingest.Write(ingest_pb2.WriteRequest(batches=[batch]))
assert (ack.rows, ack.points, ack.messages) == (3, 8, 1), ack
assert ack.durability == ingest_pb2.DURABILITY_SYNCED, ack

# Row form.
row = ingest_pb2.Row(
    table="py_weather", series="station=PY2", ts=T0, cells=[ingest_pb2.Cell(family="env", column="temp", f64_value=-3.5)]
)
assert ingest.Write(ingest_pb2.WriteRequest(rows=[row])).points == 1

# Client streaming.
def messages():
    for i in range(3):
        yield ingest_pb2.WriteRequest(
            batches=[
                ingest_pb2.SeriesBatch(
                    table="py_weather",
                    series="station=PY3",
                    ts=[T0 + i * SEC],
                    columns=[ingest_pb2.Column(family="env", name="temp", f64_values=ingest_pb2.DoubleValues(values=[float(i)]))],
                )
            ]
        )


streamed = ingest.WriteStream(messages())
assert (streamed.messages, streamed.rows) == (3, 3), streamed

# Scan back and decode the concatenated Arrow IPC stream with pyarrow.
scan = query_pb2.ScanRequest(
    table="py_weather", selector=common_pb2.SeriesSelector(all=common_pb2.AllSeries()), batch_rows=2
)
pieces = list(query.Scan(scan))
assert pieces[0].rows == 0 and pieces[-1].rows == 0, "schema first, end-of-stream marker last"
table = pa.ipc.open_stream(b"".join(p.ipc for p in pieces)).read_all()
assert table.column_names == ["series", "ts", "env.temp", "env.ok", "meta.note"], table.column_names
assert table.schema.field("ts").type == pa.timestamp("ns", tz="UTC"), table.schema
rows = table.to_pylist()
ts = table.column("ts").cast(pa.int64()).to_pylist()
got = [(r["series"], t, r["env.temp"], r["env.ok"], r["meta.note"]) for r, t in zip(rows, ts)]
want = [
    ("station=PY1", T0, 20.5, True, "a"),
    ("station=PY1", T0 + SEC, None, False, "b,c"),
    ("station=PY1", T0 + 2 * SEC, 22.25, True, "ü"),
    ("station=PY2", T0, -3.5, None, None),
    ("station=PY3", T0, 0.0, None, None),
    ("station=PY3", T0 + SEC, 1.0, None, None),
    ("station=PY3", T0 + 2 * SEC, 2.0, None, None),
]
assert got == want, f"scan mismatch:\n got  {got}\n want {want}"
# Each batch message decodes on its own after the schema message.
alone = pa.ipc.open_stream(pieces[0].ipc + pieces[2].ipc).read_all()
assert alone.num_rows == pieces[2].rows

# Bad input gets the documented codes, and changes nothing.
try:
    ingest.Write(ingest_pb2.WriteRequest(batches=[ingest_pb2.SeriesBatch(table="nope", series="s", ts=[T0])]))
    raise AssertionError("a write to an unknown table must fail")
except grpc.RpcError as e:
    assert e.code() == grpc.StatusCode.NOT_FOUND, e
    assert '"nope"' in e.details(), e.details()
try:
    bad = ingest_pb2.SeriesBatch(
        table="py_weather", series="station=BAD", ts=[T0, T0 + 1],
        columns=[ingest_pb2.Column(family="env", name="temp", f64_values=ingest_pb2.DoubleValues(values=[1.0]))],
    )
    ingest.Write(ingest_pb2.WriteRequest(batches=[bad]))
    raise AssertionError("a malformed batch must fail")
except grpc.RpcError as e:
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e
    assert "has 1 values but the batch has 2 timestamps" in e.details(), e.details()
again = pa.ipc.open_stream(b"".join(p.ipc for p in query.Scan(scan))).read_all()
assert again.num_rows == len(want), again.num_rows

stats = admin.Stats(admin_pb2.StatsRequest(table="py_weather"))
assert stats.tables[0].table == "py_weather"
print(f"python interop ok: {len(want)} rows round-tripped through grpcio + pyarrow")
