"""Metrics from audit events: counters, latency split, Prometheus text, OTel spans, and the fan-out sink."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from deepsentinel.audit import CompositeSink, MemorySink, Outcome
from deepsentinel.metrics import MetricsCollector, OTelSink
from deepsentinel.metrics.otel import span_attributes
from tests.audit_factory import finding, make_event


def _samples(collector: MetricsCollector) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = collector.to_prometheus().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _feed(collector: MetricsCollector) -> None:
    token = finding("GITHUB_TOKEN")
    collector.record(make_event(Outcome.ALLOWED, latency_ms=110.0, provider_latency_ms=100.0))
    collector.record(make_event(Outcome.BLOCKED, findings=(token, token), latency_ms=2.0, provider_latency_ms=0.0,
                                prompt_tokens=None, completion_tokens=None))
    collector.record(make_event(Outcome.STREAM_TERMINATED, provider="anthropic", model="claude", streamed=True,
                                chunks=12, findings=(token,), latency_ms=505.0, provider_latency_ms=500.0))
    collector.record(make_event(Outcome.PROVIDER_ERROR, error_type="RateLimitError", prompt_tokens=None,
                                completion_tokens=None))


def test_snapshot_counts_requests_violations_streams_tokens_and_latency_split() -> None:
    """snapshot() adds up what the events say; DeepSentinel's time is latency minus provider time."""
    collector = MetricsCollector()
    _feed(collector)
    snap = collector.snapshot()
    assert snap["requests"]["total"] == 4
    assert snap["requests"]["by_outcome"] == {"allowed": 1, "anonymized": 0, "blocked": 1, "stream_terminated": 1,
                                              "provider_error": 1}
    assert snap["requests"]["by_provider"] == {"openai": 3, "anthropic": 1}
    assert snap["violations"] == {"GITHUB_TOKEN": 3}
    assert snap["provider_errors"] == {"RateLimitError": 1}
    assert (snap["streams"], snap["chunks"]) == (1, 12)
    assert snap["tokens"] == {"prompt": 14, "completion": 6}
    own = snap["latency_ms"]["deepsentinel"]
    assert own["count"] == 4 and own["max"] == 10.0 and own["p50"] == 5.0
    assert snap["latency_ms"]["provider"]["count"] == 3  # the blocked call never reached a provider


def test_prometheus_exposition_has_the_counts_and_histograms() -> None:
    """to_prometheus() is parseable text exposition carrying the same figures."""
    collector = MetricsCollector()
    _feed(collector)
    s = _samples(collector)
    assert s[("deepsentinel_requests_total",
              (("model", "gpt-4o-mini"), ("outcome", "blocked"), ("provider", "openai")))] == 1
    assert s[("deepsentinel_violations_total", (("action", "block"), ("category", "SECRET"),
                                                ("type", "GITHUB_TOKEN")))] == 3
    assert s[("deepsentinel_stream_chunks_total", (("provider", "anthropic"),))] == 12
    assert s[("deepsentinel_provider_errors_total", (("error_type", "RateLimitError"), ("provider", "openai")))] == 1
    assert s[("deepsentinel_tokens_total", (("kind", "prompt"), ("model", "gpt-4o-mini"), ("provider", "openai")))] == 7
    assert s[("deepsentinel_overhead_latency_seconds_count", (("provider", "openai"),))] == 3
    assert s[("deepsentinel_provider_latency_seconds_bucket", (("le", "0.05"), ("provider", "openai")))] == 1
    assert s[("deepsentinel_provider_latency_seconds_bucket", (("le", "0.1"), ("provider", "openai")))] == 2
    assert collector.content_type.startswith("text/plain")


def test_each_collector_has_a_private_registry() -> None:
    """Two collectors in one process neither clash on names nor see each other's counts."""
    a, b = MetricsCollector(), MetricsCollector()
    a.record(make_event())
    assert a.registry is not b.registry
    assert b.snapshot()["requests"]["total"] == 0
    assert ("deepsentinel_requests_total",
            (("model", "gpt-4o-mini"), ("outcome", "allowed"), ("provider", "openai"))) not in _samples(b)


class _Span:
    def __init__(self, name: str, start_time: int, recording: bool) -> None:
        self.name, self.start, self.recording = name, start_time, recording
        self.attributes: dict[str, Any] = {}
        self.end_time: int | None = None
        self.status: Any = None

    def is_recording(self) -> bool:
        return self.recording

    def set_attributes(self, attributes: dict[str, Any]) -> None:
        self.attributes.update(attributes)

    def set_status(self, status: Any) -> None:
        self.status = status

    def end(self, end_time: int) -> None:
        self.end_time = end_time


class _Tracer:
    def __init__(self, recording: bool = True) -> None:
        self.spans: list[_Span] = []
        self.recording = recording

    def start_span(self, name: str, start_time: int) -> _Span:
        self.spans.append(_Span(name, start_time, self.recording))
        return self.spans[-1]


def test_otel_sink_emits_one_span_per_event_timed_from_the_event() -> None:
    """A span per call, start/end from timestamp and latency, types and counts only, error status on failure."""
    tracer = _Tracer()
    sink = OTelSink(tracer=tracer)
    ok = make_event(Outcome.ANONYMIZED, findings=(finding("US_SSN"), finding("US_SSN")), latency_ms=20.0)
    err = make_event(Outcome.PROVIDER_ERROR, error_type="AuthenticationError")
    sink.record(ok)
    sink.record(err)
    assert sink.available and len(tracer.spans) == 2
    span = tracer.spans[0]
    assert span.end_time is not None and span.end_time - span.start == 20_000_000
    assert span.attributes["deepsentinel.outcome"] == "anonymized"
    assert span.attributes["deepsentinel.finding_types"] == "US_SSN" and span.attributes["deepsentinel.findings"] == 2
    assert tracer.spans[1].status is not None and tracer.spans[0].status is None
    assert all(isinstance(v, (str, int, float, bool)) for v in span_attributes(ok).values())


def test_a_span_nobody_records_is_not_described() -> None:
    """Without a tracer provider (or when sampled out) the span is a no-op: no attributes are built for it."""
    tracer = _Tracer(recording=False)
    OTelSink(tracer=tracer).record(make_event(Outcome.PROVIDER_ERROR, error_type="AuthenticationError"))
    assert len(tracer.spans) == 1
    assert tracer.spans[0].attributes == {} and tracer.spans[0].status is None and tracer.spans[0].end_time is None


def test_otel_sink_uses_the_global_tracer_or_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """With opentelemetry importable the default tracer is used (a no-op without an SDK); without it, nothing."""
    OTelSink().record(make_event())  # real opentelemetry-api or absent: must not raise either way
    monkeypatch.setattr("deepsentinel.metrics.otel._load_trace", lambda: None)
    absent = OTelSink()
    absent.record(make_event())
    assert not absent.available


def test_a_broken_tracer_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    """Telemetry failures never reach the caller."""
    class Broken:
        def start_span(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("exporter down")

    OTelSink(tracer=Broken()).record(make_event())
    assert "RuntimeError" in caplog.text


def test_composite_sink_fans_out_and_isolates_failures(caplog: pytest.LogCaptureFixture) -> None:
    """Every sink gets every event even if an earlier one raises; the failure is logged without content."""
    class Exploding:
        def record(self, event: Any) -> None:
            raise ValueError("bad " + event.content_hash)

        def close(self) -> None:
            raise OSError("disk gone")

    first, last, collector = MemorySink(), MemorySink(), MetricsCollector()
    sink = CompositeSink(first, Exploding(), collector, last)
    event = make_event()
    with caplog.at_level(logging.ERROR, logger="deepsentinel.audit"):
        sink.record(event)
        sink.close()
    assert first.events == [event] and last.events == [event]
    assert collector.snapshot()["requests"]["total"] == 1 and sink.failures == 1
    assert "Exploding" in caplog.text and "ValueError" in caplog.text and "OSError" in caplog.text
    assert str(event.content_hash) not in caplog.text
    assert sink.flush() is True
