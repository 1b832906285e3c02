"""``Sentinel``: one client's (or one gateway's) compliance state, built from configuration. No I/O.

It resolves configuration (argument > config object > environment > default), and holds the wire guard, the
router for provider routing and fallbacks, and the audit and metrics sinks. Every shell (the sync and async
transports, the gateway) runs its calls through one of these.
"""

from __future__ import annotations

import asyncio
import copy
import os
import time
from collections.abc import Iterable, Mapping
from typing import Any

from deepsentinel.audit.composite import CompositeSink
from deepsentinel.audit.events import AuditSink
from deepsentinel.audit.resolve import resolve_audit_sink
from deepsentinel.config import PerformanceConfig, SentinelConfig, env_settings
from deepsentinel.detection.engine import DetectionEngine, default_engine
from deepsentinel.metrics.collector import MetricsCollector
from deepsentinel.metrics.monitor import ComplianceMonitor
from deepsentinel.metrics.otel import OTelSink
from deepsentinel.policy.policy import CompliancePolicy, coerce_policies
from deepsentinel.providers.registry import router_from_config
from deepsentinel.wire.guard import WireGuard


class Sentinel:
    """Configuration, guard, routing and audit of one client. Shared by every request the client makes."""

    def __init__(
        self,
        *,
        sentinel_api_key: str | None = None,
        openai_api_key: str | None = None,
        anthropic_api_key: str | None = None,
        openai_base_url: str | None = None,
        anthropic_base_url: str | None = None,
        compliance_policies: Iterable[CompliancePolicy | Mapping[str, Any]] | None = None,
        config: SentinelConfig | None = None,
        audit: bool | str | AuditSink | None = None,
        engine: DetectionEngine | None = None,
        environ: Mapping[str, str] | None = None,
        **options: Any,
    ) -> None:
        explicit = {
            k: v
            for k, v in {
                "sentinel_api_key": sentinel_api_key,
                "openai_api_key": openai_api_key,
                "anthropic_api_key": anthropic_api_key,
                "openai_base_url": openai_base_url,
                "anthropic_base_url": anthropic_base_url,
                **options,
            }.items()
            if v is not None
        }
        if compliance_policies is not None:
            explicit["compliance_policies"] = coerce_policies(compliance_policies) if compliance_policies else ()
        environ = os.environ if environ is None else environ
        env = env_settings(environ)
        if config is None and environ.get("DEEPSENTINEL_CONFIG"):
            config = SentinelConfig.from_file(environ["DEEPSENTINEL_CONFIG"])
        base = config.model_dump(exclude_unset=True) if config is not None else {}
        # The environment fills only what neither the arguments nor the config object set.
        self.config = SentinelConfig(**{**env, **base, **explicit})
        self.policies = coerce_policies(self.config.compliance_policies)
        self._engine_arg = engine
        self.engine = engine or _engine_for(self.policies)
        key = self.config.audit_key.get_secret_value().encode() if self.config.audit_key else None
        self.guard = WireGuard(
            self.policies, self.engine, key=key, deanonymize=self.config.deanonymize_responses,
            keep_redacted=self.config.store_anonymized_text,
        )
        self.audit_setting: bool | str | AuditSink = self.config.audit if audit is None else audit
        self.metrics = MetricsCollector()
        url = self.config.audit_url.get_secret_value() if self.config.audit_url else None
        self.store = resolve_audit_sink(
            self.audit_setting, key=key, durable=self.config.audit_durable, url=url, on_lost=self.metrics.audit_lost
        )
        self.monitor = ComplianceMonitor()
        sinks: list[AuditSink] = [s for s in (self.store, self.metrics, self.monitor) if s is not None]
        otel = OTelSink()
        if otel.available:
            sinks.append(otel)
        self.sink: AuditSink | None = CompositeSink(*sinks)
        self.router = router_from_config(self.config)
        # Providers whose client was built without a key (an Anthropic-only SentinelClient): their calls fail
        # with a ConfigurationError that names the key, before anything is sent.
        self.missing_keys: set[str] = set()

    def with_policies(self, policies: Iterable[CompliancePolicy]) -> Sentinel:
        """A twin with other policies that shares this one's configuration, routing, audit and metrics (the
        gateway's per-key policies). Close only the original: the twin's sinks are the original's."""
        twin = copy.copy(self)
        twin.policies = tuple(policies) or self.policies
        custom: dict[str, str] = {}
        for p in twin.policies:
            custom.update(p.custom_patterns)
        twin.engine = (self._engine_arg or default_engine()).with_custom_patterns(custom)
        twin.guard = WireGuard(
            twin.policies, twin.engine, key=self.guard.key, deanonymize=self.config.deanonymize_responses,
            keep_redacted=self.config.store_anonymized_text,
        )
        return twin

    @property
    def performance(self) -> PerformanceConfig:
        return self.config.performance_config

    def settle(self, timeout: float | None = 0.25) -> None:
        """Wait until finished calls are counted: their records are built and counted on the audit store's
        writer thread (``CompositeSink.record_later``; without a store, on the metrics' own), within
        milliseconds. A writer held up (a database another node locks) is waited for ``timeout`` seconds at most:
        metrics then lag, calls go on."""
        if isinstance(self.sink, CompositeSink):
            self.sink.mark().wait(timeout)

    async def asettle(self, timeout: float = 0.25) -> None:
        """``settle`` for an event loop: polls instead of blocking it (and takes no executor thread)."""
        if isinstance(self.sink, CompositeSink):
            done = self.sink.mark()
            deadline = time.monotonic() + timeout
            while not done.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.001)

    def close(self) -> None:
        """Flush and close the audit sink (idempotent)."""
        sink, self.sink = self.sink, None
        if sink is not None:
            sink.close()

    def __repr__(self) -> str:
        return f"Sentinel(providers={list(self.router.providers)}, policies={[p.name for p in self.policies]})"


def _engine_for(policies: tuple[CompliancePolicy, ...]) -> DetectionEngine:
    """The shared engine, plus the policies' custom patterns (the shared engine itself when there are none)."""
    custom: dict[str, str] = {}
    for p in policies:
        custom.update(p.custom_patterns)
    return default_engine().with_custom_patterns(custom)


__all__ = ["Sentinel"]
