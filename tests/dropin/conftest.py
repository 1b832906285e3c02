"""The drop-in matrix: every test takes its clients from named factories, all against the fake server.

A factory builds the clients a user would build on one path into DeepSentinel. ``FACTORIES`` holds
the paths whose behaviour must equal the raw SDKs' (the whole matrix runs on each); ``GUARDED``
holds the paths that also enforce compliance (the checks in ``test_dropin_compliance.py`` run on
each). Adding a path is one entry, e.g.::

    "protected": ClientFactory(
        openai=lambda **kw: deepsentinel.protect(openai.OpenAI(**kw)),
        async_openai=lambda **kw: deepsentinel.protect(openai.AsyncOpenAI(**kw)),
        anthropic=lambda **kw: deepsentinel.protect(anthropic.Anthropic(**kw)),
        async_anthropic=lambda **kw: deepsentinel.protect(anthropic.AsyncAnthropic(**kw)),
        http_client=lambda: deepsentinel.protect(httpx2.Client()),
        async_http_client=lambda: deepsentinel.protect(httpx2.AsyncClient()),
    ),

added to ``FACTORIES`` and to ``GUARDED``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx2
import openai
import pytest

import deepsentinel
from deepsentinel.testing import FakeLLMServer

OPENAI_MODEL = "gpt-4o-mini"
ANTHROPIC_MODEL = "claude-haiku-4-5"
API_KEY = "test"


@dataclass(frozen=True)
class ClientFactory:
    """How one path builds its clients. The client callables take the official constructors' keyword
    arguments (``api_key``, ``base_url``, ``timeout``, ``max_retries``, ...). ``http_client`` and
    ``async_http_client`` build the ``httpx2`` clients handed to SDKs that take one (LangChain's
    ``http_client=``); ``node_base_url`` maps the fake's OpenAI base URL to the one a Node program
    should use on this path (None: the path has no Node form, e.g. an in-process Python wrapper)."""

    openai: Callable[..., openai.OpenAI]
    async_openai: Callable[..., openai.AsyncOpenAI]
    anthropic: Callable[..., anthropic.Anthropic]
    async_anthropic: Callable[..., anthropic.AsyncAnthropic]
    http_client: Callable[[], httpx2.Client]
    async_http_client: Callable[[], httpx2.AsyncClient]
    node_base_url: Callable[[str], str] | None = None


RAW = ClientFactory(
    openai=openai.OpenAI,
    async_openai=openai.AsyncOpenAI,
    anthropic=anthropic.Anthropic,
    async_anthropic=anthropic.AsyncAnthropic,
    http_client=httpx2.Client,
    async_http_client=httpx2.AsyncClient,
    node_base_url=lambda url: url,
)


def _quiet(**kw: Any) -> dict[str, Any]:
    """DeepSentinel's own settings for the matrix: the official arguments as given, no audit file."""
    return {**kw, "audit": False}


SENTINEL = ClientFactory(
    openai=lambda **kw: deepsentinel.SentinelClient(**_quiet(**kw)),
    async_openai=lambda **kw: deepsentinel.AsyncSentinelClient(**_quiet(**kw)),
    anthropic=lambda **kw: deepsentinel.SentinelAnthropic(**_quiet(**kw)),
    async_anthropic=lambda **kw: deepsentinel.AsyncSentinelAnthropic(**_quiet(**kw)),
    http_client=lambda: deepsentinel.protect(httpx2.Client(), audit=False),
    async_http_client=lambda: deepsentinel.protect(httpx2.AsyncClient(), audit=False),
)
PROTECTED = ClientFactory(
    openai=lambda **kw: deepsentinel.protect(openai.OpenAI(**kw), audit=False),
    async_openai=lambda **kw: deepsentinel.protect(openai.AsyncOpenAI(**kw), audit=False),
    anthropic=lambda **kw: deepsentinel.protect(anthropic.Anthropic(**kw), audit=False),
    async_anthropic=lambda **kw: deepsentinel.protect(anthropic.AsyncAnthropic(**kw), audit=False),
    http_client=lambda: deepsentinel.protect(httpx2.Client(), audit=False),
    async_http_client=lambda: deepsentinel.protect(httpx2.AsyncClient(), audit=False),
)
PROTECTED_HTTP = ClientFactory(
    openai=lambda **kw: openai.OpenAI(http_client=deepsentinel.protect(httpx2.Client(), audit=False), **kw),
    async_openai=lambda **kw: openai.AsyncOpenAI(http_client=deepsentinel.protect(httpx2.AsyncClient(), audit=False), **kw),
    anthropic=lambda **kw: anthropic.Anthropic(http_client=deepsentinel.protect(httpx2.Client(), audit=False), **kw),
    async_anthropic=lambda **kw: anthropic.AsyncAnthropic(
        http_client=deepsentinel.protect(httpx2.AsyncClient(), audit=False), **kw
    ),
    http_client=lambda: deepsentinel.protect(httpx2.Client(), audit=False),
    async_http_client=lambda: deepsentinel.protect(httpx2.AsyncClient(), audit=False),
)

# Paths that must behave exactly as the raw SDKs do.
FACTORIES: dict[str, ClientFactory] = {"raw": RAW, "sentinel": SENTINEL, "protected": PROTECTED,
                                       "protected_http": PROTECTED_HTTP}
# Paths that must also block an SSN prompt and cut a card number from answers.
GUARDED: dict[str, ClientFactory] = {"sentinel": SENTINEL, "protected": PROTECTED, "protected_http": PROTECTED_HTTP}

NO_GUARDED_REASON = (
    "no guarded client factory yet: add sentinel/protected/protected_http to GUARDED in tests/dropin/conftest.py"
)


def _params(factories: dict[str, ClientFactory], empty_reason: str) -> list[Any]:
    if not factories:
        return [pytest.param(None, id="none", marks=pytest.mark.skip(reason=empty_reason))]
    return [pytest.param(name, id=name) for name in factories]


class Clients:
    """The clients of one factory pointed at the fake server; everything built is closed at teardown."""

    def same_deltas(self, got: list[str], expected: list[str]) -> bool:
        """The raw SDK shows the provider's pieces as they came; a guard may regroup them (it holds back
        what could still become a value), so a guarded path must show the same text, in order, nothing more."""
        if self.name == "raw":
            return got == expected
        return "".join(got) == "".join(expected)

    def __init__(self, name: str, factory: ClientFactory, server: FakeLLMServer) -> None:
        self.name = name
        self.factory = factory
        self.server = server
        self._sync: list[Any] = []
        self._async: list[Any] = []

    def openai(self, **overrides: Any) -> openai.OpenAI:
        """A sync OpenAI client on the fake (no retries unless overridden)."""
        options = self._defaults(self.server.openai_base_url, overrides)
        return self._keep(self.factory.openai(**options))

    def async_openai(self, **overrides: Any) -> openai.AsyncOpenAI:
        """An async OpenAI client on the fake."""
        options = self._defaults(self.server.openai_base_url, overrides)
        return self._keep_async(self.factory.async_openai(**options))

    def anthropic(self, **overrides: Any) -> anthropic.Anthropic:
        """A sync Anthropic client on the fake."""
        options = self._defaults(self.server.anthropic_base_url, overrides)
        return self._keep(self.factory.anthropic(**options))

    def async_anthropic(self, **overrides: Any) -> anthropic.AsyncAnthropic:
        """An async Anthropic client on the fake."""
        options = self._defaults(self.server.anthropic_base_url, overrides)
        return self._keep_async(self.factory.async_anthropic(**options))

    @staticmethod
    def _defaults(base_url: str, overrides: dict[str, Any]) -> dict[str, Any]:
        return {"base_url": base_url, "api_key": API_KEY, "max_retries": 0, **overrides}

    def http_client(self) -> httpx2.Client:
        """A sync httpx2 client for SDKs that take ``http_client=``."""
        return self._keep(self.factory.http_client())

    def async_http_client(self) -> httpx2.AsyncClient:
        """An async httpx2 client for SDKs that take an async ``http_client``."""
        return self._keep_async(self.factory.async_http_client())

    def _keep(self, client: Any) -> Any:
        self._sync.append(client)
        return client

    def _keep_async(self, client: Any) -> Any:
        self._async.append(client)
        return client

    def close(self) -> None:
        for client in self._sync:
            client.close()

    async def aclose(self) -> None:
        for client in self._async:
            with contextlib.suppress(RuntimeError):  # a loop-bound client whose loop already ended
                await client.close() if hasattr(client, "close") else await client.aclose()


async def _open(name: str, factories: dict[str, ClientFactory], server: FakeLLMServer) -> AsyncIterator[Clients]:
    bundle = Clients(name, factories[name], server)
    try:
        yield bundle
    finally:
        bundle.close()
        await bundle.aclose()


@pytest.fixture(params=_params(FACTORIES, "no client factory"))
async def clients(request: pytest.FixtureRequest, fake_server: FakeLLMServer) -> AsyncIterator[Clients]:
    """The clients of one drop-in path (every name in FACTORIES), on the test's fake server."""
    async for bundle in _open(request.param, FACTORIES, fake_server):
        yield bundle


@pytest.fixture(params=_params(GUARDED, NO_GUARDED_REASON))
async def guarded(request: pytest.FixtureRequest, fake_server: FakeLLMServer) -> AsyncIterator[Clients]:
    """The clients of one compliance-enforcing path (every name in GUARDED), on the test's fake server."""
    async for bundle in _open(request.param, GUARDED, fake_server):
        yield bundle
