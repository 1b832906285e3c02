"""Embeddings, models and health checks through the client, over real HTTP."""

from __future__ import annotations

import inspect

import pytest
from openai.types import CreateEmbeddingResponse, Model

from deepsentinel import ComplianceViolationError, ConfigurationError
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


async def test_embeddings_are_openai_compatible_only(make_client) -> None:
    with pytest.raises(ConfigurationError, match="no embeddings endpoint"):
        await _await(make_client().embeddings.create(model="claude-3-haiku-20240307", input="hi"))


async def test_models_list_merges_providers_and_retrieve_routes(make_client, fake_server: FakeLLMServer) -> None:
    """models.list() asks every configured provider; retrieve() asks the one the model belongs to."""
    client = make_client()
    models = await _await(client.models.list())
    assert all(isinstance(m, Model) for m in models)
    owners = {m.owned_by for m in models}
    assert "anthropic" in owners and len(owners) >= 2
    one = await _await(client.models.retrieve("gpt-4o"))
    assert one.id == "gpt-4o"
    assert fake_server.last_request.path == "/v1/models/gpt-4o"


async def test_health_check_reports_each_provider(make_client, fake_server: FakeLLMServer) -> None:
    """Reachable providers report ok with a latency; an unreachable one reports the error, no raise."""
    dead = FakeLLMServer().start()
    dead.stop()
    client = make_client(anthropic_base_url=dead.anthropic_base_url)
    report = await _await(client.health_check())
    assert report["openai"].ok and report["openai"].latency_ms is not None
    assert not report["anthropic"].ok and "could not reach" in (report["anthropic"].error or "")


async def test_embeddings_refuse_fallbacks_and_send_nothing(make_client, fake_server: FakeLLMServer) -> None:
    """Vectors from another model are not comparable: fallbacks= is a ValidationError, not a body field."""
    from deepsentinel import ValidationError

    with pytest.raises(ValidationError, match="fallbacks"):
        await _await(make_client().embeddings.create(model="text-embedding-3-small", input="hi",
                                                     fallbacks=["openai/text-embedding-3-large"]))
    assert fake_server.request_count() == 0
