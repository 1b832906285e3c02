"""The fake server's Responses API and legacy completions, driven by the official ``openai`` SDK."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import openai
import pytest

from deepsentinel.testing import FakeLLMServer, Reply, ToolCall

MODEL = "gpt-4o-mini"
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@pytest.fixture
def client(fake_server: FakeLLMServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=fake_server.openai_base_url, api_key="test", max_retries=0) as built:
        yield built


@pytest.fixture
async def aclient(fake_server: FakeLLMServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=fake_server.openai_base_url, api_key="test", max_retries=0) as built:
        yield built


def test_string_input_gives_a_completed_message(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """A string input is the user's message; the answer is one message item with output_text and usage."""
    result = client.responses.create(model=MODEL, input="explain tides please", instructions="Be brief.")
    assert result.object == "response" and result.status == "completed" and result.model == MODEL
    assert "tides" in result.output_text
    assert [item.type for item in result.output] == ["message"]
    assert result.instructions == "Be brief."
    assert result.usage is not None and result.usage.total_tokens == result.usage.input_tokens + result.usage.output_tokens
    assert fake_server.last_request.path == "/v1/responses"
    assert fake_server.last_request.json["input"] == "explain tides please"


def test_item_input_uses_the_last_user_message(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """Items in, the last user item picks the rule; scripted chunks are the text."""
    fake_server.add_rule("volcano", Reply(chunks=["Lava ", "is hot."]))
    items: Any = [
        {"role": "developer", "content": "Answer in one line."},
        {"role": "user", "content": [{"type": "input_text", "text": "tell me about a volcano"}]},
    ]
    result = client.responses.create(model=MODEL, input=items)
    assert result.output_text == "Lava is hot."


def test_function_call_round_trip(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """A function_call item comes back; sending it with its function_call_output gets the final answer."""
    fake_server.enqueue(
        Reply(tool_calls=[ToolCall(name="get_weather", arguments='{"city":"Paris"}')]),
        Reply(text="It is sunny in Paris."),
    )
    first = client.responses.create(model=MODEL, input="weather in paris?", tools=[WEATHER_TOOL])  # type: ignore[list-item]
    [call] = first.output
    assert call.type == "function_call" and call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris"} and call.call_id
    follow_up: Any = [
        {"role": "user", "content": "weather in paris?"},
        call.model_dump(exclude_none=True),
        {"type": "function_call_output", "call_id": call.call_id, "output": '{"sky": "sunny"}'},
    ]
    second = client.responses.create(model=MODEL, input=follow_up, tools=[WEATHER_TOOL])  # type: ignore[list-item]
    assert second.output_text == "It is sunny in Paris."
    sent = fake_server.last_request.json["input"]
    assert [item.get("type") for item in sent[1:]] == ["function_call", "function_call_output"]


def test_function_call_output_without_its_call_is_a_400(client: openai.OpenAI) -> None:
    """As the real API: an output whose call_id matches no function_call in the input is refused."""
    with pytest.raises(openai.BadRequestError, match="call_id call_nowhere"):
        client.responses.create(model=MODEL, input=[
            {"type": "function_call_output", "call_id": "call_nowhere", "output": "x"}])


def test_raw_stream_event_order_and_sequence_numbers(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """Events come in the real order with rising sequence numbers; the final snapshot has everything."""
    fake_server.enqueue(Reply(chunks=["Hel", "lo"], tool_calls=[ToolCall(name="f", arguments='{"a":1}',
                                                                          argument_chunks=['{"a"', ":1}"])]))
    with client.responses.create(model=MODEL, input="hi", stream=True) as stream:
        events = list(stream)
    assert [e.type for e in events] == [
        "response.created", "response.in_progress",
        "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.delta", "response.output_text.done",
        "response.content_part.done", "response.output_item.done",
        "response.output_item.added", "response.function_call_arguments.delta",
        "response.function_call_arguments.delta", "response.function_call_arguments.done",
        "response.output_item.done", "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert deltas == ["Hel", "lo"]
    created, completed = events[0], events[-1]
    assert created.type == "response.created" and created.response.status == "in_progress"
    assert created.response.output == []
    assert completed.type == "response.completed" and completed.response.output_text == "Hello"
    assert completed.response.output[1].type == "function_call"
    assert completed.response.output[1].arguments == '{"a":1}'


def test_stream_helper_accumulates_text_and_arguments(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """``client.responses.stream`` accepts the events and builds the same final response."""
    fake_server.enqueue(Reply(tool_calls=[ToolCall(name="get_weather", arguments='{"city":"Oslo"}')]))
    with client.responses.stream(model=MODEL, input="weather?", tools=[WEATHER_TOOL]) as stream:  # type: ignore[list-item]
        arg_deltas = [e.delta for e in stream if e.type == "response.function_call_arguments.delta"]
        final = stream.get_final_response()
    assert "".join(arg_deltas) == '{"city":"Oslo"}'
    [call] = final.output
    assert call.type == "function_call" and call.arguments == '{"city":"Oslo"}'


async def test_async_stream_helper_text(aclient: openai.AsyncOpenAI, fake_server: FakeLLMServer) -> None:
    """The async stream helper sees the text deltas and the final text."""
    fake_server.enqueue(Reply(chunks=["a", "b", "c"]))
    async with aclient.responses.stream(model=MODEL, input="hi") as stream:
        deltas = [e.delta async for e in stream if e.type == "response.output_text.delta"]
        final = await stream.get_final_response()
    assert deltas == ["a", "b", "c"] and final.output_text == "abc"


def test_length_finish_is_incomplete(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """A ``length`` finish is an incomplete response (max_output_tokens), JSON and streamed."""
    fake_server.enqueue(Reply(text="cut short", finish_reason="length"), Reply(text="cut", finish_reason="length"))
    result = client.responses.create(model=MODEL, input="hi", max_output_tokens=16)
    assert result.status == "incomplete" and result.incomplete_details is not None
    assert result.incomplete_details.reason == "max_output_tokens"
    with client.responses.create(model=MODEL, input="hi", stream=True) as stream:
        assert list(stream)[-1].type == "response.incomplete"


def test_refusal_part(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """A refusal is a ``refusal`` content part, streamed as refusal deltas."""
    fake_server.enqueue(Reply(refusal="I can't help."), Reply(refusal="No."))
    result = client.responses.create(model=MODEL, input="hi")
    message = result.output[0]
    assert message.type == "message" and message.content[0].type == "refusal"
    with client.responses.create(model=MODEL, input="hi", stream=True) as stream:
        assert "response.refusal.delta" in [e.type for e in stream]


def test_scripted_error_and_in_stream_error(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """Status replies apply to the Responses endpoint; ``error_after`` sends its ``error`` event."""
    fake_server.enqueue(Reply(status=429, headers={"Retry-After": "1"}),
                        Reply(chunks=["a", "b"], error_after=1, error_message="overloaded now"))
    with pytest.raises(openai.RateLimitError):
        client.responses.create(model=MODEL, input="hi")
    with client.responses.create(model=MODEL, input="hi", stream=True) as stream:
        events = list(stream)
    assert events[-1].type == "error" and events[-1].message == "overloaded now"
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_legacy_completion_json_and_stream(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """``/v1/completions``: a text_completion object, and a stream of text deltas ending with [DONE]."""
    fake_server.enqueue(Reply(chunks=["Once ", "upon"]), Reply(chunks=["Once ", "upon"]))
    whole = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Tell a story")
    assert whole.object == "text_completion" and whole.choices[0].text == "Once upon"
    assert whole.choices[0].finish_reason == "stop" and whole.usage is not None
    with client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Tell a story", stream=True,
                                   stream_options={"include_usage": True}) as stream:
        chunks = list(stream)
    assert [c.choices[0].text for c in chunks if c.choices] == ["Once ", "upon", ""]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert fake_server.last_request.path == "/v1/completions"


def test_delta_events_carry_obfuscation_padding_unless_turned_off(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """OpenAI pads every streamed delta event (``obfuscation``) by default; other events are not padded."""
    fake_server.enqueue(Reply(chunks=["Hel", "lo"]), Reply(chunks=["Hel", "lo"]))
    with client.responses.create(model=MODEL, input="hi", stream=True) as stream:
        events = [e.model_dump() for e in stream]
    assert all(e.get("obfuscation") for e in events if e["type"].endswith(".delta"))
    assert not any("obfuscation" in e for e in events if not e["type"].endswith(".delta"))
    with client.responses.create(model=MODEL, input="hi", stream=True,
                                 stream_options={"include_obfuscation": False}) as stream:
        assert not any("obfuscation" in e.model_dump() for e in stream)
