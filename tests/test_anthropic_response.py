"""Anthropic Messages API replies and errors translated to OpenAI types and DeepSentinel errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from anthropic.types import Message, TextBlock, ThinkingBlock, ToolUseBlock, Usage
from openai.types import Model
from openai.types.chat import ChatCompletion

from deepsentinel.errors import AuthenticationError, ProviderError, RateLimitError
from deepsentinel.providers.anthropic import AnthropicAdapter

MODEL = "claude-3-opus-20240229"
NOW = 1_700_000_000.0


def adapter() -> AnthropicAdapter:
    return AnthropicAdapter("sk-ant-" + "k" * 20, clock=lambda: NOW)


def message(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [{"type": "text", "text": "Hello"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 3},
    }
    return {**base, **overrides}


def parse(payload: Any) -> ChatCompletion:
    return adapter().parse_chat_response(json.dumps(payload).encode(), MODEL)


def test_text_reply() -> None:
    """A text reply becomes one choice with the text, the message id, model, created and usage."""
    completion = parse(message())
    assert isinstance(completion, ChatCompletion)
    assert (completion.id, completion.model, completion.created, completion.object) == (
        "msg_01",
        MODEL,
        int(NOW),
        "chat.completion",
    )
    choice = completion.choices[0]
    assert (choice.index, choice.message.role, choice.message.content, choice.finish_reason) == (
        0,
        "assistant",
        "Hello",
        "stop",
    )
    assert choice.message.tool_calls is None
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens, completion.usage.total_tokens) == (12, 3, 15)


def test_text_blocks_are_concatenated_and_thinking_is_dropped() -> None:
    """Several text blocks join in order; thinking blocks have no OpenAI field and are left out."""
    content = [
        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
        {"type": "text", "text": "Hello, "},
        {"type": "text", "text": "world"},
    ]
    assert parse(message(content=content)).choices[0].message.content == "Hello, world"


def test_tool_use_blocks_become_tool_calls() -> None:
    """tool_use blocks map to function tool calls with JSON-string arguments."""
    content = [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_2", "name": "now", "input": {}},
    ]
    choice = parse(message(content=content, stop_reason="tool_use")).choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Checking."
    calls = choice.message.tool_calls
    assert calls is not None
    assert [(c.id, c.type, c.function.name, json.loads(c.function.arguments)) for c in calls] == [  # type: ignore[union-attr]
        ("toolu_1", "function", "get_weather", {"city": "Paris"}),
        ("toolu_2", "function", "now", {}),
    ]


def test_tool_call_only_reply_has_null_content() -> None:
    """As with OpenAI, a reply that only calls tools has content None."""
    content = [{"type": "tool_use", "id": "toolu_1", "name": "now", "input": {}}]
    assert parse(message(content=content, stop_reason="tool_use")).choices[0].message.content is None
    assert parse(message(content=[])).choices[0].message.content == ""


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("pause_turn", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("something_new", "stop"),
        (None, "stop"),
    ],
)
def test_stop_reasons(stop_reason: str | None, finish_reason: str) -> None:
    """Each Anthropic stop_reason maps to OpenAI's finish_reason; unknown ones read as stop."""
    assert parse(message(stop_reason=stop_reason)).choices[0].finish_reason == finish_reason


def test_cache_tokens_count_as_prompt_tokens() -> None:
    """Cache writes and reads are prompt tokens; reads also show as cached_tokens."""
    usage = {"input_tokens": 10, "output_tokens": 4, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 50}
    result = parse(message(usage=usage)).usage
    assert result is not None
    assert (result.prompt_tokens, result.completion_tokens, result.total_tokens) == (160, 4, 164)
    assert result.prompt_tokens_details is not None and result.prompt_tokens_details.cached_tokens == 50


def test_missing_model_falls_back_to_the_requested_one() -> None:
    """A reply without a model still names one."""
    assert parse(message(model=None)).model == MODEL


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", json.dumps({"id": "x"}).encode(), json.dumps(message(content=["oops"])).encode()],
)
def test_malformed_replies_raise_provider_error(body: bytes) -> None:
    """Garbage or a wrong shape is a ProviderError naming the provider, never a pydantic or JSON error."""
    with pytest.raises(ProviderError) as info:
        adapter().parse_chat_response(body, MODEL)
    assert info.value.provider == "anthropic"


def test_error_envelope_in_a_200_body_raises() -> None:
    """An error envelope where a message was expected raises the mapped error."""
    with pytest.raises(ProviderError) as info:
        parse({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    assert (info.value.status_code, info.value.error_type) == (529, "overloaded_error")


def test_reply_built_with_the_official_sdk_model() -> None:
    """A reply serialised from anthropic.types.Message parses with every field translated."""
    sdk_message = Message(
        id="msg_sdk",
        type="message",
        role="assistant",
        model=MODEL,
        content=[
            ThinkingBlock(type="thinking", thinking="plan", signature="s"),
            TextBlock(type="text", text="Sure."),
            ToolUseBlock(type="tool_use", id="toolu_9", name="lookup", input={"q": "x", "n": 2}),
        ],
        stop_reason="tool_use",
        stop_sequence=None,
        usage=Usage(input_tokens=20, output_tokens=7, cache_read_input_tokens=5),
    )
    completion = adapter().parse_chat_response(sdk_message.to_json().encode(), MODEL)
    choice = completion.choices[0]
    assert (completion.id, choice.message.content, choice.finish_reason) == ("msg_sdk", "Sure.", "tool_calls")
    assert choice.message.tool_calls is not None
    call = choice.message.tool_calls[0]
    assert (call.id, call.function.name, json.loads(call.function.arguments)) == ("toolu_9", "lookup", {"q": "x", "n": 2})  # type: ignore[union-attr]
    assert completion.usage is not None and (completion.usage.prompt_tokens, completion.usage.total_tokens) == (25, 32)


def error_body(kind: str, text: str = "something went wrong") -> bytes:
    return json.dumps({"type": "error", "error": {"type": kind, "message": text}, "request_id": "req_body"}).encode()


@pytest.mark.parametrize(
    ("status", "kind", "cls"),
    [
        (400, "invalid_request_error", ProviderError),
        (401, "authentication_error", AuthenticationError),
        (403, "permission_error", AuthenticationError),
        (404, "not_found_error", ProviderError),
        (413, "request_too_large", ProviderError),
        (429, "rate_limit_error", RateLimitError),
        (500, "api_error", ProviderError),
        (529, "overloaded_error", ProviderError),
    ],
)
def test_http_errors_map_to_the_error_tree(status: int, kind: str, cls: type[ProviderError]) -> None:
    """Each documented status maps to its class with provider, status, error_type and message."""
    error = adapter().parse_error(status, {"request-id": "req_hdr"}, error_body(kind))
    # The translated error's facts; the class the caller sees is the SDK's status error (tests/test_wire_errors.py).
    assert isinstance(error, ProviderError)
    assert (error.provider, error.status_code, error.error_type, error.message) == (
        "anthropic",
        status,
        kind,
        "something went wrong",
    )


def test_rate_limit_carries_retry_after() -> None:
    """429 reads retry-after from the headers."""
    error = adapter().parse_error(429, {"retry-after": "7"}, error_body("rate_limit_error"))
    assert error.status_code == 429 and error.retry_after == 7.0


def test_invalid_request_keeps_its_status() -> None:
    """400 is the caller's problem: it keeps its status, so the SDK does not retry it."""
    error = adapter().parse_error(400, {}, error_body("invalid_request_error"))
    assert error.status_code == 400 and error.error_type == "invalid_request_error"


def test_non_json_error_body_still_maps_by_status() -> None:
    """A proxy's HTML page on 502 gives a ProviderError with the status and a generic message."""
    error = adapter().parse_error(502, {}, b"<html>Bad Gateway</html>")
    assert (type(error), error.status_code, error.message) == (ProviderError, 502, "HTTP 502")


def test_error_repr_and_str_hold_no_key() -> None:
    """The adapter's key never appears in an error."""
    a = adapter()
    error = a.parse_error(401, {}, error_body("authentication_error", "invalid x-api-key"))
    assert a.api_key is not None
    assert a.api_key not in repr(error) and a.api_key not in str(error)


def test_models_listing_translates_to_openai_models() -> None:
    """GET /v1/models pages become openai Model objects owned by anthropic, with the cursor kept."""
    a = adapter()
    request = a.build_models_request(after_id="claude-a")
    assert request.method == "GET" and request.url == "https://api.anthropic.com/v1/models?limit=1000&after_id=claude-a"
    assert request.headers["anthropic-version"] == "2023-06-01"
    body = {
        "data": [
            {"type": "model", "id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z"},
            {"type": "model", "id": "claude-odd", "display_name": "Odd", "created_at": "not a date"},
        ],
        "has_more": True,
        "first_id": "claude-sonnet-4-5",
        "last_id": "claude-odd",
    }
    page = a.parse_models_response(json.dumps(body).encode())
    assert (page.has_more, page.last_id) == (True, "claude-odd")
    assert page.models[0] == Model(id="claude-sonnet-4-5", created=1759104000, object="model", owned_by="anthropic")
    assert page.models[1].created == 0


def test_single_model_request_and_parse() -> None:
    """GET /v1/models/{id} quotes the id and parses one model."""
    a = adapter()
    assert a.build_model_request("claude/x").url == "https://api.anthropic.com/v1/models/claude%2Fx"
    model = a.parse_model_response(json.dumps({"type": "model", "id": "claude-3-haiku", "created_at": "2024-03-07T00:00:00Z"}).encode())
    assert (model.id, model.owned_by) == ("claude-3-haiku", "anthropic")
    with pytest.raises(ProviderError):
        a.parse_models_response(b'{"data": [{"no": "id"}]}')
