"""WebSocket APIs (Realtime, Responses over WebSocket, Live) bypass httpx and so the guard: they are refused.

Every ``connect()`` anywhere in the official client's resource tree is found by walking it, so an SDK release
that adds one is caught here. The refusal comes before any connection: a listener on loopback sees none.
"""

from __future__ import annotations

import inspect
import socket
from collections.abc import Iterator
from typing import Any

import openai
import pytest

import deepsentinel
from deepsentinel import AsyncSentinelClient, SentinelClient
from deepsentinel.errors import ConfigurationError

_SKIP = {"with_raw_response", "with_streaming_response"}


def connects(obj: Any, path: str = "client", seen: set[int] | None = None) -> Iterator[tuple[str, Any]]:
    """Every ``connect`` method reachable from ``obj`` through resource attributes."""
    seen = set() if seen is None else seen
    for name in dir(type(obj)):
        if name.startswith("_") or name in _SKIP:
            continue
        if name == "connect":
            yield f"{path}.connect", obj.connect
            continue
        if not isinstance(inspect.getattr_static(type(obj), name, None), property | type(SentinelClient.chat)):
            continue
        value = getattr(obj, name)
        if isinstance(value, openai._resource.SyncAPIResource | openai._resource.AsyncAPIResource) and id(value) not in seen:
            seen.add(id(value))
            yield from connects(value, f"{path}.{name}", seen)


def _arguments(fn: Any) -> dict[str, Any]:
    params = inspect.signature(fn).parameters
    required = [n for n, p in params.items()
                if p.default is inspect.Parameter.empty and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    arguments = {n: "x" for n in required}
    if "model" in params:
        arguments["model"] = "gpt-realtime"  # optional for most, required by AzureOpenAI
    return arguments


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.create_server(("127.0.0.1", 0))
    sock.settimeout(0.2)
    yield sock
    sock.close()


def _no_connection(sock: socket.socket) -> bool:
    try:
        sock.accept()[0].close()
    except TimeoutError:
        return True
    return False


def _sync_clients(base_url: str) -> list[Any]:
    return [SentinelClient(openai_api_key="k", base_url=base_url),
            deepsentinel.protect(openai.OpenAI(api_key="k", base_url=base_url)),
            deepsentinel.protect(openai.AzureOpenAI(api_key="k", azure_endpoint=base_url.removesuffix("/v1"),
                                                    api_version="2025-04-01-preview"))]


def test_every_sync_websocket_api_is_refused_before_connecting(listener: socket.socket) -> None:
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    for client in _sync_clients(base_url):
        found = list(connects(client))
        assert len(found) >= 8, found  # realtime, beta.realtime, responses, beta.responses, live (3), translations
        for path, connect in found:
            with pytest.raises(ConfigurationError, match="WebSocket"):
                connect(**_arguments(connect)).__enter__()
                pytest.fail(f"{path} was not refused")
        client.close()
    assert _no_connection(listener)


async def test_every_async_websocket_api_is_refused_before_connecting(listener: socket.socket) -> None:
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    for client in (AsyncSentinelClient(openai_api_key="k", base_url=base_url),
                   deepsentinel.protect(openai.AsyncOpenAI(api_key="k", base_url=base_url))):
        found = list(connects(client))
        assert len(found) >= 8, found
        for path, connect in found:
            with pytest.raises(ConfigurationError, match="WebSocket"):
                await connect(**_arguments(connect)).__aenter__()
                pytest.fail(f"{path} was not refused")
        await client.close()
    assert _no_connection(listener)
