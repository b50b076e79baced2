"""Sends OTLP metrics to Isobar with the OpenTelemetry Python SDK and its OTLP/gRPC exporter.

Usage: otlp_metrics.py 127.0.0.1:PORT

An observable gauge `station.temperature` (two stations) and a counter `rain.tips` (3 + 4 for
one station, so the cumulative sum is 7) are collected once and exported by force_flush over an
insecure channel; the exporter's own result (one successful export) is checked. The Rust test
(tests/e2e_python_otlp.rs) then reads the data back through Isobar's scan.
"""

import sys

from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.metrics import Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExportResult, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

endpoint = sys.argv[1]


class CheckedExporter(OTLPMetricExporter):
    """The OTLP exporter, remembering the result of every export."""

    results = []

    def export(self, metrics_data, timeout_millis=10_000, **kwargs):
        result = super().export(metrics_data, timeout_millis=timeout_millis, **kwargs)
        self.results.append(result)
        return result


exporter = CheckedExporter(endpoint=endpoint, insecure=True, timeout=10)
# A long interval: only force_flush exports.
reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
# No shutdown on exit: shutting the provider down would collect and export a second time.
provider = MeterProvider(
    resource=Resource.create({"service.name": "weather-station"}), metric_readers=[reader], shutdown_on_exit=False
)
meter = provider.get_meter("isobar-interop")


def temperatures(_options):
    yield Observation(11.5, {"station": "KSEA"})
    yield Observation(-2.5, {"station": "KBOI"})


meter.create_observable_gauge("station.temperature", callbacks=[temperatures], unit="Cel")
tips = meter.create_counter("rain.tips")
tips.add(3, {"station": "KSEA"})
tips.add(4, {"station": "KSEA"})

assert provider.force_flush(timeout_millis=20_000), "force_flush failed"
assert exporter.results == [MetricExportResult.SUCCESS], exporter.results
exporter.shutdown()
print(f"opentelemetry-sdk ok: {len(exporter.results)} export(s)")
