"""Optional OpenTelemetry tracing, off unless configured.

On when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) is set and
the SDK and OTLP exporter are installed (``pip install opentelemetry-sdk
opentelemetry-exporter-otlp-proto-http``); they are not project dependencies.
When on:

- each web request gets a server span (``RequestIdMiddleware``), continuing an
  incoming ``traceparent``;
- a job deferred during a request carries that request's trace context as the
  task's ``trace_context`` kwarg (``job_kwargs``);
- the worker runs each pipeline job in a span (``job_span``) that continues that
  trace, with the job id and entry id as attributes.

When off, every helper here is a no-op and no job carries ``trace_context``.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

logger = logging.getLogger(__name__)
_enabled: bool | None = None


def enabled() -> bool:
    global _enabled
    if _enabled is None:
        _enabled = _configure()
    return _enabled


def _configure() -> bool:
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )
    if not endpoint or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        logger.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but the OpenTelemetry SDK or OTLP exporter "
            "is not installed; tracing stays off."
        )
        return False
    service = os.environ.get("OTEL_SERVICE_NAME", "langlearn")
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return True


def _tracer():
    from opentelemetry import trace

    return trace.get_tracer("langlearn")


@contextlib.contextmanager
def request_span(method: str, path: str, headers: Any) -> Iterator[None]:
    """A server span for one web request, continuing the caller's trace if any."""
    if not enabled():
        yield
        return
    from opentelemetry import propagate, trace

    parent = propagate.extract({"traceparent": headers.get("traceparent", "")})
    with _tracer().start_as_current_span(
        f"{method} {path}",
        context=parent,
        kind=trace.SpanKind.SERVER,
        attributes={"http.request.method": method, "url.path": path},
    ):
        yield


def job_kwargs() -> dict[str, Any]:
    """``{"trace_context": {...}}`` to pass to a deferred job, or ``{}``."""
    if not enabled():
        return {}
    from opentelemetry import propagate

    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return {"trace_context": carrier} if carrier else {}


@contextlib.contextmanager
def job_span(
    name: str, *, job_id: int | None, entry_id: str, trace_context: dict | None
) -> Iterator[None]:
    """A consumer span for one job, child of the deferring request's span."""
    if not enabled():
        yield
        return
    from opentelemetry import propagate, trace

    parent = propagate.extract(trace_context or {})
    with _tracer().start_as_current_span(
        name,
        context=parent,
        kind=trace.SpanKind.CONSUMER,
        attributes={"procrastinate.job.id": job_id or 0, "langlearn.entry.id": entry_id},
    ):
        yield
