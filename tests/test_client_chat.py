"""The client's chat path end to end over real HTTP: both clients, streaming and not, compliance both ways."""

from __future__ import annotations

import json
import re

import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from deepsentinel import CompliancePolicy, ComplianceViolationError
from deepsentinel.audit.events import MemorySink, Outcome
from deepsentinel.testing import FakeLLMServer, Reply
from tests.conftest import close, collect, create, drain_text, user

CARD = "4111" + "-1111" * 3


async def test_non_streaming_returns_openai_chat_completion(make_client, fake_server: FakeLLMServer) -> None:
    """A plain call returns the openai package's own ChatCompletion, with the server's text."""
    fake_server.enqueue(Reply(text="Mountains stand tall."))
    reply = await create(make_client(), model="gpt-4o", messages=user("A poem about mountains"))
    assert isinstance(reply, ChatCompletion)
    assert reply.choices[0].message.content == "Mountains stand tall."
    assert reply.usage is not None and reply.usage.total_tokens > 0


async def test_streaming_yields_openai_chunks_in_order(make_client, fake_server: FakeLLMServer) -> None:
    """Streamed chunks are ChatCompletionChunk objects whose deltas rebuild the whole answer."""
    fake_server.enqueue(Reply(chunks=["Roses ", "are ", "red, ", "violets ", "are ", "blue."]))
    stream = await create(make_client(), model="gpt-4o", messages=user("poem"), stream=True)
    chunks = await collect(stream)
    assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
    assert all(c.choices for c in chunks)  # the tutorial indexes choices[0] unguarded
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Roses are red, violets are blue."
    assert chunks[-1].choices[0].finish_reason == "stop"


async def test_include_usage_adds_the_usage_chunk_only_when_asked(make_client, fake_server: FakeLLMServer) -> None:
    """A choice-less usage chunk appears only with stream_options.include_usage."""
    client = make_client()
    plain = await collect(await create(client, model="gpt-4o", messages=user("hi"), stream=True))
    assert all(c.choices for c in plain)
    asked = await collect(
        await create(client, model="gpt-4o", messages=user("hi"), stream=True, stream_options={"include_usage": True})
    )
    assert asked[-1].choices == [] and asked[-1].usage is not None


async def test_unknown_parameters_pass_through_untouched(make_client, fake_server: FakeLLMServer) -> None:
    """Provider parameters (``extra_body``, as in the openai SDK) reach the provider as given; ours are removed."""
    await create(
        make_client(), model="gpt-4o", messages=user("hi"), temperature=0.7, max_tokens=200,
        seed=7, extra_body={"some_future_flag": {"a": [1, 2]}}, provider="openai",
    )
    body = fake_server.last_request.json
    assert body["temperature"] == 0.7 and body["max_tokens"] == 200 and body["seed"] == 7
    assert body["some_future_flag"] == {"a": [1, 2]}
    assert "provider" not in body
    assert not any(k.startswith("x-deepsentinel") for k in fake_server.last_request.headers)


async def test_blocked_prompt_never_leaves_the_process(make_client, fake_server: FakeLLMServer, sink: MemorySink) -> None:
    """A prompt with an SSN raises before any HTTP request, with typed violations and no raw value."""
    with pytest.raises(ComplianceViolationError) as info:
        await create(make_client(), model="gpt-4o", messages=user("My social security number is 123-45-6789"),
                     stream=True)
    err = info.value
    assert fake_server.request_count() == 0
    assert err.direction == "request" and err.policy == "default"
    assert [v.type for v in err.violations] == ["US_SSN"]
    v = err.violations[0]
    assert (v.start, v.end) == (29, 40) and v.category.value == "PII" and v.confidence > 0.5
    assert "123-45-6789" not in str(err) and "123-45-6789" not in repr(err)
    assert [e.outcome for e in sink.events] == [Outcome.BLOCKED]


@pytest.mark.parametrize("text", [CARD, "4111 1111 1111 1111", "4111111111111111"])
async def test_default_policy_blocks_cards_in_common_formats(make_client, fake_server: FakeLLMServer, text: str) -> None:
    """With no policy configured, card numbers in any common format are blocked."""
    with pytest.raises(ComplianceViolationError) as info:
        await create(make_client(), model="gpt-4o", messages=user(f"My credit card is {text}"))
    assert [v.type for v in info.value.violations] == ["CREDIT_CARD"]
    assert fake_server.request_count() == 0


async def test_default_policy_only_records_low_risk_findings(make_client, fake_server: FakeLLMServer, sink: MemorySink) -> None:
    """An email address in a prompt is sent, and recorded as a logged finding."""
    await create(make_client(), model="gpt-4o", messages=user("Reply to jane@example.com please"))
    assert fake_server.request_count() == 1
    assert "jane@example.com" in json.dumps(fake_server.last_request.json)
    (event,) = sink.events
    assert event.outcome is Outcome.ALLOWED
    assert [(f.type, f.action) for f in event.findings] == [("EMAIL_ADDRESS", "log")]


async def test_history_is_checked_not_just_the_last_message(make_client, fake_server: FakeLLMServer) -> None:
    """A card in an earlier assistant turn blocks the call too: the provider would read it."""
    messages = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": f"Your card {CARD} is on file."},
        {"role": "user", "content": "thanks"},
    ]
    with pytest.raises(ComplianceViolationError) as info:
        await create(make_client(), model="gpt-4o", messages=messages)
    assert info.value.violations[0].location == "messages[2].content"
    assert fake_server.request_count() == 0


async def test_non_streamed_response_with_card_is_withheld(make_client, fake_server: FakeLLMServer, sink: MemorySink) -> None:
    """A violating non-streamed response raises with direction 'response' instead of being returned."""
    fake_server.enqueue(Reply(text=f"Sure, the card is {CARD}."))
    with pytest.raises(ComplianceViolationError) as info:
        await create(make_client(), model="gpt-4o", messages=user("what card?"))
    assert info.value.direction == "response"
    assert [v.type for v in info.value.violations] == ["CREDIT_CARD"]
    assert info.value.violations[0].location == "choices[0].message.content"
    assert CARD not in str(info.value)
    assert [e.outcome for e in sink.events] == [Outcome.BLOCKED]


@pytest.mark.parametrize(
    "chunks",
    [
        ["Your card: ", "4111 11", "11 1111", " 1111", " is on file."],
        ["Your card: ", *list("4111-1111-1111-1111"), " is on file."],
        ["Your card: 4111111111111111 is on file."],
    ],
    ids=["three-pieces", "one-char-per-chunk", "one-chunk"],
)
async def test_stream_is_terminated_before_a_split_card_is_shown(
    make_client, fake_server: FakeLLMServer, sink: MemorySink, chunks: list[str]
) -> None:
    """However the provider splits it, no digit of the card reaches the caller; the safe prefix does."""
    fake_server.enqueue(Reply(chunks=chunks))
    stream = await create(make_client(), model="gpt-4o", messages=user("card?"), stream=True)
    shown: list[str] = []
    with pytest.raises(ComplianceViolationError) as info:
        await drain_text(stream, shown)
    text = "".join(shown)
    assert info.value.direction == "response"
    assert text.startswith("Your card:") or text == ""
    assert not any(ch.isdigit() for ch in text)
    assert [e.outcome for e in sink.events] == [Outcome.STREAM_TERMINATED]


async def test_early_close_releases_the_connection_and_audits_once(
    make_client, fake_server: FakeLLMServer, sink: MemorySink
) -> None:
    """Breaking out and closing a stream releases its HTTP response and records exactly one event."""
    fake_server.enqueue(Reply(chunks=["one ", "two ", "three ", "four "], delay_between=0.01))
    stream = await create(make_client(), model="gpt-4o", messages=user("count"), stream=True)
    if hasattr(stream, "__aiter__"):
        async for _ in stream:
            break
    else:
        for _ in stream:
            break
    await close(stream)
    await close(stream)  # idempotent
    assert stream.response.is_closed
    assert len(sink.events) == 1 and sink.events[0].streamed


async def test_strict_policy_blocks_what_default_would_log(make_client, fake_server: FakeLLMServer) -> None:
    """A policy with a low max_risk_score blocks several low-risk values together."""
    strict = CompliancePolicy(name="strict", max_risk_score=0.3)
    with pytest.raises(ComplianceViolationError) as info:
        await create(make_client(compliance_policies=[strict]), model="gpt-4o",
                     messages=user("mail a@example.com or b@example.org, call 415-555-0132"))
    assert info.value.policy == "strict"
    assert fake_server.request_count() == 0


async def test_anonymize_policy_rewrites_the_prompt_before_sending(make_client, fake_server: FakeLLMServer) -> None:
    """With anonymization, the provider receives a placeholder instead of the value; the caller's list is untouched."""
    policy = CompliancePolicy(name="anon", block_on_violation=False, anonymize_threshold=0.2)
    messages = user("Email jane@example.com and bill card 4111 1111 1111 1111")
    await create(make_client(compliance_policies=[policy]), model="gpt-4o", messages=messages)
    sent = fake_server.last_request.json["messages"][0]["content"]
    assert "jane@example.com" not in sent and "4111" not in sent
    assert messages[0]["content"].startswith("Email jane@example.com")


async def test_client_close_is_idempotent_and_context_managed(fake_server: FakeLLMServer) -> None:
    """Both clients close cleanly, twice, and as context managers."""
    from deepsentinel import AsyncSentinelClient, SentinelClient

    with SentinelClient(openai_api_key="k", base_url=fake_server.openai_base_url, audit=False) as c:
        c.chat.completions.create(model="gpt-4o", messages=user("hi"))
    c.close()
    async with AsyncSentinelClient(openai_api_key="k", base_url=fake_server.openai_base_url, audit=False) as a:
        await a.chat.completions.create(model="gpt-4o", messages=user("hi"))
    await a.close()
    assert fake_server.request_count() == 2


async def test_an_anonymized_participant_name_stays_a_valid_name(make_client, fake_server: FakeLLMServer) -> None:
    """A name field that gets anonymized is sent in the [A-Za-z0-9_-] form providers accept."""
    policy = CompliancePolicy(name="anon", block_on_violation=False, anonymize_threshold=0.1)
    messages = [{"role": "user", "name": "jane@example.com", "content": "hello"}]
    await create(make_client(compliance_policies=[policy]), model="gpt-4o", messages=messages)
    sent = fake_server.last_request.json["messages"][0]["name"]
    assert "jane" not in sent and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", sent)
