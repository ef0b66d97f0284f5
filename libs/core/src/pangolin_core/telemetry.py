"""OpenTelemetry tracing and metrics, and JSON logs that carry the trace id.

Each app owns its providers (no global provider is set), so several apps can live in one
process, as they do in tests, each with its own `service.name`. Trace context crosses NATS in
message headers with the W3C `traceparent` propagator.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import structlog
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.metrics import Meter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import Tracer


@dataclass
class Telemetry:
    service_name: str
    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    @property
    def tracer(self) -> Tracer:
        return self.tracer_provider.get_tracer("pangolin")

    @property
    def meter(self) -> Meter:
        return self.meter_provider.get_meter("pangolin")

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def setup_telemetry(
    service_name: str,
    *,
    otlp_endpoint: str | None = None,
    span_exporter: SpanExporter | None = None,
    metric_readers: list[MetricReader] | None = None,
) -> Telemetry:
    """Providers for one app. OTLP/HTTP export when `otlp_endpoint` is set; tests pass an
    in-memory `span_exporter` (exported synchronously so they can read it at once).

    With neither, no span is recorded: spans still get their ids, so logs carry `trace_id`
    and `span_id` and `traceparent` still crosses HTTP and NATS, but nothing builds spans
    that no one reads (about a tenth of permit-verify's CPU per verification,
    `bench/verify_cpu.py`). When exporting, the sampler is the SDK's, from
    `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` (default: every span)."""
    resource = Resource.create({"service.name": service_name, "service.namespace": "pangolin"})
    exporting = span_exporter is not None or bool(otlp_endpoint)
    tracer_provider = TracerProvider(resource=resource, sampler=None if exporting else ALWAYS_OFF)
    readers = list(metric_readers or [])
    if span_exporter is not None:
        tracer_provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        base = otlp_endpoint.rstrip("/")
        tracer_provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces"))
        )
        readers.append(
            PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=f"{base}/v1/metrics"))
        )
    meter_provider = MeterProvider(resource=resource, metric_readers=readers)
    return Telemetry(service_name, tracer_provider, meter_provider)


def inject_context(headers: MutableMapping[str, str], context: Context | None = None) -> None:
    """Write `traceparent` (and `tracestate`) of `context` (default: current) into headers."""
    propagate.inject(headers, context=context)


def extract_context(headers: Mapping[str, str] | None) -> Context:
    return propagate.extract(dict(headers or {}))


def _add_trace_ids(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> Any:
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event_dict["trace_id"] = format(ctx.trace_id, "032x")
        event_dict["span_id"] = format(ctx.span_id, "016x")
    return event_dict


def configure_logging(*, level: str = "INFO", json: bool = True) -> None:
    """structlog for our code and the standard library (uvicorn, alembic) alike."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_ids,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def instrument_engine(engine: Any, telemetry: Telemetry) -> None:
    """Trace one (synchronous) SQLAlchemy engine with this app's providers (the
    instrumentor's global `instrument()` would trace every engine in the process with the
    first app's)."""
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    usage = telemetry.meter.create_up_down_counter(
        "db.client.connections.usage", unit="{connection}"
    )
    EngineTracer(telemetry.tracer, engine, usage)  # type: ignore[no-untyped-call]


def instrument_httpx_client(client: Any, telemetry: Telemetry) -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor.instrument_client(
        client,
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
    )
