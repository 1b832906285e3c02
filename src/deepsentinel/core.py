"""``ClientCore``: everything a client does that is not I/O, shared by ``SentinelClient`` and ``AsyncSentinelClient``.

It resolves configuration (argument > config > environment > default), builds provider adapters, routes a call
to its targets, runs the request-side compliance check and prepares per-call audit records. The client shells
only send requests and wrap replies.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from openai.types.chat import ChatCompletion

from deepsentinel.audit.composite import CompositeSink
from deepsentinel.audit.events import AuditSink
from deepsentinel.audit.resolve import resolve_audit_sink
from deepsentinel.calls import CallRecord
from deepsentinel.compliance import Compliance
from deepsentinel.config import PerformanceConfig, SentinelConfig, env_settings
from deepsentinel.detection.engine import DetectionEngine, default_engine
from deepsentinel.detection.vault import Vault
from deepsentinel.errors import DeepSentinelError, ValidationError
from deepsentinel.messages import validate_chat_args
from deepsentinel.metrics.collector import MetricsCollector
from deepsentinel.metrics.monitor import ComplianceMonitor
from deepsentinel.metrics.otel import OTelSink
from deepsentinel.policy.policy import CompliancePolicy, coerce_policies
from deepsentinel.providers.base import ChatAdapter, ChatRequest, HttpRequest
from deepsentinel.providers.registry import router_from_config
from deepsentinel.providers.retry import RetryPolicy
from deepsentinel.providers.routing import Target, is_fallback_worthy
from deepsentinel.providers.transport import retry_policy
from deepsentinel.streaming import StreamSession


@dataclass(frozen=True)
class PreparedTarget:
    """One place a call may go: the adapter, the request it needs, and how to retry there."""

    target: Target
    adapter: ChatAdapter
    request: ChatRequest
    http: HttpRequest
    retry: RetryPolicy

    @property
    def provider(self) -> str:
        return self.target.provider


@dataclass
class PreparedChat:
    """A validated, compliance-checked chat call, ready to send to its first healthy target."""

    call: CallRecord
    targets: list[PreparedTarget]
    include_usage: bool
    restore: Vault | None = None  # the placeholders this call may restore in its answer


class ClientCore:
    """Configuration, adapters, routing and compliance of one client (no I/O)."""

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
        # Environment fills only what neither the arguments nor the config object set.
        self.config = SentinelConfig(**{**env, **base, **explicit})
        self.policies = coerce_policies(self.config.compliance_policies)
        self.engine = engine or _engine_for(self.policies)
        key = self.config.audit_key.get_secret_value().encode() if self.config.audit_key else None
        self.compliance = Compliance(
            self.policies, self.engine, key=key, deanonymize=self.config.deanonymize_responses
        )
        self.audit_setting: bool | str | AuditSink = self.config.audit if audit is None else audit
        self.store = resolve_audit_sink(self.audit_setting, key=key)
        self.metrics = MetricsCollector()
        self.monitor = ComplianceMonitor()
        sinks: list[AuditSink] = [s for s in (self.store, self.metrics, self.monitor) if s is not None]
        otel = OTelSink()
        if otel.available:
            sinks.append(otel)
        self.sink: AuditSink | None = CompositeSink(*sinks)
        self.router = router_from_config(self.config)

    def close(self) -> None:
        """Flush and close the audit sink (idempotent)."""
        sink, self.sink = self.sink, None
        if sink is not None:
            sink.close()

    @property
    def performance(self) -> PerformanceConfig:
        return self.config.performance_config

    def prepare_chat(self, model: Any, messages: Any, stream: bool, params: dict[str, Any]) -> PreparedChat:
        """Validate, route and check a chat call. Raises before anything is sent when the call is bad or blocked."""
        clean = validate_chat_args(model, messages)
        if not isinstance(stream, bool):
            raise ValidationError("stream must be True or False")
        provider = params.pop("provider", None)
        fallbacks = params.pop("fallbacks", None)
        targets = self.router.select(model, provider=provider, fallbacks=fallbacks)
        call = CallRecord(
            self.sink, self.compliance.key, "chat.completions", targets[0].provider, model, streamed=stream,
            policies=tuple(p.name for p in self.policies),
        )
        try:
            checked = self.compliance.check_messages(clean, keep_redacted=self.config.store_anonymized_text)
        except Exception as exc:
            call.finish_with_error(exc)
            raise
        call.request_decision = checked.decision
        call.texts = checked.texts
        if checked.redacted:
            call.stored_text = "\n".join(checked.redacted)
        prepared = []
        for i, t in enumerate(targets):
            try:
                prepared.append(self._prepare_target(t, clean, stream, params))
            except DeepSentinelError:
                # A fallback the call cannot be translated for (n=2 on Anthropic, say) is skipped; the
                # primary's own problems are the caller's to see. Like any invalid call, one the primary cannot
                # express sent nothing and leaves no audit event.
                if i == 0:
                    raise
        options = params.get("stream_options")
        include_usage = bool(isinstance(options, Mapping) and options.get("include_usage"))
        call.sent_at = time.perf_counter()
        return PreparedChat(call, prepared, include_usage, self.compliance.restore_vault(clean))

    def _prepare_target(
        self, t: Target, messages: list[dict[str, Any]], stream: bool, params: dict[str, Any]
    ) -> PreparedTarget:
        adapter = self.router.adapter(t.provider)
        request = ChatRequest(t.model, messages, stream, dict(params))
        retry = retry_policy(self.performance, self.router.providers[t.provider].max_retries)
        return PreparedTarget(t, adapter, request, adapter.build_chat_request(request), retry)

    def succeeded(self, target: PreparedTarget) -> None:
        if self.router.health is not None:
            self.router.health.record_success(target.provider)

    def next_target(self, chat: PreparedChat, index: int, error: BaseException) -> bool:
        """After target ``index`` failed: True to try the next one, else the call ends with ``error``."""
        worthy = is_fallback_worthy(error)
        if worthy and self.router.health is not None:  # a bad request says nothing about the provider's health
            self.router.health.record_failure(chat.targets[index].provider)
        if index + 1 < len(chat.targets) and worthy:
            return True
        chat.call.finish_with_error(error)
        return False

    def finish_completion(self, chat: PreparedChat, target: PreparedTarget, body: bytes, seconds: float) -> ChatCompletion:
        """Parse, check and audit a non-streamed reply; raises ``ComplianceViolationError`` on a block."""
        call = chat.call
        self.succeeded(target)
        call.provider_seconds = seconds
        call.provider = target.provider
        if len(chat.targets) > 1:
            call.target = str(target.target)
        try:
            completion = target.adapter.parse_chat_response(body, target.request.model)
            call.usage = completion.usage
            checked, decision = self.compliance.check_completion(completion, chat.restore)
        except Exception as exc:
            call.finish_with_error(exc)
            raise
        call.response_violations.extend(decision.violations)
        call.finish(call.outcome_for_success(decision))
        return checked

    def stream_session(self, chat: PreparedChat, target: PreparedTarget) -> StreamSession:
        """The I/O-free state for a stream that ``target`` just opened."""
        self.succeeded(target)
        chat.call.provider = target.provider
        if len(chat.targets) > 1:
            chat.call.target = str(target.target)
        later = chat.targets[chat.targets.index(target) + 1 :]
        return StreamSession(
            target, lambda: self.compliance.chunk_guard(chat.restore), chat.call,
            include_usage=chat.include_usage, fallbacks=later, health=self.router.health,
        )


def _engine_for(policies: tuple[CompliancePolicy, ...]) -> DetectionEngine:
    """The shared engine, plus the policies' custom patterns (the shared engine itself when there are none)."""
    custom: dict[str, str] = {}
    for p in policies:
        custom.update(p.custom_patterns)
    return default_engine().with_custom_patterns(custom)


__all__ = ["ClientCore", "PreparedChat", "PreparedTarget"]

