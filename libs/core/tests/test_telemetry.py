"""Logs carry the trace id; OTLP export goes where the configuration says."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import structlog
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pangolin_core.telemetry import (
    configure_logging,
    extract_context,
    inject_context,
    setup_telemetry,
)


def test_a_log_line_inside_a_span_carries_its_trace_and_span_ids(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(level="INFO", json=True)
    telemetry = setup_telemetry("permit-verify")
    with telemetry.tracer.start_as_current_span("verify declaration") as span:
        structlog.get_logger("pangolin.test").info("permit_checked", permit="KE/2026/E/000123")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    context = span.get_span_context()
    assert line["event"] == "permit_checked"
    assert line["trace_id"] == format(context.trace_id, "032x")
    assert line["span_id"] == format(context.span_id, "016x")
    assert line["level"] == "info"


def test_without_an_exporter_spans_are_not_recorded_but_keep_ids_that_propagate() -> None:
    telemetry = setup_telemetry("gateway")
    with telemetry.tracer.start_as_current_span("proxy") as span:
        headers: dict[str, str] = {}
        inject_context(headers)
    assert not span.is_recording()
    sent = span.get_span_context()
    assert sent.is_valid

    receiver = setup_telemetry("permit-verify")
    with receiver.tracer.start_as_current_span(
        "verify declaration", context=extract_context(headers)
    ) as child:
        pass
    assert child.get_span_context().trace_id == sent.trace_id
    assert headers["traceparent"].split("-")[2] == format(sent.span_id, "016x")


def test_with_an_exporter_every_span_is_recorded() -> None:
    exporter = InMemorySpanExporter()
    telemetry = setup_telemetry("risk-score", span_exporter=exporter)
    with telemetry.tracer.start_as_current_span("assess declaration") as span:
        pass
    assert span.is_recording() is False  # ended
    assert [s.name for s in exporter.get_finished_spans()] == ["assess declaration"]


class Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, str, int]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Collector.received.append((self.path, self.headers["Content-Type"], len(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[str]:
    Collector.received = []
    server = HTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_spans_and_metrics_are_exported_over_otlp_when_configured(collector: str) -> None:
    telemetry = setup_telemetry("risk-score", otlp_endpoint=collector)
    with telemetry.tracer.start_as_current_span("assess declaration"):
        telemetry.meter.create_counter("pangolin.test.decisions").add(1, {"lane": "red"})
    assert telemetry.tracer_provider.force_flush(5000)
    assert telemetry.meter_provider.force_flush(5000)
    telemetry.shutdown()
    paths = {(path, ctype) for path, ctype, size in Collector.received if size > 0}
    assert ("/v1/traces", "application/x-protobuf") in paths
    assert ("/v1/metrics", "application/x-protobuf") in paths
