"""Stream guard actions end to end: anonymize in-stream, restore placeholders for the caller, log-only."""

from __future__ import annotations

import re

import pytest

from deepsentinel import CompliancePolicy, SentinelConfig
from deepsentinel.audit.events import MemorySink, Outcome
from deepsentinel.testing import FakeLLMServer, Reply
from tests.conftest import collect, create, user

EMAIL = "jane.doe@" + "example.com"
CLAUDE = "claude-3-haiku-20240307"


def text_of(chunks: list) -> str:  # type: ignore[type-arg]
    return "".join(c.choices[0].delta.content or "" for c in chunks)


@pytest.mark.parametrize("model", ["gpt-4o", CLAUDE])
async def test_anonymize_replaces_values_inside_the_stream(make_client, fake_server: FakeLLMServer, model: str) -> None:
    """An anonymizing policy masks a split card in-stream; the rest of the answer flows."""
    policy = CompliancePolicy(name="mask", block_on_violation=False, anonymization_strategy="mask")
    fake_server.enqueue(Reply(chunks=["Card ", "4111 1111", " 1111 1111", " is on file."]))
    chunks = await collect(
        await create(make_client(compliance_policies=[policy]), model=model, messages=user("card?"), stream=True)
    )
    text = text_of(chunks)
    assert text.endswith(" is on file.") and text.startswith("Card ")
    assert "4111 1111 1111" not in text and text.count("1111") <= 1


@pytest.mark.parametrize("model", ["gpt-4o", CLAUDE])
async def test_placeholders_echoed_by_the_model_are_restored_for_the_caller(
    make_client, fake_server: FakeLLMServer, model: str
) -> None:
    """The provider sees a placeholder; the caller sees the original again, even when it arrives split."""
    policy = CompliancePolicy(name="pseudo", block_on_violation=False, anonymize_threshold=0.1)
    client = make_client(compliance_policies=[policy], config=SentinelConfig(deanonymize_responses=True))
    await create(client, model=model, messages=user(f"Write to {EMAIL} today"))
    sent = str(fake_server.last_request.json["messages"])
    assert EMAIL not in sent
    token = re.search(r"<[A-Z_]+_\d+>", sent).group(0)  # type: ignore[union-attr]
    half = len(token) // 2
    fake_server.enqueue(Reply(chunks=["I wrote to ", token[:half], token[half:], " as asked."]))
    chunks = await collect(await create(client, model=model, messages=user(f"Did you write to {EMAIL}?"), stream=True))
    assert text_of(chunks) == f"I wrote to {EMAIL} as asked."
    assert EMAIL not in str(fake_server.last_request.json["messages"])


@pytest.mark.parametrize("model", ["gpt-4o", CLAUDE])
async def test_log_only_lets_text_flow_and_records_the_finding(
    make_client, fake_server: FakeLLMServer, sink: MemorySink, model: str
) -> None:
    """Under the default policy an email in a response flows to the caller and is recorded as logged."""
    fake_server.enqueue(Reply(chunks=["Contact ", "jane.doe@", "example.com", " for help."]))
    chunks = await collect(await create(make_client(), model=model, messages=user("who?"), stream=True))
    assert text_of(chunks) == f"Contact {EMAIL} for help."
    (event,) = sink.events
    assert event.outcome is Outcome.ALLOWED
    assert [(f.type, f.direction, f.action) for f in event.findings] == [("EMAIL_ADDRESS", "response", "log")]


async def test_each_choice_of_n2_is_guarded_separately(make_client, fake_server: FakeLLMServer) -> None:
    """With n=2 every choice keeps its own guard: both texts arrive whole and in order."""
    chunks = await collect(await create(make_client(), model="gpt-4o", messages=user("hello"), stream=True, n=2))
    by_choice: dict[int, str] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            by_choice[choice.index] = by_choice.get(choice.index, "") + (choice.delta.content or "")
    assert set(by_choice) == {0, 1} and by_choice[0] and by_choice[1]


async def test_an_answer_restores_only_placeholders_its_own_call_sent(make_client, fake_server: FakeLLMServer) -> None:
    """One client, two users: a model that writes the other user's placeholder gets no value back."""
    policy = CompliancePolicy(name="pseudo", block_on_violation=False, anonymize_threshold=0.1)
    client = make_client(compliance_policies=[policy], config=SentinelConfig(deanonymize_responses=True))
    other = "alice@" + "example.org"
    await create(client, model="gpt-4o", messages=user(f"Remember {other}"))  # user A's conversation
    token_a = re.search(r"<[A-Z_]+_\d+>", str(fake_server.last_request.json["messages"])).group(0)  # type: ignore[union-attr]
    fake_server.enqueue(Reply(chunks=["Sure, ", token_a, " it is."]), Reply(text=f"Also {token_a}."))
    chunks = await collect(await create(client, model="gpt-4o", messages=user(f"Write to {EMAIL}"), stream=True))
    assert other not in text_of(chunks) and token_a in text_of(chunks)
    reply = await create(client, model="gpt-4o", messages=user(f"And {EMAIL}?"))
    assert other not in (reply.choices[0].message.content or "")


async def test_a_credential_hidden_in_json_escapes_of_tool_arguments_is_blocked(
    make_client, fake_server: FakeLLMServer
) -> None:
    """Tool-call arguments are JSON: an escaped URL with credentials is still caught, however it is split."""
    from deepsentinel import ComplianceViolationError
    from deepsentinel.testing import ToolCall

    args = '{"url": "https:\\/\\/admin:' + "S3cr3tpass" + '@db.example.com"}'
    fake_server.enqueue(Reply(tool_calls=[ToolCall(name="fetch", arguments=args,
                                                   argument_chunks=[args[i:i + 3] for i in range(0, len(args), 3)])]))
    stream = await create(make_client(), model="gpt-4o", messages=user("fetch it"), stream=True)
    seen = ""
    with pytest.raises(ComplianceViolationError) as info:
        if hasattr(stream, "__aiter__"):
            async for chunk in stream:
                for tc in chunk.choices[0].delta.tool_calls or []:
                    seen += (tc.function.arguments or "") if tc.function else ""
        else:
            for chunk in stream:
                for tc in chunk.choices[0].delta.tool_calls or []:
                    seen += (tc.function.arguments or "") if tc.function else ""
    assert "S3cr3tpass" not in seen and info.value.violations[0].type == "URL_WITH_CREDENTIALS"


@pytest.mark.parametrize("model", ["gpt-4o", CLAUDE])
async def test_chinese_prose_streams_chunk_by_chunk(make_client, fake_server: FakeLLMServer, model: str) -> None:
    """Text without spaces is released as it arrives (it once came out in one piece when the stream ended)."""
    pieces = ["这是一个", "关于河流", "的简短说明", "它们从山上", "流向大海"]
    fake_server.enqueue(Reply(chunks=pieces))
    chunks = await collect(await create(make_client(), model=model, messages=user("河流?"), stream=True))
    shown = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert shown == pieces
