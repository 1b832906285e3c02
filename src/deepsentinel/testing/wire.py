"""Provider-neutral pieces of the wire: server-sent events, request facts and error tables."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deepsentinel.testing.replies import Reply, Usage, estimate_tokens


@dataclass(frozen=True)
class SseEvent:
    """One server-sent event. ``is_delta`` marks text or tool-argument deltas, which faults count."""

    data: str
    event: str | None = None
    is_delta: bool = False

    def encode(self) -> bytes:
        """The event as bytes on the wire, blank line included."""
        head = f"event: {self.event}\n" if self.event else ""
        return f"{head}data: {self.data}\n\n".encode()


_OBFUSCATION_ALPHABET = string.ascii_letters + string.digits


def obfuscation(rng: random.Random) -> str:
    """Random padding, as OpenAI adds to each streamed delta (``obfuscation``, unless the request's
    ``stream_options.include_obfuscation`` is false) so that payload sizes do not give the text away."""
    return "".join(rng.choices(_OBFUSCATION_ALPHABET, k=rng.randint(1, 24)))


def wants_obfuscation(body: Mapping[str, Any]) -> bool:
    """OpenAI pads streamed deltas by default; ``stream_options: {"include_obfuscation": false}`` turns it off."""
    options = body.get("stream_options")
    return not (isinstance(options, dict) and options.get("include_obfuscation") is False)


def json_event(payload: Mapping[str, Any], *, event: str | None = None, is_delta: bool = False) -> SseEvent:
    """An event whose data is compact JSON."""
    return SseEvent(json.dumps(payload, separators=(",", ":")), event=event, is_delta=is_delta)


@dataclass(frozen=True)
class CallFacts:
    """What the server needs to know about a request to render its reply."""

    model: str
    prompt_tokens: int
    request_number: int
    created: int


def usage_for(reply: Reply, facts: CallFacts, choices: int = 1) -> Usage:
    """The reply's usage, or an estimate from the prompt and the reply's text and tool arguments."""
    if reply.usage is not None:
        return reply.usage
    per_choice = estimate_tokens(reply.content_text() + (reply.refusal or ""))
    per_choice += sum(estimate_tokens(call.name + call.arguments) for call in reply.tool_calls)
    return Usage(prompt_tokens=facts.prompt_tokens, completion_tokens=max(1, per_choice) * choices)


def text_of_content(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list of parts/blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [part.get("text", "") for part in content if isinstance(part, dict)]
        return "\n".join(part for part in parts if isinstance(part, str))
    return ""


def last_user_text(messages: Any) -> str:
    """The text of the last ``user`` message, or "" if there is none."""
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return text_of_content(message.get("content"))
    return ""


def all_text(messages: Any, system: Any = None) -> str:
    """Every message's text (and the system prompt), for the prompt-token estimate."""
    texts = [text_of_content(system)] if system is not None else []
    if isinstance(messages, list):
        texts += [text_of_content(m.get("content")) for m in messages if isinstance(m, dict)]
    return "\n".join(texts)


def completion_prompt(prompt: Any) -> str:
    """A legacy completions ``prompt`` as text: a string, or the strings of a list joined."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list):
        return "\n".join(x for x in prompt if isinstance(x, str))
    return ""


def _input_items(raw: Any) -> list[dict[str, Any]]:
    """Responses ``input`` as a list of items (a string is one user message)."""
    if isinstance(raw, str):
        return [{"role": "user", "content": raw}]
    return [item for item in raw if isinstance(item, dict)] if isinstance(raw, list) else []


def responses_prompt(raw: Any) -> str:
    """The text of the last user message of a Responses ``input`` (a string or items)."""
    return last_user_text(_input_items(raw))


def responses_input_text(raw: Any, instructions: Any = None) -> str:
    """Every text of a Responses ``input`` (messages and function call outputs), for the token estimate."""
    texts = [instructions] if isinstance(instructions, str) else []
    for item in _input_items(raw):
        if item.get("type") == "function_call_output":
            texts.append(text_of_content(item.get("output")))
        elif item.get("type") == "function_call":
            texts.append(str(item.get("arguments", "")))
        else:
            texts.append(text_of_content(item.get("content")))
    return "\n".join(texts)


def unmatched_call_output(raw: Any) -> str | None:
    """The ``call_id`` of a ``function_call_output`` item with no ``function_call`` before it, if any."""
    calls: set[Any] = set()
    for item in _input_items(raw):
        if item.get("type") == "function_call":
            calls.add(item.get("call_id"))
        elif item.get("type") == "function_call_output" and item.get("call_id") not in calls:
            return str(item.get("call_id"))
    return None


# status -> (OpenAI error type, OpenAI code, Anthropic error type, message)
_ERRORS: dict[int, tuple[str, str | None, str, str]] = {
    400: ("invalid_request_error", None, "invalid_request_error", "The request is invalid."),
    401: ("invalid_request_error", "invalid_api_key", "authentication_error", "Incorrect API key provided."),
    403: ("permission_denied", None, "permission_error", "You are not allowed to use this resource."),
    404: ("invalid_request_error", "not_found", "not_found_error", "The resource was not found."),
    408: ("timeout", None, "timeout_error", "The request timed out."),
    409: ("conflict", None, "invalid_request_error", "The request conflicts with another one."),
    413: ("invalid_request_error", "request_too_large", "request_too_large", "The request is too large."),
    422: ("invalid_request_error", None, "invalid_request_error", "The request could not be processed."),
    429: ("requests", "rate_limit_exceeded", "rate_limit_error", "Rate limit reached. Please try again later."),
    500: ("server_error", None, "api_error", "The server had an error while processing your request."),
    502: ("server_error", None, "api_error", "Bad gateway."),
    503: ("server_error", "service_unavailable", "overloaded_error", "The engine is currently overloaded."),
    504: ("server_error", None, "timeout_error", "The upstream timed out."),
    529: ("server_error", None, "overloaded_error", "Overloaded"),
}


def openai_error(status: int, *, message: str | None = None, type_: str | None = None,
                 code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """OpenAI's error envelope for ``status``."""
    default_type, default_code, _, default_message = _ERRORS.get(status, _ERRORS[500 if status >= 500 else 400])
    return {
        "error": {
            "message": message or default_message,
            "type": type_ or default_type,
            "param": param,
            "code": code if code is not None else default_code,
        }
    }


def anthropic_error(status: int, *, message: str | None = None, type_: str | None = None,
                    request_id: str | None = None) -> dict[str, Any]:
    """Anthropic's error envelope for ``status``."""
    _, _, default_type, default_message = _ERRORS.get(status, _ERRORS[500 if status >= 500 else 400])
    body: dict[str, Any] = {
        "type": "error",
        "error": {"type": type_ or default_type, "message": message or default_message},
    }
    if request_id is not None:
        body["request_id"] = request_id
    return body
