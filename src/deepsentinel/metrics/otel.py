"""Optional OpenTelemetry spans: one span per call, from its audit event, when ``opentelemetry`` is installed.

    sink = OTelSink()            # uses the global tracer provider your application configured
    sink.available               # False when opentelemetry-api is not installed: record() does nothing

The import happens on first use, never at package import, and is not a dependency. Span timing comes from
the event (start = event timestamp, duration = ``latency_ms``), so the span can be emitted after the call.
Attributes carry types and counts only.
"""

from __future__ import annotations

import importlib
import logging
import os
from typing import Any

from deepsentinel.audit.events import AuditEvent, Outcome

logger = logging.getLogger("deepsentinel.metrics")

_UNSET: Any = object()


def _load_trace() -> Any:
    try:
        return importlib.import_module("opentelemetry.trace")
    except ImportError:
        return None


def span_attributes(event: AuditEvent) -> dict[str, str | int | float | bool]:
    """Span attributes for an event: what was decided and why, by type and count, never a value."""
    attrs: dict[str, str | int | float | bool] = {
        "gen_ai.system": event.provider,
        "gen_ai.request.model": event.model,
        "gen_ai.operation.name": event.operation,
        "deepsentinel.request_id": event.request_id,
        "deepsentinel.outcome": event.outcome.value,
        "deepsentinel.direction": event.direction,
        "deepsentinel.risk_score": event.risk_score,
        "deepsentinel.findings": len(event.findings),
        "deepsentinel.streamed": event.streamed,
        "deepsentinel.overhead_ms": max(0.0, event.latency_ms - event.provider_latency_ms),
    }
    if event.policies:
        attrs["deepsentinel.policies"] = ",".join(event.policies)
    if event.findings:
        attrs["deepsentinel.finding_types"] = ",".join(sorted(event.finding_counts()))
    if event.streamed:
        attrs["deepsentinel.chunks"] = event.chunks
    if event.prompt_tokens is not None:
        attrs["gen_ai.usage.input_tokens"] = event.prompt_tokens
    if event.completion_tokens is not None:
        attrs["gen_ai.usage.output_tokens"] = event.completion_tokens
    if event.target:
        attrs["deepsentinel.target"] = event.target
    if event.error_type:
        attrs["error.type"] = event.error_type
    return attrs


class OTelSink:
    """An ``AuditSink`` that emits one span per event through an OpenTelemetry tracer.

    ``tracer`` defaults to ``opentelemetry.trace.get_tracer("deepsentinel")``; pass your own to target a
    specific provider. Errors inside OpenTelemetry are logged and swallowed.
    """

    def __init__(self, tracer: Any = None) -> None:
        self._tracer = tracer if tracer is not None else _UNSET
        self._given = tracer is not None
        self._from_environment = "OTEL_PYTHON_TRACER_PROVIDER" in os.environ
        self._trace: Any = _UNSET

    def _module(self) -> Any:
        if self._trace is _UNSET:
            self._trace = _load_trace()
        return self._trace

    @property
    def available(self) -> bool:
        """True when spans can be emitted (a tracer was given, or opentelemetry is importable)."""
        return self._get_tracer() is not None

    def _get_tracer(self) -> Any:
        if self._tracer is _UNSET:
            trace = self._module()
            self._tracer = None if trace is None else trace.get_tracer("deepsentinel")
        return self._tracer

    @property
    def deferrable(self) -> bool:
        """Whether its spans may be emitted off the caller's thread: only while nothing records them (no tracer
        provider configured), since a span started elsewhere loses the caller's context."""
        if self._given:
            return False
        trace = self._module()
        if trace is None:
            return True
        # Every call asks. opentelemetry keeps the configured provider in a module global, None until one is
        # set (by code, or from its environment variable on first use): reading it costs nothing, where the
        # public getter looks the variable up in the environment each time.
        if getattr(trace, "_TRACER_PROVIDER", _UNSET) is None and not self._from_environment:
            return True
        return type(trace.get_tracer_provider()) in (trace.ProxyTracerProvider, trace.NoOpTracerProvider)

    def record(self, event: AuditEvent) -> None:
        """Emit the event's span (no-op without OpenTelemetry)."""
        tracer = self._get_tracer()
        if tracer is None:
            return
        try:
            start_ns = int(event.timestamp * 1e9)
            span = tracer.start_span(f"deepsentinel {event.operation}", start_time=start_ns)
            if not span.is_recording():  # no tracer provider configured (or sampled out): nothing to describe
                return
            span.set_attributes(span_attributes(event))
            if event.outcome is Outcome.PROVIDER_ERROR:
                trace = self._module()
                if trace is not None:
                    span.set_status(trace.Status(trace.StatusCode.ERROR, event.error_type or "provider error"))
            span.end(end_time=start_ns + int(event.latency_ms * 1e6))
        except Exception as exc:
            logger.warning("OpenTelemetry span for an audit event failed (%s)", type(exc).__name__)

    def close(self) -> None:
        """Nothing to release: the tracer provider belongs to the application."""
