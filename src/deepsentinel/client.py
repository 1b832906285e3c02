"""``SentinelClient`` and ``AsyncSentinelClient``: the OpenAI interface with compliance on both paths.

>>> from deepsentinel import SentinelClient
>>> client = SentinelClient(openai_api_key="sk-...")
>>> reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
>>> reply.choices[0].message.content

Both clients are thin I/O shells over ``ClientCore``; they differ only in how they wait.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, overload

import httpx2
from openai.types.chat import ChatCompletion

from deepsentinel.audit.events import AuditSink
from deepsentinel.config import SentinelConfig
from deepsentinel.core import ClientCore
from deepsentinel.errors import ProviderError
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
        for i, target in enumerate(chat.targets):
            try:
                if stream:
                    response = transport.open_stream(target.http, target.provider, target.adapter.parse_error, target.retry)
                    return Stream(response, transport, core.stream_session(chat, target))
                body, seconds = transport.request(target.http, target.provider, target.adapter.parse_error, target.retry)
            except ProviderError as exc:
                if core.next_target(chat, i, exc):
                    continue
                raise
            return core.finish_completion(chat, target, body, seconds)
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
        raise AssertionError("unreachable: a call always has at least one target")


class Chat:
    def __init__(self, completions: Completions | AsyncCompletions) -> None:
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
        self.chat = Chat(AsyncCompletions(self))

    async def close(self) -> None:
        """Release pooled connections and flush the audit trail; safe to call twice."""
        await self._transport.close()
        self._core.close()

    async def __aenter__(self) -> AsyncSentinelClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
