"""Embeddings, model listings and health checks: the I/O-free halves the client resources share.

Each ``prepare_*`` returns the requests to send and a function that turns the replies into the result, so the
sync and async resources only move bytes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openai.types import CreateEmbeddingResponse, Model

from deepsentinel.calls import CallRecord
from deepsentinel.errors import ConfigurationError, ProviderError, ValidationError
from deepsentinel.providers.base import HttpRequest
from deepsentinel.providers.openai import OpenAIAdapter
from deepsentinel.providers.retry import RetryPolicy
from deepsentinel.providers.transport import retry_policy

if TYPE_CHECKING:
    from deepsentinel.core import ClientCore


@dataclass(frozen=True)
class Exchange:
    """One request to send, where it goes, and how to retry it."""

    provider: str
    http: HttpRequest
    parse_error: Callable[[int, dict[str, str], bytes], ProviderError]
    retry: RetryPolicy


@dataclass(frozen=True)
class ProviderStatus:
    """One provider's answer to ``health_check()``: reachable or not, how fast, and why not."""

    provider: str
    ok: bool
    latency_ms: float | None = None
    error: str | None = None


@dataclass
class PreparedEmbeddings:
    call: CallRecord
    exchange: Exchange
    adapter: OpenAIAdapter

    def finish(self, body: bytes, seconds: float) -> CreateEmbeddingResponse:
        self.call.provider_seconds = seconds
        try:
            result = self.adapter.parse_embeddings_response(body)
        except Exception as exc:
            self.call.finish_with_error(exc)
            raise
        self.call.finish(self.call.outcome_for_success())
        return result


def prepare_embeddings(core: ClientCore, model: Any, input: Any, params: dict[str, Any]) -> PreparedEmbeddings:
    """Validate and check embedding inputs like prompts; anonymize or block them before anything is sent."""
    if not isinstance(model, str) or not model.strip():
        raise ValidationError("model must be a non-empty string")
    texts = _embedding_texts(input)
    provider = params.pop("provider", None)
    if params.pop("fallbacks", None):
        raise ValidationError("embeddings take no fallbacks: vectors from different models are not comparable")
    target = core.router.select(model, provider=provider, fallbacks=[])[0]
    adapter = core.router.adapter(target.provider)
    if not isinstance(adapter, OpenAIAdapter):
        raise ConfigurationError(f"provider {target.provider!r} has no embeddings endpoint; use an OpenAI-compatible one")
    call = CallRecord(core.sink, core.compliance.key, "embeddings", target.provider, target.model,
                      policies=tuple(p.name for p in core.policies))
    # Inputs are checked with the same gate as chat messages, one pseudo-message per input.
    messages = [{"role": "user", "content": t} for t in texts]
    try:
        checked = core.compliance.check_messages(messages)
    except Exception as exc:
        call.finish_with_error(exc)
        raise
    call.request_decision, call.texts = checked.decision, checked.texts
    rewritten = [m["content"] for m in messages]
    body: dict[str, Any] = {"model": target.model, **params}
    body["input"] = rewritten if not isinstance(input, str) else rewritten[0]
    if not texts:  # token arrays are sent as given: there is no text to check
        body["input"] = input
    retry = retry_policy(core.performance, core.router.providers[target.provider].max_retries)
    exchange = Exchange(target.provider, adapter.build_embeddings_request(body), adapter.parse_error, retry)
    call.sent_at = time.perf_counter()
    return PreparedEmbeddings(call, exchange, adapter)


def _embedding_texts(input: Any) -> list[str]:
    if isinstance(input, str):
        return [input]
    if isinstance(input, Sequence) and input and all(isinstance(i, str) for i in input):
        return list(input)
    if isinstance(input, Sequence) and input and all(isinstance(i, int) or _int_list(i) for i in input):
        return []
    raise ValidationError("input must be a string, a list of strings, or token arrays")


def _int_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str) and all(isinstance(i, int) for i in value)


def usable_providers(core: ClientCore, provider: str | None = None) -> list[str]:
    """Providers a listing or health check should ask: the named one, else every one with a key or a URL."""
    if provider is not None:
        core.router.adapter(provider)
        return [provider]
    return [name for name, e in core.router.providers.items() if e.api_key or e.base_url]


def models_exchange(core: ClientCore, provider: str, model_id: str | None = None) -> tuple[Exchange, Callable[[bytes], Any]]:
    """The request for a provider's model list (or one model) and the parser of its reply."""
    adapter: Any = core.router.adapter(provider)
    retry = retry_policy(core.performance, 0)
    if model_id is not None:
        return Exchange(provider, adapter.build_model_request(model_id), adapter.parse_error, retry), adapter.parse_model_response

    def parse(body: bytes) -> list[Model]:
        return list(adapter.parse_models_response(body).models)

    return Exchange(provider, adapter.build_models_request(), adapter.parse_error, retry), parse

