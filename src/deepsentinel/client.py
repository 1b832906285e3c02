"""``SentinelClient`` and ``AsyncSentinelClient``: the OpenAI interface with compliance on both paths.

>>> from deepsentinel import SentinelClient
>>> client = SentinelClient(openai_api_key="sk-...")
>>> reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
>>> reply.choices[0].message.content

Both clients are thin I/O shells over ``ClientCore``; they differ only in how they wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any, Literal, overload

import httpx2
from openai.types import CreateEmbeddingResponse, Model
from openai.types.chat import ChatCompletion

from deepsentinel.audit.events import AuditSink
from deepsentinel.audit.log import AuditLog
from deepsentinel.audit.store import AuditStore
from deepsentinel.config import SentinelConfig
from deepsentinel.core import ClientCore
from deepsentinel.endpoints import ProviderStatus, models_exchange, prepare_embeddings, usable_providers
from deepsentinel.errors import ConfigurationError, DeepSentinelError, ProviderError
from deepsentinel.metrics.collector import MetricsCollector
from deepsentinel.metrics.monitor import ComplianceMonitor
from deepsentinel.policy.policy import CompliancePolicy
from deepsentinel.providers.transport import AsyncTransport, SyncTransport
from deepsentinel.streaming import AsyncStream, Stream


class Completions:
    """``client.chat.completions``."""

    def __init__(self, client: SentinelClient) -> None:
        self._client = client

    @overload
    def create(self, *, model: str, messages: Any, stream: Literal[False] = False, **params: Any) -> ChatCompletion: ...

    @overload
    def create(self, *, model: str, messages: Any, stream: Literal[True], **params: Any) -> Stream: ...

    def create(self, *, model: str, messages: Any, stream: bool = False, **params: Any) -> ChatCompletion | Stream:
        """Create a chat completion, checked on the way out and on the way back.

        Accepts every OpenAI parameter (passed through untouched) plus ``provider=`` and ``fallbacks=``.
        Raises ``ComplianceViolationError`` (nothing is sent) when a policy blocks the prompt.
        """
        core, transport = self._client._core, self._client._transport
        chat = core.prepare_chat(model, messages, stream, params)
        try:
            for i, target in enumerate(chat.targets):
                try:
                    if stream:
                        response = transport.open_stream(
                            target.http, target.provider, target.adapter.parse_error, target.retry
                        )
                        return Stream(response, transport, core.stream_session(chat, target))
                    body, seconds = transport.request(
                        target.http, target.provider, target.adapter.parse_error, target.retry
                    )
                except ProviderError as exc:
                    if core.next_target(chat, i, exc):
                        continue
                    raise
                return core.finish_completion(chat, target, body, seconds)
        except BaseException as exc:  # Ctrl-C while waiting, or anything unexpected: the call still ends once
            chat.call.finish_with_error(exc)
            raise
        raise AssertionError("unreachable: a call always has at least one target")


class AsyncCompletions:
    """``client.chat.completions`` of the async client."""

    def __init__(self, client: AsyncSentinelClient) -> None:
        self._client = client

    @overload
    async def create(
        self, *, model: str, messages: Any, stream: Literal[False] = False, **params: Any
    ) -> ChatCompletion: ...

    @overload
    async def create(self, *, model: str, messages: Any, stream: Literal[True], **params: Any) -> AsyncStream: ...

    async def create(
        self, *, model: str, messages: Any, stream: bool = False, **params: Any
    ) -> ChatCompletion | AsyncStream:
        """Create a chat completion; see ``Completions.create``."""
        core, transport = self._client._core, self._client._transport
        chat = core.prepare_chat(model, messages, stream, params)
        try:
            for i, target in enumerate(chat.targets):
                try:
                    if stream:
                        response = await transport.open_stream(
                            target.http, target.provider, target.adapter.parse_error, target.retry
                        )
                        return AsyncStream(response, transport, core.stream_session(chat, target))
                    body, seconds = await transport.request(
                        target.http, target.provider, target.adapter.parse_error, target.retry
                    )
                except ProviderError as exc:
                    if core.next_target(chat, i, exc):
                        continue
                    raise
                return core.finish_completion(chat, target, body, seconds)
        except BaseException as exc:  # task cancelled while waiting, or anything unexpected: the call ends once
            chat.call.finish_with_error(exc)
            raise
        raise AssertionError("unreachable: a call always has at least one target")


class Embeddings:
    """``client.embeddings``: inputs are checked like prompts before they are sent."""

    def __init__(self, client: SentinelClient) -> None:
        self._client = client

    def create(self, *, model: str, input: Any, **params: Any) -> CreateEmbeddingResponse:
        """Create embeddings; raises ``ComplianceViolationError`` (nothing sent) when a policy blocks an input."""
        core, transport = self._client._core, self._client._transport
        prepared = prepare_embeddings(core, model, input, params)
        ex = prepared.exchange
        try:
            body, seconds = transport.request(ex.http, ex.provider, ex.parse_error, ex.retry)
        except BaseException as exc:
            prepared.call.finish_with_error(exc)
            raise
        return prepared.finish(body, seconds)


class AsyncEmbeddings:
    """``client.embeddings`` of the async client."""

    def __init__(self, client: AsyncSentinelClient) -> None:
        self._client = client

    async def create(self, *, model: str, input: Any, **params: Any) -> CreateEmbeddingResponse:
        """Create embeddings; see ``Embeddings.create``."""
        core, transport = self._client._core, self._client._transport
        prepared = prepare_embeddings(core, model, input, params)
        ex = prepared.exchange
        try:
            body, seconds = await transport.request(ex.http, ex.provider, ex.parse_error, ex.retry)
        except BaseException as exc:
            prepared.call.finish_with_error(exc)
            raise
        return prepared.finish(body, seconds)


class Models:
    """``client.models``: listings merged across the configured providers."""

    def __init__(self, client: SentinelClient) -> None:
        self._client = client

    def list(self, *, provider: str | None = None) -> list[Model]:
        """Every model of every provider with a key or URL (or of ``provider`` only)."""
        core, transport = self._client._core, self._client._transport
        models: list[Model] = []
        for name in usable_providers(core, provider):
            ex, parse = models_exchange(core, name)
            body, _ = transport.request(ex.http, ex.provider, ex.parse_error, ex.retry)
            models.extend(parse(body))
        return models

    def retrieve(self, model: str, *, provider: str | None = None) -> Model:
        """One model's description, from the provider the model routes to."""
        core, transport = self._client._core, self._client._transport
        target = core.router.select(model, provider=provider, fallbacks=[])[0]
        ex, parse = models_exchange(core, target.provider, target.model)
        body, _ = transport.request(ex.http, ex.provider, ex.parse_error, ex.retry)
        return parse(body)  # type: ignore[no-any-return]


class AsyncModels:
    """``client.models`` of the async client."""

    def __init__(self, client: AsyncSentinelClient) -> None:
        self._client = client

    async def list(self, *, provider: str | None = None) -> list[Model]:
        """Every model of every provider with a key or URL (or of ``provider`` only)."""
        core, transport = self._client._core, self._client._transport
        models: list[Model] = []
        for name in usable_providers(core, provider):
            ex, parse = models_exchange(core, name)
            body, _ = await transport.request(ex.http, ex.provider, ex.parse_error, ex.retry)
            models.extend(parse(body))
        return models

    async def retrieve(self, model: str, *, provider: str | None = None) -> Model:
        """One model's description, from the provider the model routes to."""
        core, transport = self._client._core, self._client._transport
        target = core.router.select(model, provider=provider, fallbacks=[])[0]
        ex, parse = models_exchange(core, target.provider, target.model)
        body, _ = await transport.request(ex.http, ex.provider, ex.parse_error, ex.retry)
        return parse(body)  # type: ignore[no-any-return]


class Chat:
    """``client.chat``."""

    def __init__(self, completions: Completions) -> None:
        self.completions = completions


class AsyncChat:
    """``client.chat`` of the async client."""

    def __init__(self, completions: AsyncCompletions) -> None:
        self.completions = completions


class _ClientBase:
    """What both clients share: construction, configuration and introspection. No I/O here."""

    def __init__(
        self,
        sentinel_api_key: str | None = None,
        openai_api_key: str | None = None,
        anthropic_api_key: str | None = None,
        *,
        compliance_policies: Iterable[CompliancePolicy | Mapping[str, Any]] | None = None,
        config: SentinelConfig | None = None,
        base_url: str | None = None,
        openai_base_url: str | None = None,
        anthropic_base_url: str | None = None,
        audit: bool | str | AuditSink | None = None,
        **options: Any,
    ) -> None:
        self._core = ClientCore(
            sentinel_api_key=sentinel_api_key, openai_api_key=openai_api_key, anthropic_api_key=anthropic_api_key,
            openai_base_url=openai_base_url or base_url, anthropic_base_url=anthropic_base_url,
            compliance_policies=compliance_policies, config=config, audit=audit, **options,
        )

    @property
    def config(self) -> SentinelConfig:
        return self._core.config

    @property
    def policies(self) -> tuple[CompliancePolicy, ...]:
        return self._core.policies

    @property
    def audit(self) -> AuditLog:
        """The audit trail of this client's store: ``list``, ``report``, ``verify``, ``prune``, ``export_jsonl``."""
        store = self._core.store
        if not isinstance(store, AuditStore):
            raise ConfigurationError("this client has no queryable audit store (audit=False or a custom sink)")
        store.flush()
        return AuditLog(store)

    @property
    def metrics(self) -> MetricsCollector:
        """Counters and latency histograms; ``snapshot()`` for humans, ``to_prometheus()`` for scrapers."""
        return self._core.metrics

    @property
    def monitor(self) -> ComplianceMonitor:
        """Real-time hooks: ``client.monitor.on("violation_detected", fn)``."""
        return self._core.monitor

    def __repr__(self) -> str:
        return f"{type(self).__name__}(providers={list(self._core.router.providers)}, policies={[p.name for p in self.policies]})"


class SentinelClient(_ClientBase):
    """A drop-in for ``openai.OpenAI`` that checks every prompt and every response.

    Keys and URLs fall back to ``DEEPSENTINEL_API_KEY``, ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``,
    ``ANTHROPIC_API_KEY`` and ``ANTHROPIC_BASE_URL``. Use it as a context manager, or call ``close()``.
    """

    def __init__(self, *args: Any, http_client: httpx2.Client | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._transport = SyncTransport(self._core.performance, http_client)
        self.chat = Chat(Completions(self))
        self.embeddings = Embeddings(self)
        self.models = Models(self)

    def health_check(self) -> dict[str, ProviderStatus]:
        """Reachability and latency of every provider with a key or URL (a model listing per provider)."""
        core, results = self._core, {}
        for name in usable_providers(core):
            ex, _ = models_exchange(core, name)
            try:
                _, seconds = self._transport.request(ex.http, ex.provider, ex.parse_error, ex.retry)
                results[name] = ProviderStatus(name, True, seconds * 1000.0)
            except DeepSentinelError as exc:
                results[name] = ProviderStatus(name, False, error=str(exc))
        return results

    def close(self) -> None:
        """Release pooled connections and flush the audit trail; safe to call twice."""
        self._transport.close()
        self._core.close()

    def __enter__(self) -> SentinelClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncSentinelClient(_ClientBase):
    """The asyncio twin of ``SentinelClient``: same constructor, ``await``-able calls, ``async with``."""

    def __init__(self, *args: Any, http_client: httpx2.AsyncClient | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._transport = AsyncTransport(self._core.performance, http_client)
        self.chat = AsyncChat(AsyncCompletions(self))
        self.embeddings = AsyncEmbeddings(self)
        self.models = AsyncModels(self)

    async def health_check(self) -> dict[str, ProviderStatus]:
        """Reachability and latency of every provider with a key or URL, checked concurrently."""
        core = self._core

        async def probe(name: str) -> ProviderStatus:
            ex, _ = models_exchange(core, name)
            try:
                _, seconds = await self._transport.request(ex.http, ex.provider, ex.parse_error, ex.retry)
                return ProviderStatus(name, True, seconds * 1000.0)
            except DeepSentinelError as exc:
                return ProviderStatus(name, False, error=str(exc))

        names = usable_providers(core)
        return dict(zip(names, await asyncio.gather(*(probe(n) for n in names)), strict=True))

    async def close(self) -> None:
        """Release pooled connections and flush the audit trail; safe to call twice."""
        await self._transport.close()
        self._core.close()

    async def __aenter__(self) -> AsyncSentinelClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
