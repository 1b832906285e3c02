"""A stream reopened before any of it was shown: the caller sees one attempt's opening, never both merged.

The opening events of a known format (a chat role chunk, a tool call's name, Anthropic's ``message_start`` and
``content_block_start``, Responses' ``created``/``output_item.added``) are held until something else is sent,
so a reopen replaces them. Everything else, text-less events included, stays live.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2
import openai
import pytest

from deepsentinel import CompliancePolicy, PerformanceConfig, SentinelConfig, protect
from deepsentinel.anthropic_clients import AsyncSentinelAnthropic, SentinelAnthropic
from deepsentinel.audit.events import MemorySink, Outcome
from deepsentinel.detection.engine import default_engine
from deepsentinel.policy.policy import DEFAULT_POLICY
from deepsentinel.testing import FakeLLMServer, Reply, ToolCall
from deepsentinel.wire.codec import codec_for
from deepsentinel.wire.event_guard import EventGuard
from deepsentinel.wire.guard import WireGuard
from deepsentinel.wire.sse import Event
from tests.raw_sse import RawSSEServer, sse

FAST = SentinelConfig(performance_config=PerformanceConfig(max_retries=1, retry_backoff=0))
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}}]
# The first arguments delta is held by the stream guard (a key and its colon may start a secret), so nothing
# of the first attempt has been shown when it breaks.
WEATHER = ToolCall("get_weather", '{"city": "Paris"}', argument_chunks=['{"city":', ' "Paris"}'])
HI = [{"role": "user", "content": "hi"}]


async def _final_chat(client: Any, **kwargs: Any) -> Any:
    manager = client.chat.completions.stream(messages=HI, **kwargs)
    if isinstance(manager, openai.lib.streaming.chat.AsyncChatCompletionStreamManager):
        async with manager as stream:
            return (await stream.get_final_completion()).choices[0].message
    with manager as stream:
        return stream.get_final_completion().choices[0].message


async def test_a_translated_stream_reopened_after_an_overload_has_one_role(
    make_client: Any, fake_server: FakeLLMServer
) -> None:
    """Claude's overload event before any text: reopened, and the SDK's accumulated role is not doubled."""
    fake_server.enqueue(Reply(text="lost", error_after=0), Reply(text="Second try."))
    message = await _final_chat(make_client(config=FAST), model="claude-3-5-haiku-20241022")
    assert (message.role, message.content) == ("assistant", "Second try.")
    assert fake_server.request_count() == 2


async def test_a_native_tool_call_reopened_after_a_disconnect_is_named_once(
    make_client: Any, fake_server: FakeLLMServer
) -> None:
    fake_server.enqueue(Reply(tool_calls=[WEATHER], disconnect_after=1), Reply(tool_calls=[WEATHER]))
    message = await _final_chat(make_client(config=FAST), model="gpt-4o", tools=TOOLS)
    [call] = message.tool_calls
    assert (call.function.name, call.function.arguments) == ("get_weather", '{"city": "Paris"}')
    assert call.id.count("call_") == 1 and message.role == "assistant"
    assert fake_server.request_count() == 2


async def test_what_a_reopened_attempts_held_opening_showed_the_guard_stays_in_the_record(
    make_client: Any, fake_server: FakeLLMServer, sink: MemorySink
) -> None:
    """A tool named with an address, held and then dropped with its broken attempt: never shown, but the provider
    sent it, so the call's audit event still counts the finding (it used to record only the second attempt's).
    It decides nothing about what the caller got: under a policy that anonymizes it, the call is still recorded
    as allowed, the finding's action as ``log``. Resent and shown, it is counted once, as the shown one."""
    named = ToolCall("mail_jane.canary@corp-example.com", '{"city": "Paris"}', argument_chunks=['{"city":', ' "Paris"}'])
    pseudonymize = CompliancePolicy(name="pseudo", block_on_violation=False, anonymize_threshold=0.1)
    anonymizing = FAST.model_copy(update={"compliance_policies": (pseudonymize,)})
    for config in (FAST, anonymizing):
        fake_server.enqueue(Reply(tool_calls=[named], disconnect_after=1), Reply(text="Plain answer."))
        client = make_client(config=config)
        message = await _final_chat(client, model="gpt-4o")
        assert (message.content, message.tool_calls) == ("Plain answer.", None)
        client._sentinel.settle()
        event = sink.events[-1]
        assert (event.attempts, event.finding_counts(), event.outcome) == (2, {"EMAIL_ADDRESS": 1}, Outcome.ALLOWED)
        assert [(f.direction, f.action) for f in event.findings] == [("response", "log")]
    fake_server.enqueue(Reply(tool_calls=[named], disconnect_after=1), Reply(tool_calls=[named]))
    client = make_client(config=anonymizing)
    message = await _final_chat(client, model="gpt-4o")
    client._sentinel.settle()
    event = sink.events[-1]
    assert (event.finding_counts(), event.outcome) == ({"EMAIL_ADDRESS": 1}, Outcome.ANONYMIZED)
    assert [f.action for f in event.findings] == ["anonymize"]
    assert fake_server.request_count() == 6


async def test_an_anthropic_tool_stream_reopened_after_a_disconnect_has_one_block(
    fake_server: FakeLLMServer, sync: bool
) -> None:
    fake_server.enqueue(Reply(tool_calls=[WEATHER], disconnect_after=1), Reply(tool_calls=[WEATHER]))
    kwargs: dict[str, Any] = {"model": "claude-3-5-haiku-20241022", "max_tokens": 64, "messages": HI,
                              "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}]}
    if sync:
        with SentinelAnthropic(api_key="k", base_url=fake_server.anthropic_base_url, config=FAST, audit=False) as client, \
                client.messages.stream(**kwargs) as stream:
            message = stream.get_final_message()
    else:
        async with AsyncSentinelAnthropic(api_key="k", base_url=fake_server.anthropic_base_url, config=FAST,
                                          audit=False) as aclient, aclient.messages.stream(**kwargs) as astream:
            message = await astream.get_final_message()
    assert [(b.type, b.name, b.input) for b in message.content] == [("tool_use", "get_weather", {"city": "Paris"})]
    assert fake_server.request_count() == 2


async def test_once_text_was_shown_a_break_is_not_reopened(make_client: Any, fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Reply(chunks=["Hello there, ", "friend."], disconnect_after=1), Reply(text="never"))
    with pytest.raises(openai.APIConnectionError):
        await _final_chat(make_client(config=FAST), model="gpt-4o")
    assert fake_server.request_count() == 1


# Text-less streams stay live: a server that sends some events, then waits for the test before the rest.

@pytest.fixture
def gated() -> Iterator[list[RawSSEServer]]:
    made: list[RawSSEServer] = []
    yield made
    for server in made:
        server.close()


def _gated(first: list[tuple[str, Any]], rest: list[tuple[str, Any]]) -> RawSSEServer:
    """A server that sends ``first``, then waits for the test's ``go`` before ``rest``."""
    return RawSSEServer((b"".join(sse(*e) for e in first), b"".join(sse(*e) for e in rest)))


def _response(status: str) -> dict[str, Any]:
    return {"id": "resp_1", "object": "response", "created_at": 1, "status": status, "model": "gpt-image",
            "output": [], "parallel_tool_calls": True, "tool_choice": "auto", "tools": []}


def _image_call(status: str) -> dict[str, Any]:
    return {"id": "ig_1", "type": "image_generation_call", "status": status, "result": None}


def test_a_responses_stream_of_partial_images_is_live_before_any_text(gated: list[RawSSEServer]) -> None:
    """Responses' opening events are held only until the next event (here a hosted tool's progress), so a partial
    image arrives while the provider is still working, not at the first text."""
    first = [("response.created", {"type": "response.created", "sequence_number": 0, "response": _response("in_progress")}),
             ("response.output_item.added", {"type": "response.output_item.added", "sequence_number": 1,
                                             "output_index": 0, "item": _image_call("in_progress")}),
             ("response.image_generation_call.partial_image", {
                 "type": "response.image_generation_call.partial_image", "sequence_number": 2, "output_index": 0,
                 "item_id": "ig_1", "partial_image_index": 0, "partial_image_b64": "aGVsbG8="})]
    rest = [("response.completed", {"type": "response.completed", "sequence_number": 3,
                                    "response": {**_response("completed"), "output": [_image_call("completed")]}})]
    server = _gated(first, rest)
    gated.append(server)
    from deepsentinel import SentinelClient

    with SentinelClient(api_key="k", base_url=server.url, audit=False, max_retries=0) as client:
        stream = client.responses.create(model="gpt-image", input="draw", stream=True)
        kinds = []
        for event in stream:
            kinds.append(event.type)
            if event.type == "response.image_generation_call.partial_image":
                assert not server.go.is_set()  # it came while the provider still held the rest
                server.go.set()
    assert kinds == ["response.created", "response.output_item.added",
                     "response.image_generation_call.partial_image", "response.completed"]


def test_an_image_stream_of_an_unknown_format_passes_live(gated: list[RawSSEServer]) -> None:
    """``images.generate(stream=True)`` (a format the guard reads whole-string by string): nothing is held."""
    first = [("image_generation.partial_image", {"type": "image_generation.partial_image", "b64_json": "aGVsbG8=",
                                                 "partial_image_index": 0, "created_at": 1, "size": "1024x1024",
                                                 "quality": "low", "background": "opaque", "output_format": "png"})]
    rest = [("image_generation.completed", {"type": "image_generation.completed", "b64_json": "aGVsbG8=",
                                            "created_at": 1, "size": "1024x1024", "quality": "low",
                                            "background": "opaque", "output_format": "png",
                                            "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2,
                                                      "input_tokens_details": {"image_tokens": 0, "text_tokens": 1}}})]
    server = _gated(first, rest)
    gated.append(server)
    with openai.OpenAI(api_key="k", base_url=server.url, max_retries=0, http_client=protect(httpx2.Client())) as client:
        kinds = []
        for event in client.images.generate(model="gpt-image-1", prompt="draw", stream=True, partial_images=1):
            kinds.append(event.type)
            if event.type == "image_generation.partial_image":
                assert not server.go.is_set()
                server.go.set()
    assert kinds == ["image_generation.partial_image", "image_generation.completed"]


async def test_the_held_role_chunk_leaves_with_the_first_text_not_at_the_end(gated: list[RawSSEServer]) -> None:
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o"}
    first = [("", {**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}),
             *[("", {**chunk, "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}]})
               for word in ("The ", "quick ", "brown ", "fox ", "jumps ", "over ", "the ", "lazy ", "dog ", "and ", "runs ",
                            "far ", "away.")]]
    rest = [("", {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}), ("", "[DONE]")]
    server = _gated(first, rest)
    gated.append(server)
    from deepsentinel import AsyncSentinelClient

    async with AsyncSentinelClient(api_key="k", base_url=server.url, audit=False, max_retries=0) as client:
        stream = await client.chat.completions.create(model="gpt-4o", messages=HI, stream=True)
        seen, early = [], None
        async for part in stream:
            seen.append((part.choices[0].delta.role, part.choices[0].delta.content))
            if part.choices[0].delta.content and early is None:
                early = not server.go.is_set()  # the first text came while the provider still held the rest
                server.go.set()
    assert early is True
    assert seen[0] == ("assistant", "") and "".join(c or "" for _, c in seen).startswith("The quick brown")


# The guard itself: which events open an answer, and that they leave in order.

GUARD = WireGuard([DEFAULT_POLICY], default_engine())


def _guard(path: str, body: dict[str, Any], *, may_reopen: bool = True) -> EventGuard:
    guard = EventGuard(GUARD, GUARD.check_request(path, json.dumps(body).encode()), ())
    guard.may_reopen = may_reopen
    return guard


@pytest.mark.parametrize(("path", "payload", "opens"), [
    ("/v1/chat/completions", {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}, True),
    ("/v1/chat/completions", {"choices": [], "prompt_filter_results": []}, True),
    ("/v1/chat/completions", {"choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}]}}]}, True),
    ("/v1/chat/completions", {"choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "function": {"arguments": "{"}}]}}]}, False),
    ("/v1/chat/completions", {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}}]}, False),
    ("/v1/chat/completions", {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}, False),
    ("/v1/chat/completions", {"choices": [], "usage": {"prompt_tokens": 1}}, False),
    ("/v1/chat/completions", {"error": {"message": "overloaded"}}, False),
    ("/v1/messages", {"type": "message_start", "message": {}}, True),
    ("/v1/messages", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}, True),
    ("/v1/messages", {"type": "ping"}, True),
    ("/v1/messages", {"type": "content_block_stop", "index": 0}, False),
    ("/v1/messages", {"type": "error", "error": {"type": "overloaded_error"}}, False),
    ("/v1/responses", {"type": "response.created"}, True),
    ("/v1/responses", {"type": "response.output_item.added"}, True),
    ("/v1/responses", {"type": "response.web_search_call.in_progress"}, False),
    ("/v1/images/generations", {"type": "image_generation.partial_image"}, False),
])
def test_which_events_open_an_answer(path: str, payload: dict[str, Any], opens: bool) -> None:
    assert codec_for(path).opens(Event("", json.dumps(payload)), payload) is opens


def test_held_opening_events_leave_in_order_before_the_first_other_event() -> None:
    guard = _guard("/v1/messages", {"model": "m", "max_tokens": 5, "messages": HI})
    start = Event("message_start", json.dumps({"type": "message_start", "message": {"id": "m", "content": []}}))
    block = Event("content_block_start", json.dumps(
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}))
    ping = Event("ping", '{"type": "ping"}')
    delta = Event("content_block_delta", json.dumps(
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello there, friend. "}}))
    out, error = guard.feed_many([start, block, ping])
    assert (out, error, guard.sent) == ([], None, False)
    out, error = guard.feed_many([delta])
    assert error is None and [e.event for e in out][:3] == ["message_start", "content_block_start", "ping"]
    assert out[3].event == "content_block_delta" and guard.sent
    late_ping = guard.feed_many([ping])[0]
    assert late_ping == [ping]  # once anything was sent, nothing more is held


def test_a_stream_that_ends_with_only_opening_events_still_delivers_them() -> None:
    guard = _guard("/v1/chat/completions", {"model": "m", "messages": HI})
    role = Event("", json.dumps({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}))
    assert guard.feed_many([role]) == ([], None)
    assert guard.finish() == [role] and guard.sent


@pytest.mark.parametrize("body", [{"model": "m", "messages": HI},
                                  {"model": "m", "input": "hi", "background": True}], ids=["no-reopen", "background"])
def test_nothing_is_held_when_the_stream_will_not_be_reopened(body: dict[str, Any]) -> None:
    """A stream that cannot be reopened (no retry left, no other target), or a background response (a job resumed
    by its id, never started twice): its opening leaves at once."""
    background = "background" in body
    guard = _guard("/v1/responses" if background else "/v1/chat/completions", body, may_reopen=background)
    opening = Event("response.created", '{"type": "response.created", "response": {"id": "resp_1"}}') if background \
        else Event("", json.dumps({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}))
    assert guard.feed_many([opening]) == ([opening], None) and guard.sent
