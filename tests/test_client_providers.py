"""Anthropic behind the OpenAI interface, named OpenAI-compatible providers, and fallback under faults."""

from __future__ import annotations

import json

import pytest
from openai.types.chat import ChatCompletion

from deepsentinel import (
    AuthenticationError,
    ComplianceViolationError,
    PerformanceConfig,
    ProviderConfig,
    ProviderError,
    SentinelConfig,
)
from deepsentinel.audit.events import MemorySink, Outcome
from deepsentinel.testing import FakeLLMServer, Reply, ToolCall
from tests.conftest import collect, create, drain_text, user

CLAUDE = "claude-3-opus-20240229"
NO_RETRY = PerformanceConfig(max_retries=0)


async def test_anthropic_reply_is_an_openai_chat_completion(make_client, fake_server: FakeLLMServer) -> None:
    """A claude model routes to /v1/messages; the reply comes back as ChatCompletion with usage."""
    fake_server.enqueue(Reply(text="Streams deliver tokens as they are made."))
    messages = [{"role": "system", "content": "Be brief."}, *user("Explain streaming")]
    reply = await create(make_client(), model=CLAUDE, messages=messages, max_tokens=150)
    assert isinstance(reply, ChatCompletion)
    assert reply.choices[0].message.content == "Streams deliver tokens as they are made."
    assert reply.choices[0].finish_reason == "stop" and reply.usage is not None
    sent = fake_server.last_request
    assert sent.path == "/v1/messages"
    assert sent.json["system"] == "Be brief." and sent.json["max_tokens"] == 150
    assert [m["role"] for m in sent.json["messages"]] == ["user"]


async def test_anthropic_stream_and_tool_calls_translate(make_client, fake_server: FakeLLMServer) -> None:
    """Streamed text deltas and tool_use blocks arrive as OpenAI chunks and tool-call deltas."""
    fake_server.enqueue(
        Reply(chunks=["Checking ", "the weather."],
              tool_calls=[ToolCall(name="get_weather", arguments='{"city": "Paris"}')])
    )
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    chunks = await collect(
        await create(make_client(), model=CLAUDE, messages=user("weather?"), tools=tools, stream=True)
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    args = "".join(
        tc.function.arguments or ""
        for c in chunks for tc in (c.choices[0].delta.tool_calls or []) if tc.function is not None
    )
    assert text == "Checking the weather."
    assert json.loads(args) == {"city": "Paris"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert fake_server.last_request.json["tools"][0]["name"] == "get_weather"


async def test_anthropic_stream_is_guarded_too(make_client, fake_server: FakeLLMServer) -> None:
    """The stream guard cuts an Anthropic stream before a split card is shown."""
    fake_server.enqueue(Reply(chunks=["Card: ", "5555 5555 ", "5555 4444", " done"]))
    stream = await create(make_client(), model=CLAUDE, messages=user("card?"), stream=True)
    shown: list[str] = []
    with pytest.raises(ComplianceViolationError) as info:
        await drain_text(stream, shown)
    assert info.value.direction == "response" and not any(ch.isdigit() for ch in "".join(shown))


async def test_anthropic_errors_map_onto_our_types(make_client, fake_server: FakeLLMServer) -> None:
    """Overload is retried; a rejected key is AuthenticationError with provider 'anthropic'."""
    config = SentinelConfig(performance_config=PerformanceConfig(max_retries=1, retry_backoff=0.01))
    fake_server.enqueue(Reply(status=529), Reply(text="back"))
    reply = await create(make_client(config=config), model=CLAUDE, messages=user("hi"))
    assert reply.choices[0].message.content == "back"
    fake_server.enqueue(Reply(status=401))
    with pytest.raises(AuthenticationError) as info:
        await create(make_client(config=config), model=CLAUDE, messages=user("hi"))
    assert info.value.provider == "anthropic"


async def test_fallback_moves_to_the_next_target_on_overload(
    make_client, fake_server: FakeLLMServer, sink: MemorySink
) -> None:
    """OpenAI answers 503; the call falls back to Anthropic, and the audit record names the target."""
    fake_server.enqueue(Reply(status=503), Reply(text="from the fallback"))
    client = make_client(config=SentinelConfig(performance_config=NO_RETRY))
    reply = await create(client, model="gpt-4o", messages=user("hi"), fallbacks=[f"anthropic/{CLAUDE}"])
    assert reply.choices[0].message.content == "from the fallback"
    assert [r.path for r in fake_server.requests] == ["/v1/chat/completions", "/v1/messages"]
    (event,) = sink.events
    assert event.outcome is Outcome.ALLOWED and event.target == f"anthropic/{CLAUDE}" and event.provider == "anthropic"


async def test_fallback_for_streams_happens_before_any_content(make_client, fake_server: FakeLLMServer) -> None:
    """A stream whose first target is rate limited opens on the fallback instead."""
    fake_server.enqueue(Reply(status=429, headers={"retry-after": "0"}), Reply(chunks=["fine"]))
    client = make_client(config=SentinelConfig(performance_config=NO_RETRY, fallbacks=(f"anthropic/{CLAUDE}",)))
    chunks = await collect(await create(client, model="gpt-4o", messages=user("hi"), stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "fine"


async def test_no_fallback_for_a_bad_request(make_client, fake_server: FakeLLMServer) -> None:
    """A 400 would fail anywhere: it is raised, the fallback is not tried."""
    fake_server.enqueue(Reply(status=400, error_message="bad"))
    client = make_client(config=SentinelConfig(performance_config=NO_RETRY))
    with pytest.raises(ProviderError) as info:
        await create(client, model="gpt-4o", messages=user("hi"), fallbacks=[f"anthropic/{CLAUDE}"])
    assert info.value.status_code == 400 and fake_server.request_count() == 1


async def test_named_openai_compatible_provider_with_aliases(make_client, fake_server: FakeLLMServer) -> None:
    """A local server (Ollama-style, no key) is one ProviderConfig entry; aliases rename models."""
    local = ProviderConfig(name="ollama", base_url=fake_server.openai_base_url, model_aliases={"fast": "gpt-4o-mini"})
    client = make_client(config=SentinelConfig(providers=(local,), default_provider="ollama"))
    reply = await create(client, model="fast", messages=user("hi"))
    assert reply.choices[0].message.content
    sent = fake_server.last_request
    assert sent.json["model"] == "gpt-4o-mini" and "authorization" not in sent.headers
    await create(client, model="gpt-4o", messages=user("hi"), provider="ollama")
    assert fake_server.last_request.json["model"] == "gpt-4o"


async def test_azure_style_endpoint_uses_api_version_and_api_key_header(make_client, fake_server: FakeLLMServer) -> None:
    """An Azure-style provider sends ?api-version= and the api-key header instead of a bearer token."""
    azure = ProviderConfig(name="azure", base_url=fake_server.openai_base_url, api_key="azure-key",
                           api_version="2024-06-01")
    client = make_client(config=SentinelConfig(providers=(azure,)))
    await create(client, model="gpt-4o", messages=user("hi"), provider="azure")
    sent = fake_server.last_request
    assert "api-version=2024-06-01" in sent.query
    assert sent.headers["api-key"] == "azure-key" and "authorization" not in sent.headers


async def test_a_call_the_provider_cannot_express_is_invalid_sends_nothing_and_leaves_no_event(
    make_client, fake_server: FakeLLMServer, sink: MemorySink
) -> None:
    """n=2 has no Anthropic form: ValidationError before any request, and no audit event (nothing was decided)."""
    from deepsentinel import ValidationError

    with pytest.raises(ValidationError):
        await create(make_client(), model=CLAUDE, messages=user("hi"), n=2)
    assert fake_server.request_count() == 0 and sink.events == []


@pytest.mark.parametrize("messages", [None, "tell me about rivers", [5], []], ids=["none", "string", "not-an-object", "empty"])
async def test_messages_anthropic_cannot_be_given_are_invalid_and_send_nothing(
    make_client, fake_server: FakeLLMServer, messages: object
) -> None:
    """Routed to Anthropic, messages that are not a list of message objects cannot be translated: ValidationError,
    nothing sent (at the caller's own URL they would go out as the raw client sends them)."""
    from deepsentinel import ValidationError

    with pytest.raises(ValidationError):
        await create(make_client(), model=CLAUDE, messages=messages)
    assert fake_server.request_count() == 0


def test_a_claude_model_stays_at_the_callers_url_without_an_anthropic_key(fake_server: FakeLLMServer,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """An OpenAI-compatible proxy (LiteLLM, a company gateway) may serve a model named ``claude-*``: with no Anthropic
    key configured, the call goes to the client's own URL as the raw client sends it (it was refused for the missing
    key). With one, it is routed to Anthropic and translated, as documented."""
    from deepsentinel import SentinelClient

    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    fake_server.enqueue(Reply(text="From the proxy."))
    with SentinelClient(api_key="k", base_url=fake_server.openai_base_url, audit=False) as client:
        reply = client.chat.completions.create(model="claude-3-5-haiku-latest", messages=user("hi"))
    assert reply.choices[0].message.content == "From the proxy."
    assert [r.path for r in fake_server.requests] == ["/v1/chat/completions"]
    fake_server.enqueue(Reply(text="From Anthropic."))
    with SentinelClient(api_key="k", base_url=fake_server.openai_base_url, anthropic_api_key="ak",
                        anthropic_base_url=fake_server.anthropic_base_url, audit=False) as client:
        reply = client.chat.completions.create(model="claude-3-5-haiku-latest", messages=user("hi"))
    assert reply.choices[0].message.content == "From Anthropic."
    assert [r.path for r in fake_server.requests] == ["/v1/chat/completions", "/v1/messages"]
