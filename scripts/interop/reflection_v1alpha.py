"""Interoperability check of gRPC server reflection `v1alpha` with grpcio-reflection, the Python
client that speaks only v1alpha.

Usage: python reflection_v1alpha.py ADDRESS

Lists the services through ProtoReflectionDescriptorDatabase (v1alpha only), checks that the
Isobar services, health and Arrow Flight SQL are listed, and resolves `isobar.v1.Query` into a
service descriptor with its methods. Prints "reflection v1alpha ok" on success; exits non-zero
on any mismatch.
"""

import sys

import grpc
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

channel = grpc.insecure_channel(sys.argv[1])
database = ProtoReflectionDescriptorDatabase(channel)
services = set(database.get_services())
for expected in (
    "isobar.v1.Ingest",
    "isobar.v1.Query",
    "isobar.v1.Admin",
    "grpc.health.v1.Health",
    "arrow.flight.protocol.FlightService",
):
    assert expected in services, f"{expected} not listed: {sorted(services)}"
query = DescriptorPool(database).FindServiceByName("isobar.v1.Query")
methods = {m.name for m in query.methods}
assert {"Scan", "Aggregate", "Latest"} <= methods, methods
print("reflection v1alpha ok", sorted(services))
