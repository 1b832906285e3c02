"""OpenAI-style chat requests translated to Anthropic's Messages API."""

from __future__ import annotations

import typing
from typing import Any

import pydantic
import pytest
from anthropic.types import (
    DocumentBlockParam,
    ImageBlockParam,
    TextBlockParam,
    ToolChoiceParam,
    ToolParam,
    ToolResultBlockParam,
    ToolUseBlockParam,
    message_create_params,
)

from deepsentinel.errors import ValidationError
from deepsentinel.providers.anthropic import AnthropicAdapter
from deepsentinel.providers.anthropic_request import DROPPED_PARAMS
from deepsentinel.providers.base import ChatRequest

KEY = "sk-ant-" + "x" * 24
MODEL = "claude-3-opus-20240229"


def body_for(messages: list[dict[str, Any]], stream: bool = False, **params: Any) -> dict[str, Any]:
    request = AnthropicAdapter(KEY).build_chat_request(ChatRequest(MODEL, messages, stream=stream, params=params))
    assert request.json is not None
    return dict(request.json)


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def test_request_line_and_headers() -> None:
    """POST /v1/messages with x-api-key, anthropic-version and JSON content type."""
    adapter = AnthropicAdapter(KEY, base_url="http://127.0.0.1:9/", headers={"x-extra": "1"})
    request = adapter.build_chat_request(ChatRequest(MODEL, [user("hi")]))
    assert (request.method, request.url, request.stream) == ("POST", "http://127.0.0.1:9/v1/messages", False)
    assert request.headers["x-api-key"] == KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-extra"] == "1"
    assert KEY not in repr(request) and KEY not in repr(adapter)


def test_base_url_with_v1_is_not_doubled() -> None:
    """A base URL copied with its /v1 suffix still gives /v1/messages once."""
    request = AnthropicAdapter(KEY, base_url="https://proxy.example/v1").build_chat_request(
        ChatRequest(MODEL, [user("hi")])
    )
    assert request.url == "https://proxy.example/v1/messages"


def test_stream_request_sets_stream_and_accept() -> None:
    """A streamed call asks for server-sent events."""
    adapter = AnthropicAdapter(KEY)
    request = adapter.build_chat_request(ChatRequest(MODEL, [user("hi")], stream=True))
    assert request.stream is True
    assert request.json is not None and request.json["stream"] is True
    assert request.headers["accept"] == "text/event-stream"


def test_plain_text_message_and_default_max_tokens() -> None:
    """A bare prompt becomes one user text block, with the adapter's default max_tokens."""
    body = body_for([user("Hello")])
    assert body == {
        "model": MODEL,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}],
        "max_tokens": 4096,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [({"max_tokens": 50}, 50), ({"max_completion_tokens": 70}, 70), ({"max_tokens": 5, "max_completion_tokens": 9}, 9)],
)
def test_max_tokens_sources(params: dict[str, Any], expected: int) -> None:
    """max_completion_tokens wins over the deprecated max_tokens."""
    assert body_for([user("hi")], **params)["max_tokens"] == expected


def test_configured_default_max_tokens() -> None:
    """default_max_tokens applies when the call gives none."""
    request = AnthropicAdapter(KEY, default_max_tokens=123).build_chat_request(ChatRequest(MODEL, [user("x")]))
    assert request.json is not None and request.json["max_tokens"] == 123


@pytest.mark.parametrize("bad", [0, -3, "100", True])
def test_bad_max_tokens_is_refused(bad: Any) -> None:
    """max_tokens must be a positive int."""
    with pytest.raises(ValidationError):
        body_for([user("hi")], max_tokens=bad)


def test_system_and_developer_messages_are_lifted_and_joined() -> None:
    """Every system/developer message goes to `system`, in order, joined by a blank line."""
    body = body_for(
        [
            {"role": "system", "content": "Be terse."},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
            user("Hi"),
            {"role": "system", "content": "Never guess."},
        ]
    )
    assert body["system"] == "Be terse.\n\nAnswer in French.\n\nNever guess."
    assert [m["role"] for m in body["messages"]] == ["user"]


def test_consecutive_same_role_messages_merge() -> None:
    """user,user,assistant,assistant,user becomes user,assistant,user with the blocks in order."""
    body = body_for(
        [user("a"), user("b"), {"role": "assistant", "content": "c"}, {"role": "assistant", "content": "d"}, user("e")]
    )
    roles = [m["role"] for m in body["messages"]]
    texts = [[b["text"] for b in m["content"]] for m in body["messages"]]
    assert roles == ["user", "assistant", "user"]
    assert texts == [["a", "b"], ["c", "d"], ["e"]]


def test_empty_messages_are_skipped_and_nothing_left_is_refused() -> None:
    """Empty content is dropped; a call with only a system message has nothing to send."""
    body = body_for([user(""), {"role": "assistant", "content": None}, user("x")])
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "x"}]}]
    with pytest.raises(ValidationError, match="at least one"):
        body_for([{"role": "system", "content": "only rules"}])


@pytest.mark.parametrize(("stop", "expected"), [("END", ["END"]), (["a", "b"], ["a", "b"])])
def test_stop_becomes_stop_sequences(stop: Any, expected: list[str]) -> None:
    """stop (a string or a list) becomes stop_sequences; the OpenAI key is not sent."""
    body = body_for([user("x")], stop=stop)
    assert body["stop_sequences"] == expected and "stop" not in body


def test_sampling_parameters_pass_through() -> None:
    """temperature, top_p and top_k reach the body unchanged."""
    body = body_for([user("x")], temperature=0.3, top_p=0.9, top_k=40)
    assert (body["temperature"], body["top_p"], body["top_k"]) == (0.3, 0.9, 40)


def test_unknown_parameters_pass_through_and_openai_only_ones_are_dropped() -> None:
    """An Anthropic-only parameter reaches the body; OpenAI-only ones (penalties, logprobs, seed...) do not."""
    thinking = {"type": "enabled", "budget_tokens": 2048}
    dropped = {"presence_penalty": 0.5, "frequency_penalty": 0.1, "logprobs": True, "seed": 7, "logit_bias": {}}
    body = body_for([user("x")], thinking=thinking, stream_options={"include_usage": True}, **dropped)
    assert body["thinking"] == thinking
    assert not set(body) & DROPPED_PARAMS


@pytest.mark.parametrize(
    "params",
    [
        {"n": 2},
        {"response_format": {"type": "json_object"}},
        {"functions": [{"name": "f"}]},
        {"tool_choice": "sometimes"},
    ],
)
def test_parameters_that_cannot_be_honoured_are_refused(params: dict[str, Any]) -> None:
    """n>1, JSON mode, legacy functions and a bad tool_choice raise before anything is sent."""
    with pytest.raises(ValidationError):
        body_for([user("x")], **params)


def test_n_of_one_is_accepted() -> None:
    """n=1 is the only choice count Anthropic gives, so it is fine."""
    assert "n" not in body_for([user("x")], n=1)


def test_user_becomes_metadata_user_id() -> None:
    """The OpenAI end-user id becomes metadata.user_id, merged with given metadata."""
    assert body_for([user("x")], user="u-42")["metadata"] == {"user_id": "u-42"}
    assert body_for([user("x")], safety_identifier="h1")["metadata"] == {"user_id": "h1"}


def test_response_format_json_schema_and_effort_become_output_config() -> None:
    """A json_schema response format and reasoning_effort land in output_config."""
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    body = body_for(
        [user("x")],
        response_format={"type": "json_schema", "json_schema": {"name": "s", "schema": schema}},
        reasoning_effort="minimal",
    )
    assert body["output_config"] == {"format": {"type": "json_schema", "schema": schema}, "effort": "low"}
    assert "response_format" not in body and "reasoning_effort" not in body
    assert "output_config" not in body_for([user("x")], response_format={"type": "text"})


def test_service_tier_only_when_anthropic_knows_it() -> None:
    """OpenAI's tiers are dropped; Anthropic's own values pass."""
    assert "service_tier" not in body_for([user("x")], service_tier="flex")
    assert body_for([user("x")], service_tier="standard_only")["service_tier"] == "standard_only"


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def test_function_tools_become_anthropic_tools() -> None:
    """OpenAI function tools map to {name, description, input_schema}; native tools pass through."""
    native = {"type": "web_search_20250305", "name": "web_search", "max_uses": 2}
    bare = {"type": "function", "function": {"name": "ping"}}
    body = body_for([user("x")], tools=[WEATHER_TOOL, bare, native])
    assert body["tools"] == [
        {
            "name": "get_weather",
            "description": "Weather for a city",
            "input_schema": WEATHER_TOOL["function"]["parameters"],  # type: ignore[index]
        },
        {"name": "ping", "input_schema": {"type": "object", "properties": {}}},
        native,
    ]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"type": "auto"}),
        ("none", {"type": "none"}),
        ("required", {"type": "any"}),
        ({"type": "function", "function": {"name": "get_weather"}}, {"type": "tool", "name": "get_weather"}),
    ],
)
def test_tool_choice(choice: Any, expected: dict[str, Any]) -> None:
    """Each OpenAI tool_choice maps to Anthropic's."""
    assert body_for([user("x")], tools=[WEATHER_TOOL], tool_choice=choice)["tool_choice"] == expected


def test_parallel_tool_calls_false_disables_parallel_use() -> None:
    """parallel_tool_calls=False sets disable_parallel_tool_use, defaulting the choice to auto."""
    body = body_for([user("x")], tools=[WEATHER_TOOL], parallel_tool_calls=False)
    assert body["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    assert "parallel_tool_calls" not in body
    body = body_for([user("x")], tools=[WEATHER_TOOL], tool_choice="required", parallel_tool_calls=False)
    assert body["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}


def tool_conversation() -> list[dict[str, Any]]:
    return [
        user("Weather in Paris and Rome?"),
        {
            "role": "assistant",
            "content": "Let me check.",
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
                {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'}},
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
        {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "24C"}]},
        user("Thanks, and tomorrow?"),
    ]


def test_tool_calls_and_results_round_trip_into_blocks() -> None:
    """Assistant tool_calls become tool_use blocks; tool messages one user turn of tool_result blocks."""
    messages = body_for(tool_conversation())["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "call_2", "name": "get_weather", "input": {"city": "Rome"}},
    ]
    assert messages[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "call_1", "content": "18C"},
        {"type": "tool_result", "tool_use_id": "call_2", "content": [{"type": "text", "text": "24C"}]},
        {"type": "text", "text": "Thanks, and tomorrow?"},
    ]


def test_tool_results_are_moved_before_text_in_a_merged_turn() -> None:
    """Anthropic wants tool_result blocks first in the user turn, whatever order OpenAI messages came in."""
    messages = tool_conversation()
    messages[2], messages[3], messages[4] = messages[4], messages[2], messages[3]
    content = body_for(messages)["messages"][2]["content"]
    assert [b["type"] for b in content] == ["tool_result", "tool_result", "text"]


@pytest.mark.parametrize(
    "message",
    [
        {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{oops"}}]},
        {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "[1]"}}]},
        {"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "content": "no id"},
        {"role": "function", "name": "f", "content": "legacy"},
    ],
)
def test_malformed_tool_messages_are_refused(message: dict[str, Any]) -> None:
    """Unparseable arguments, missing ids and the legacy function role raise ValidationError."""
    with pytest.raises(ValidationError):
        body_for([user("x"), message])


def test_empty_tool_arguments_become_an_empty_input() -> None:
    """A tool call without arguments becomes input {}."""
    call = {"id": "c", "type": "function", "function": {"name": "now", "arguments": ""}}
    content = body_for([user("x"), {"role": "assistant", "content": None, "tool_calls": [call]}])["messages"][1]["content"]
    assert content == [{"type": "tool_use", "id": "c", "name": "now", "input": {}}]


def test_image_parts_become_image_blocks() -> None:
    """data: URLs become base64 sources, https URLs url sources; text parts stay text blocks."""
    parts = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "high"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
    ]
    content = body_for([{"role": "user", "content": parts}])["messages"][0]["content"]
    assert content == [
        {"type": "text", "text": "What is this?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]


def test_jpg_media_type_is_normalised() -> None:
    """image/jpg (which browsers and OpenAI accept) is sent as image/jpeg."""
    part = {"type": "image_url", "image_url": {"url": "data:image/jpg;base64,/9j/"}}
    block = body_for([{"role": "user", "content": [part]}])["messages"][0]["content"][0]
    assert block["source"]["media_type"] == "image/jpeg"


def test_pdf_file_part_becomes_a_document_block() -> None:
    """A PDF given as a data: URL becomes a base64 document block."""
    part = {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0="}}
    content = body_for([{"role": "user", "content": [part]}])["messages"][0]["content"]
    assert content == [{"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="}}]


@pytest.mark.parametrize(
    "part",
    [
        {"type": "image_url", "image_url": {"url": "ftp://example.com/a.png"}},
        {"type": "image_url", "image_url": {}},
        {"type": "image_url", "image_url": {"url": "data:image/bmp;base64,Qk0="}},
        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
        {"type": "file", "file": {"file_id": "file-abc"}},
    ],
)
def test_unsupported_parts_are_refused(part: dict[str, Any]) -> None:
    """Audio, file ids and non-http image URLs cannot be sent to Anthropic."""
    with pytest.raises(ValidationError):
        body_for([{"role": "user", "content": [part]}])


def test_cache_control_on_a_part_is_kept() -> None:
    """Anthropic's prompt-caching marker survives on OpenAI-style text parts."""
    part = {"type": "text", "text": "long context", "cache_control": {"type": "ephemeral"}}
    block = body_for([{"role": "user", "content": [part]}])["messages"][0]["content"][0]
    assert block == {"type": "text", "text": "long context", "cache_control": {"type": "ephemeral"}}


def test_error_messages_never_echo_content() -> None:
    """Validation errors name the position, not the (possibly sensitive) text."""
    secret = "ghp_" + "a" * 36
    with pytest.raises(ValidationError) as info:
        body_for([user("x"), {"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": secret}}]}])
    assert secret not in str(info.value) and "message 1" in str(info.value)


# Sampling parameters were dropped from the SDK's declared params (recent models reject them); the API still
# accepts them for older models, and the caller chose to send them.
SDK_UNDECLARED = {"temperature", "top_p", "top_k"}


def test_full_body_uses_only_keys_the_official_sdk_declares() -> None:
    """Every top-level key we send is a MessageCreateParams key, and the required ones are present."""
    declared = set(typing.get_type_hints(message_create_params.MessageCreateParamsStreaming))
    body = body_for(
        tool_conversation(),
        stream=True,
        max_tokens=256,
        stop=["\n\n"],
        temperature=0.2,
        tools=[WEATHER_TOOL],
        tool_choice="required",
        user="u1",
        response_format={"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "object"}}},
    )
    assert set(body) - declared - SDK_UNDECLARED == set()
    assert {"model", "messages", "max_tokens"} <= set(body)


SDK_BLOCK_TYPES: dict[str, Any] = {
    "text": TextBlockParam,
    "image": ImageBlockParam,
    "document": DocumentBlockParam,
    "tool_use": ToolUseBlockParam,
    "tool_result": ToolResultBlockParam,
}


def _validate_blocks(blocks: list[dict[str, Any]]) -> None:
    # pydantic checks Iterable[...] fields lazily, so each block is validated against its own SDK TypedDict
    for block in blocks:
        pydantic.TypeAdapter(SDK_BLOCK_TYPES[block["type"]]).validate_python(block, strict=True)
        if block["type"] == "tool_result" and isinstance(block["content"], list):
            _validate_blocks(block["content"])


def test_blocks_validate_against_the_official_sdk_param_types() -> None:
    """Every content block, tool and tool_choice validates against the SDK's TypedDicts."""
    parts = [
        {"type": "text", "text": "see"},
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/x.png"}},
        {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0="}},
    ]
    body = body_for([*tool_conversation(), {"role": "user", "content": parts}], tools=[WEATHER_TOOL], tool_choice="auto")
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    for message in body["messages"]:
        _validate_blocks(message["content"])
    pydantic.TypeAdapter(list[ToolParam]).validate_python(body["tools"], strict=True)
    pydantic.TypeAdapter(ToolChoiceParam).validate_python(body["tool_choice"], strict=True)


def test_sdk_validation_catches_a_bad_block() -> None:
    """The check above has teeth: an image with a media type Anthropic does not take fails it."""
    with pytest.raises(pydantic.ValidationError):
        _validate_blocks([{"type": "image", "source": {"type": "base64", "media_type": "image/bmp", "data": "x"}}])
