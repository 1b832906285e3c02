"""``MetricsCollector``: counters and latency histograms built from audit events.

It is an ``AuditSink``, so it sees exactly one event per call, like the store. Each collector owns a private
Prometheus ``CollectorRegistry`` (two clients in one process never share or clash on metric names); mount
``to_prometheus()`` on your ``/metrics`` endpoint or register ``collector.registry`` with your own exporter.

DeepSentinel's own time is ``latency_ms - provider_latency_ms``: scanning, policy and anonymisation work,
which is the figure to watch when tuning detectors.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client import Counter as PromCounter
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from deepsentinel.audit.events import AuditEvent, Outcome

#: Seconds. Provider calls span milliseconds to minutes; DeepSentinel's own work should stay in milliseconds.
PROVIDER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)

_WINDOW = 10_000  # recent latencies kept for the percentiles in snapshot()


def _percentiles(values: deque[float]) -> dict[str, float]:
    if not values:
        return {"count": 0, "mean": 0.0, "p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(values)
    n = len(ordered)

    def at(q: float) -> float:
        return round(ordered[min(n - 1, int(q * n))], 3)

    return {"count": n, "mean": round(sum(ordered) / n, 3), "p50": at(0.5), "p95": at(0.95), "p99": at(0.99),
            "max": round(ordered[-1], 3)}


class MetricsCollector:
    """Request, violation, latency, stream and token metrics; ``record`` is the whole input.

    ``snapshot()`` gives a plain dict for humans and tests, ``to_prometheus()`` the text exposition.
    """

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, namespace: str = "deepsentinel") -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        reg, ns = self.registry, namespace
        self._requests = PromCounter("requests", "Calls by provider, model and outcome.",
                                     ["provider", "model", "outcome"], namespace=ns, registry=reg)
        self._decisions = PromCounter("decisions", "Outcomes by the direction where the deciding action happened.",
                                      ["direction", "outcome"], namespace=ns, registry=reg)
        self._violations = PromCounter("violations", "Findings recorded, by entity type, category and action.",
                                       ["type", "category", "action"], namespace=ns, registry=reg)
        self._errors = PromCounter("provider_errors", "Provider failures by error type.",
                                   ["provider", "error_type"], namespace=ns, registry=reg)
        self._chunks = PromCounter("stream_chunks", "Streamed chunks delivered.", ["provider"],
                                   namespace=ns, registry=reg)
        self._tokens = PromCounter("tokens", "Tokens reported by providers.", ["provider", "model", "kind"],
                                   namespace=ns, registry=reg)
        self._provider_latency = Histogram("provider_latency_seconds", "Time spent waiting on the provider.",
                                           ["provider"], namespace=ns, registry=reg, buckets=PROVIDER_BUCKETS)
        self._audit_lost = PromCounter("audit_events_lost", "Audit events the store could not write "
                                       "(each is also logged and recorded in the chain as a gap).",
                                       namespace=ns, registry=reg)
        self._overhead = Histogram("overhead_latency_seconds", "DeepSentinel's own time per call.",
                                   ["provider"], namespace=ns, registry=reg, buckets=OVERHEAD_BUCKETS)
        # Plain tallies for snapshot(); prometheus_client keeps its values behind a private API.
        self._lock = threading.Lock()
        self._by_outcome: Counter[str] = Counter()
        self._by_provider: Counter[str] = Counter()
        self._by_model: Counter[str] = Counter()
        self._by_type: Counter[str] = Counter()
        self._by_error: Counter[str] = Counter()
        self._tally: Counter[str] = Counter()
        self._provider_ms: deque[float] = deque(maxlen=_WINDOW)
        self._overhead_ms: deque[float] = deque(maxlen=_WINDOW)
        self._children: dict[tuple[Any, tuple[str, ...]], Any] = {}

    def __repr__(self) -> str:
        return f"MetricsCollector(requests={self._tally['requests']})"

    #: Counting may happen on the audit writer's thread (see ``CompositeSink.record_later``).
    deferrable = True

    def record(self, event: AuditEvent) -> None:
        """Count one call."""
        provider, model, outcome = event.provider, event.model, event.outcome.value
        own_ms = max(0.0, event.latency_ms - event.provider_latency_ms)
        child = self._child
        child(self._requests, provider, model, outcome).inc()
        child(self._decisions, event.direction, outcome).inc()
        for f in event.findings:
            child(self._violations, f.type, f.category, f.action).inc()
        if event.outcome is Outcome.PROVIDER_ERROR:
            child(self._errors, provider, event.error_type or "unknown").inc()
        if event.chunks:
            child(self._chunks, provider).inc(event.chunks)
        if event.prompt_tokens:
            child(self._tokens, provider, model, "prompt").inc(event.prompt_tokens)
        if event.completion_tokens:
            child(self._tokens, provider, model, "completion").inc(event.completion_tokens)
        if event.provider_latency_ms > 0:
            child(self._provider_latency, provider).observe(event.provider_latency_ms / 1000.0)
        child(self._overhead, provider).observe(own_ms / 1000.0)
        with self._lock:
            self._tally["requests"] += 1
            self._tally["streams"] += int(event.streamed)
            self._tally["chunks"] += event.chunks
            self._tally["prompt_tokens"] += event.prompt_tokens or 0
            self._tally["completion_tokens"] += event.completion_tokens or 0
            self._by_outcome[outcome] += 1
            self._by_provider[provider] += 1
            self._by_model[model] += 1
            if event.outcome is Outcome.PROVIDER_ERROR:
                self._by_error[event.error_type or "unknown"] += 1
            for f in event.findings:
                self._by_type[f.type] += 1
            if event.provider_latency_ms > 0:
                self._provider_ms.append(event.provider_latency_ms)
            self._overhead_ms.append(own_ms)

    def _child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, remembered: prometheus_client validates and locks on every ``labels``."""
        key = (metric, labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    def audit_lost(self, count: int) -> None:
        """Count audit events a store could not write; pass as the store's ``on_lost``."""
        self._audit_lost.inc(count)
        with self._lock:
            self._tally["audit_lost"] += count

    def snapshot(self) -> dict[str, Any]:
        """Current figures as plain data; latency percentiles cover the last 10 000 calls, in milliseconds."""
        with self._lock:
            return {
                "requests": {
                    "total": self._tally["requests"],
                    "by_outcome": {o.value: self._by_outcome[o.value] for o in Outcome},
                    "by_provider": dict(self._by_provider),
                    "by_model": dict(self._by_model),
                },
                "violations": dict(self._by_type.most_common()),
                "provider_errors": dict(self._by_error),
                "streams": self._tally["streams"],
                "audit_events_lost": self._tally["audit_lost"],
                "chunks": self._tally["chunks"],
                "tokens": {"prompt": self._tally["prompt_tokens"], "completion": self._tally["completion_tokens"]},
                "latency_ms": {
                    "provider": _percentiles(self._provider_ms),
                    "deepsentinel": _percentiles(self._overhead_ms),
                },
            }

    def to_prometheus(self) -> bytes:
        """The Prometheus text exposition of this collector's registry (serve with ``content_type``)."""
        return generate_latest(self.registry)

    def close(self) -> None:
        """Nothing to release; present so the collector is a full ``AuditSink``."""
