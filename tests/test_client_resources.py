"""Embeddings and models through the client, over real HTTP."""

from __future__ import annotations

import inspect

import pytest
from openai.types import CreateEmbeddingResponse, Model

from deepsentinel import ComplianceViolationError
from deepsentinel.audit.events import MemorySink, Outcome
from deepsentinel.testing import FakeLLMServer


async def _await(value):  # type: ignore[no-untyped-def]
    return await value if inspect.isawaitable(value) else value


async def test_embeddings_return_openai_type_and_check_inputs(make_client, fake_server: FakeLLMServer, sink: MemorySink) -> None:
    """Safe inputs are embedded; an input with a card is blocked before the request."""
    client = make_client()
    result = await _await(client.embeddings.create(model="text-embedding-3-small", input=["hello", "world"]))
    assert isinstance(result, CreateEmbeddingResponse) and len(result.data) == 2
    with pytest.raises(ComplianceViolationError) as info:
        await _await(client.embeddings.create(model="text-embedding-3-small", input="card 4111 1111 1111 1111"))
    assert info.value.violations[0].type == "CREDIT_CARD"
    assert fake_server.request_count("/v1/embeddings") == 1
    assert [e.operation for e in sink.events] == ["embeddings", "embeddings"]
    assert [e.outcome for e in sink.events] == [Outcome.ALLOWED, Outcome.BLOCKED]


async def test_models_are_the_sdks_own_pages(make_client, fake_server: FakeLLMServer) -> None:
    """models.list() and retrieve() are the official SDK's: a page with ``.data``, a ``Model``; nothing is checked."""
    client = make_client()
    page = await _await(client.models.list())
    assert page.data and all(isinstance(m, Model) for m in page.data)
    one = await _await(client.models.retrieve("gpt-4o"))
    assert one.id == "gpt-4o"
    assert fake_server.last_request.path == "/v1/models/gpt-4o"


async def test_unknown_keyword_is_the_sdks_type_error(make_client, fake_server: FakeLLMServer) -> None:
    """Embeddings take the official parameters only: fallbacks= is refused before anything is sent."""
    with pytest.raises(TypeError, match="fallbacks"):
        await _await(make_client().embeddings.create(model="text-embedding-3-small", input="hi",
                                                     fallbacks=["openai/text-embedding-3-large"]))
    assert fake_server.request_count() == 0
