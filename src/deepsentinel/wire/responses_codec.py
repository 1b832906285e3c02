"""The OpenAI Responses API: ``input`` (a string or items) and ``instructions`` in; output items out, whole or
streamed as typed events. Sans-IO."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from deepsentinel.wire.codec import OPENAI_PADDING, Codec, Delta, Key, as_list, event_type, key_part
from deepsentinel.wire.json_io import dumps
from deepsentinel.wire.sse import Event
from deepsentinel.wire.texts import Path

_RESPONSE_DELTAS = {
    "response.output_text.delta": "text",
    "response.refusal.delta": "refusal",
    "response.reasoning_text.delta": "reasoning",
    "response.reasoning_summary_text.delta": "summary",
    "response.function_call_arguments.delta": "arguments",
    "response.mcp_call_arguments.delta": "arguments",
    "response.custom_tool_call_input.delta": "input",
    "response.code_interpreter_call_code.delta": "code",
    "response.audio.transcript.delta": "transcript",
    "response.shell_call_command.delta": "command",
}
# The events that end a streamed text: (kind, field holding the whole text; absent for the transcript).
_RESPONSE_DONE = {
    "response.output_text.done": ("text", "text"),
    "response.refusal.done": ("refusal", "refusal"),
    "response.reasoning_text.done": ("reasoning", "text"),
    "response.reasoning_summary_text.done": ("summary", "text"),
    "response.function_call_arguments.done": ("arguments", "arguments"),
    "response.mcp_call_arguments.done": ("arguments", "arguments"),
    "response.custom_tool_call_input.done": ("input", "input"),
    "response.code_interpreter_call_code.done": ("code", "code"),
    "response.audio.transcript.done": ("transcript", "transcript"),
    "response.shell_call_command.done": ("command", "command"),
}
_WHOLE_ITEM_TEXTS = ("arguments", "input", "code", "transcript")  # one text per item: no part index
# The events that open the answer, an output item or one of its parts, holding no text yet.
_RESPONSE_OPENING = frozenset({"response.created", "response.in_progress", "response.output_item.added",
                               "response.content_part.added", "response.reasoning_summary_part.added"})
_RESPONSE_ENDS = frozenset({"response.completed", "response.failed", "response.incomplete"})
_PART_FIELDS = {"output_text": "text", "refusal": "refusal", "reasoning_text": "reasoning", "summary_text": "summary"}


class ResponsesCodec(Codec):
    """``POST /responses``: ``input`` (a string or items) and ``instructions`` in; output items out.

    Streamed text is keyed by (kind, item id, part index). Events that repeat the whole text (``*.done``,
    ``response.content_part.done``, ``response.output_item.done`` and the final ``response.completed``
    snapshot) are rewritten to what was released, so the snapshot agrees with the stream.
    """

    name = "responses"
    event_padding = OPENAI_PADDING
    operation = "responses"
    known = True

    def is_end(self, event: Event, payload: Any) -> bool:
        return event_type(payload) in _RESPONSE_ENDS

    def has_end_marker(self) -> bool:
        return True

    def is_error(self, event: Event, payload: Any) -> bool:
        return isinstance(payload, dict) and payload.get("type") == "error"

    def opens(self, event: Event, payload: Any) -> bool:
        return event_type(payload) in _RESPONSE_OPENING

    def ends_in_failure(self, payload: Any) -> bool:
        return isinstance(payload, dict) and payload.get("type") == "response.failed"

    def says_try_again(self, payload: Any) -> bool:
        # An error event names its code at the top; ``response.failed`` in its response's ``error``.
        response = payload.get("response") if isinstance(payload, dict) else None
        if isinstance(response, dict) and isinstance(response.get("error"), dict):
            return super().says_try_again(response["error"])
        return super().says_try_again(payload)

    def only_deltas(self, payload: Any) -> bool:
        return event_type(payload) in _RESPONSE_DELTAS and not payload.get("logprobs")

    def deltas(self, event: Event, payload: Any) -> list[Delta]:
        kind = _RESPONSE_DELTAS.get(event_type(payload))
        if kind is None or not isinstance(payload.get("delta"), str):
            return []
        return [(_key(kind, payload), ("delta",))]

    def logprob_tokens(self, payload: Any, key: Key, path: Path) -> list[Any] | None:
        # An output text delta's tokens: {"delta": "...", "logprobs": [...]} (other deltas have none).
        tokens = payload.get("logprobs")
        return tokens if isinstance(tokens, list) and event_type(payload) == "response.output_text.delta" else None

    def put_logprob_tokens(self, payload: Any, key: Key, path: Path, tokens: list[Any]) -> None:
        payload["logprobs"] = tokens

    def settle_logprobs(self, payload: Any) -> bool:
        # An output text delta's tokens are carried (put back after this); any other delta's (a refusal, reasoning)
        # are not, and are no part of the format.
        if event_type(payload) not in _RESPONSE_DELTAS or not payload.get("logprobs"):
            return False
        self.drop_logprobs(payload)
        return True

    def closes(self, event: Event, payload: Any, open_keys: Iterable[Key]) -> list[Key]:
        done = _RESPONSE_DONE.get(event_type(payload))
        if done is not None:
            return [_key(done[0], payload)]
        if event_type(payload) in _RESPONSE_ENDS:
            return list(open_keys)
        return []

    def snapshots(self, event: Event, payload: Any) -> list[tuple[Key | None, Path]]:
        kind = event_type(payload)
        done = _RESPONSE_DONE.get(kind)
        if done is not None and isinstance(payload.get(done[1]), str):
            return [(_key(done[0], payload), (done[1],))]
        if kind in ("response.content_part.done", "response.content_part.added"):
            part = payload.get("part")
            field = _PART_FIELDS.get(str(part.get("type"))) if isinstance(part, dict) else None
            if field is not None and isinstance(part.get(_field_of(field)), str):
                key = (field, key_part(payload.get("item_id")), key_part(payload.get("content_index", 0)))
                return [(key, ("part", _field_of(field)))]
            return []
        if kind in ("response.output_item.done", "response.output_item.added"):
            return _item_snapshots(payload.get("item"), ("item",))
        if kind in _RESPONSE_ENDS or kind in ("response.created", "response.in_progress"):
            response = payload.get("response")
            output = response.get("output") if isinstance(response, dict) else None
            out: list[tuple[Key | None, Path]] = []
            for n, item in enumerate(as_list(output)):
                out += _item_snapshots(item, ("response", "output", n))
            return out
        return []

    def tail_event(self, template: Event, template_payload: Any, key: Key, text: str) -> Event:
        # The last delta event of this text, carrying the tail instead: same type, item and indexes.
        payload = {k: v for k, v in template_payload.items() if k not in ("obfuscation", "logprobs")}
        payload["delta"] = text
        if "logprobs" in template_payload:
            payload["logprobs"] = []  # the tokens of the original text would spell what was held
        return Event(template.event or str(payload.get("type", "")), dumps(payload))

    def usage(self, payload: Any) -> tuple[int | None, int | None] | None:
        response = payload.get("response") if isinstance(payload, dict) else None
        return super().usage(response) if isinstance(response, dict) else super().usage(payload)

    def error_event(self, message: str, error_type: str, code: str | None = None, **extra: Any) -> Event:
        return Event("error", dumps({"type": "error", "code": code or error_type, "message": message, "param": None}))


def _key(kind: str, payload: dict[str, Any]) -> Key:
    if kind in _WHOLE_ITEM_TEXTS:
        index = 0
    else:
        index = payload.get("content_index", payload.get("summary_index", payload.get("command_index", 0)))
    # A shell command's events name their output item by position only.
    return (kind, key_part(payload.get("item_id", payload.get("output_index"))), key_part(index))


def _field_of(kind: str) -> str:
    return "refusal" if kind == "refusal" else "text"


def _item_snapshots(item: Any, base: Path) -> list[tuple[Key | None, Path]]:
    if not isinstance(item, dict):
        return []
    item_id = key_part(item.get("id"))
    out: list[tuple[Key | None, Path]] = []
    if isinstance(item.get("arguments"), str):
        out.append((("arguments", item_id, 0), (*base, "arguments")))
    if isinstance(item.get("input"), str):
        out.append((("input", item_id, 0), (*base, "input")))
    if isinstance(item.get("code"), str):
        out.append((("code", item_id, 0), (*base, "code")))
    for j, part in enumerate(as_list(item.get("content"))):
        field = _PART_FIELDS.get(str(part.get("type"))) if isinstance(part, dict) else None
        if field is not None and isinstance(part.get(_field_of(field)), str):
            out.append(((field, item_id, j), (*base, "content", j, _field_of(field))))
    for j, part in enumerate(as_list(item.get("summary"))):
        if isinstance(part, dict) and isinstance(part.get("text"), str):
            out.append((("summary", item_id, j), (*base, "summary", j, "text")))
    return out


__all__ = ["ResponsesCodec"]
