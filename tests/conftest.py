"""Shared fixtures: a fake LLM server per test, clients pointed at it, and an environment with no real keys."""

from __future__ import annotations

import inspect
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from deepsentinel import AsyncSentinelClient, SentinelClient
from deepsentinel.audit.events import MemorySink
from deepsentinel.testing import FakeLLMServer

# The fake server's own fixture (``fake_server``), as users of deepsentinel.testing get it.
pytest_plugins = ["deepsentinel.testing.pytest_plugin"]

_OURS = ("OPENAI_", "ANTHROPIC_", "DEEPSENTINEL_")


@pytest.fixture(autouse=True, scope="session")
def _compiled_catalog() -> None:
    """A first run on a machine compiles the catalog's digit database on a thread; tests that compare the
    prefilter's answers across calls see it compiled. (Its meantime is tested in test_detection_prefilter.py.)"""
    from deepsentinel.detection.engine import default_engine

    assert default_engine().wait_compiled(120)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """No test sees the developer's real keys, and no test writes an audit file outside its tmp dir."""
    for name in [n for n in os.environ if n.startswith(_OURS)]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DEEPSENTINEL_AUDIT_PATH", str(tmp_path / "audit.sqlite3"))


ClientFactory = Callable[..., Any]


@pytest.fixture(params=[True, False], ids=["sync", "async"])
def sync(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


@pytest.fixture
async def make_client(fake_server: FakeLLMServer, sync: bool, sink: MemorySink) -> AsyncIterator[ClientFactory]:
    """Build a sync or async client against the fake server; closes what it built."""
    built: list[Any] = []

    def factory(**kwargs: Any) -> Any:
        kwargs.setdefault("openai_api_key", "test-key")
        kwargs.setdefault("base_url", fake_server.openai_base_url)
        kwargs.setdefault("anthropic_api_key", "test-key")
        kwargs.setdefault("anthropic_base_url", fake_server.anthropic_base_url)
        kwargs.setdefault("audit", sink)
        client = (SentinelClient if sync else AsyncSentinelClient)(**kwargs)
        built.append(client)
        return client

    yield factory
    for client in built:
        result = client.close()
        if inspect.isawaitable(result):
            await result


async def create(client: Any, **kwargs: Any) -> Any:
    """Call ``chat.completions.create`` on either client."""
    result = client.chat.completions.create(**kwargs)
    return await result if inspect.isawaitable(result) else result


async def collect(stream: Any) -> list[Any]:
    """Drain a Stream or AsyncStream into a list of chunks."""
    if hasattr(stream, "__aiter__"):
        return [chunk async for chunk in stream]
    return list(stream)


async def drain_text(stream: Any, into: list[str]) -> None:
    """Append each chunk's content to ``into`` as it arrives (so a test sees what came before an error)."""
    if hasattr(stream, "__aiter__"):
        async for chunk in stream:
            into.append(chunk.choices[0].delta.content or "")
    else:
        for chunk in stream:
            into.append(chunk.choices[0].delta.content or "")


async def close(obj: Any) -> None:
    result = obj.close()
    if inspect.isawaitable(result):
        await result


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]
