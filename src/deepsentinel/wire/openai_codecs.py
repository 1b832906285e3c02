"""The OpenAI formats: chat completions, legacy completions, embeddings and the Responses API. Sans-IO."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from deepsentinel.errors import ValidationError
from deepsentinel.messages import validate_chat_args
from deepsentinel.wire.codec import Codec, Delta, Key, key_part
from deepsentinel.wire.json_io import dumps
from deepsentinel.wire.sse import Event
from deepsentinel.wire.texts import Path, TextRef, string_refs

# Keys of a chat delta that are not text: everything else that holds a string is (content, refusal,
# reasoning_content from OpenAI-compatible reasoning servers...).
_DELTA_META = frozenset({"role", "tool_calls", "function_call", "audio"})


# The random padding OpenAI adds to every streamed event with a delta by default, so that payload sizes do not give
# the text away: no model text is in it, and scanning it cost more than the delta it pads.
_PADDING = frozenset({"obfuscation"})


class ChatCodec(Codec):
    """``POST /chat/completions``."""

    name = "chat"
    event_padding = _PADDING
    operation = "chat.completions"
    known = True

    def validate_request(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise ValidationError("the request body must be a JSON object")
        validate_chat_args(body.get("model"), body.get("messages"))

    def is_end(self, event: Event, payload: Any) -> bool:
        return event.data.strip() == "[DONE]"

    def has_end_marker(self) -> bool:
        return True

    def opens(self, event: Event, payload: Any) -> bool:
        # A chunk that names the role or a tool call (its id and name) and holds no text yet: any choices' deltas
        # empty but for those, no end of a choice, no usage (an error event has no choices).
        if type(payload) is not dict or type(payload.get("choices")) is not list or payload.get("usage") is not None:
            return False
        for _, choice in _choices(payload):
            if choice.get("finish_reason") or not _no_tokens(choice.get("logprobs")):
                return False
            delta = choice.get("delta")
            if not isinstance(delta, dict):
                return False
            for field, value in delta.items():
                if value is None or field == "role":
                    continue
                if field == "tool_calls":
                    if not isinstance(value, list) or not all(_names_a_call(call) for call in value):
                        return False
                elif value != "":
                    return False
        return True

    def deltas(self, event: Event, payload: Any) -> list[Delta]:
        out: list[Delta] = []
        for n, choice in _choices(payload):
            i = key_part(choice.get("index", n))
            delta = choice.get("delta")
            if not isinstance(delta, dict):
                continue
            for field, value in delta.items():
                if field not in _DELTA_META and isinstance(value, str):
                    out.append(((i, field), ("choices", n, "delta", field)))
            for k, call in enumerate(_list(delta.get("tool_calls"))):
                fn = call.get("function") if isinstance(call, dict) else None
                if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                    index = key_part(call.get("index", k))
                    out.append(((i, "tool", index), ("choices", n, "delta", "tool_calls", k, "function", "arguments")))
            fn = delta.get("function_call")
            if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                out.append(((i, "function_call"), ("choices", n, "delta", "function_call", "arguments")))
            audio = delta.get("audio")  # audio output: base64 "data" (not text) and the "transcript" text, streamed
            if isinstance(audio, dict) and isinstance(audio.get("transcript"), str):
                out.append(((i, "audio"), ("choices", n, "delta", "audio", "transcript")))
        return out

    def closes(self, event: Event, payload: Any, open_keys: Iterable[Key]) -> list[Key]:
        done = {key_part(c.get("index", n)) for n, c in _choices(payload) if c.get("finish_reason")}
        return [k for k in open_keys if isinstance(k, tuple) and k[0] in done] if done else []

    def text_pieces(self, event: Event, payload: Any) -> list[tuple[Key, Path, str]] | None:
        # Nearly every chunk of a chat stream is one choice whose delta is one piece of content: answered here
        # without the general walk (the same answer: tests/wire/test_codec_pieces.py).
        choices = payload.get("choices") if type(payload) is dict else None
        if type(choices) is list and len(choices) == 1 and payload.get("usage") is None:
            choice = choices[0]
            if type(choice) is dict and not choice.get("finish_reason") and not choice.get("logprobs"):
                delta = choice.get("delta")
                if type(delta) is dict and len(delta) == 1 and type(delta.get("content")) is str:
                    return [((key_part(choice.get("index", 0)), "content"), ("choices", 0, "delta", "content"), delta["content"])]
        return super().text_pieces(event, payload)

    def only_deltas(self, payload: Any) -> bool:
        # A chunk whose choices hold only text fields (no role, no tool call id or name, no logprobs, no usage).
        if payload.get("usage") is not None:
            return False
        for _, choice in _choices(payload):
            if choice.get("finish_reason") or choice.get("logprobs"):
                return False
            delta = choice.get("delta")
            if delta is not None and (not isinstance(delta, dict) or any(k in _DELTA_META for k in delta)):
                return False
        return True

    def logprob_tokens(self, payload: Any, key: Key, path: Path) -> list[Any] | None:
        # A choice's content (or refusal) tokens: {"logprobs": {"content": [...], "refusal": null}}.
        if not isinstance(key, tuple) or key[1] not in ("content", "refusal"):
            return None
        logprobs = payload["choices"][path[1]].get("logprobs")
        tokens = logprobs.get(key[1]) if isinstance(logprobs, dict) else None
        return tokens if isinstance(tokens, list) else None

    def settle_logprobs(self, payload: Any) -> bool:
        # A choice's tokens spell its content or refusal: carried (put back after this) when it has either in this
        # event, and when it has neither (a finish, a tool call), spelling nothing it shows. A chunk's own
        # top-level logprobs are no part of the format.
        if payload.get("logprobs") is None and all(_no_tokens(c.get("logprobs")) for _, c in _choices(payload)):
            return False
        self.drop_logprobs(payload)
        return True

    def put_logprob_tokens(self, payload: Any, key: Key, path: Path, tokens: list[Any]) -> None:
        assert isinstance(key, tuple)
        choice = payload["choices"][path[1]]
        logprobs = choice.get("logprobs") if isinstance(choice.get("logprobs"), dict) else {"content": None, "refusal": None}
        choice["logprobs"] = {**logprobs, key[1]: tokens}

    def tail_event(self, template: Event, template_payload: Any, key: Key, text: str) -> Event:
        assert isinstance(key, tuple)
        base = {k: v for k, v in template_payload.items() if k not in ("choices", "usage")}
        if key[1] == "tool":
            delta: dict[str, Any] = {"tool_calls": [{"index": key[2], "function": {"arguments": text}}]}
        elif key[1] == "function_call":
            delta = {"function_call": {"arguments": text}}
        elif key[1] == "audio":
            delta = {"audio": {"transcript": text}}
        else:
            delta = {key[1]: text}
        base["choices"] = [{"index": key[0], "delta": delta, "finish_reason": None}]
        return template.with_data(dumps(base))


def _no_tokens(logprobs: Any) -> bool:
    """Whether a chunk's ``logprobs`` spell no token (absent, or ``{"content": [], "refusal": null}``)."""
    return not logprobs or (isinstance(logprobs, dict) and not any(logprobs.values()))


def _names_a_call(call: Any) -> bool:
    """Whether a streamed tool call only names itself (index, id, type, function name) with no arguments yet."""
    if not isinstance(call, dict):
        return False
    fn = call.get("function")
    return fn is None or (isinstance(fn, dict) and not fn.get("arguments"))


class CompletionsCodec(Codec):
    """Legacy ``POST /completions``: ``prompt`` in, ``choices[].text`` out."""

    name = "completions"
    event_padding = _PADDING
    operation = "completions"
    known = True

    def is_end(self, event: Event, payload: Any) -> bool:
        return event.data.strip() == "[DONE]"

    def has_end_marker(self) -> bool:
        return True

    def deltas(self, event: Event, payload: Any) -> list[Delta]:
        return [
            ((key_part(c.get("index", n)),), ("choices", n, "text"))
            for n, c in _choices(payload)
            if isinstance(c.get("text"), str)
        ]

    def closes(self, event: Event, payload: Any, open_keys: Iterable[Key]) -> list[Key]:
        done = {key_part(c.get("index", n)) for n, c in _choices(payload) if c.get("finish_reason")}
        return [k for k in open_keys if isinstance(k, tuple) and k[0] in done] if done else []

    def settle_logprobs(self, payload: Any) -> bool:
        # Not carried: a choice whose text passed unchanged keeps its tokens when they spell that text, without
        # the alternatives (as carried tokens leave: the one before a value is often the value's first token).
        changed = False
        for _, choice in _choices(payload):
            logprobs = choice.get("logprobs")
            if not logprobs:
                continue
            tokens = logprobs.get("tokens") if isinstance(logprobs, dict) else None
            text = choice.get("text")
            if (isinstance(tokens, list) and all(isinstance(t, str) for t in tokens) and isinstance(text, str)
                    and "".join(tokens) == text):
                if logprobs.get("top_logprobs") is not None:
                    choice["logprobs"] = {**logprobs, "top_logprobs": None}
                    changed = True
            else:
                choice["logprobs"] = None
                changed = True
        return changed

    def tail_event(self, template: Event, template_payload: Any, key: Key, text: str) -> Event:
        assert isinstance(key, tuple)
        base = {k: v for k, v in template_payload.items() if k not in ("choices", "usage")}
        base["choices"] = [{"index": key[0], "text": text, "finish_reason": None, "logprobs": None}]
        return template.with_data(dumps(base))


class EmbeddingsCodec(Codec):
    """``POST /embeddings``: the inputs are checked like prompts; vectors carry no text."""

    name = "embeddings"
    operation = "embeddings"
    known = True

    def request_refs(self, body: Any) -> list[TextRef]:
        return list(string_refs(body.get("input"), ("input",))) if isinstance(body, dict) else []

    def response_refs(self, body: Any) -> list[TextRef]:
        return []


# Streamed texts (delta event -> kind of text). An MCP call's arguments share the function call's kind: its
# output item holds them in the same "arguments" field.
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
    event_padding = _PADDING
    operation = "responses"
    known = True

    def is_end(self, event: Event, payload: Any) -> bool:
        return _kind(payload) in _RESPONSE_ENDS

    def has_end_marker(self) -> bool:
        return True

    def is_error(self, event: Event, payload: Any) -> bool:
        return isinstance(payload, dict) and payload.get("type") == "error"

    def opens(self, event: Event, payload: Any) -> bool:
        return _kind(payload) in _RESPONSE_OPENING

    def ends_in_failure(self, payload: Any) -> bool:
        return isinstance(payload, dict) and payload.get("type") == "response.failed"

    def says_try_again(self, payload: Any) -> bool:
        # An error event names its code at the top; ``response.failed`` in its response's ``error``.
        response = payload.get("response") if isinstance(payload, dict) else None
        if isinstance(response, dict) and isinstance(response.get("error"), dict):
            return super().says_try_again(response["error"])
        return super().says_try_again(payload)

    def only_deltas(self, payload: Any) -> bool:
        return _kind(payload) in _RESPONSE_DELTAS and not payload.get("logprobs")

    def deltas(self, event: Event, payload: Any) -> list[Delta]:
        kind = _RESPONSE_DELTAS.get(_kind(payload))
        if kind is None or not isinstance(payload.get("delta"), str):
            return []
        return [(_key(kind, payload), ("delta",))]

    def logprob_tokens(self, payload: Any, key: Key, path: Path) -> list[Any] | None:
        # An output text delta's tokens: {"delta": "...", "logprobs": [...]} (other deltas have none).
        tokens = payload.get("logprobs")
        return tokens if isinstance(tokens, list) and _kind(payload) == "response.output_text.delta" else None

    def put_logprob_tokens(self, payload: Any, key: Key, path: Path, tokens: list[Any]) -> None:
        payload["logprobs"] = tokens

    def settle_logprobs(self, payload: Any) -> bool:
        # An output text delta's tokens are carried (put back after this); any other delta's (a refusal, reasoning)
        # are not, and are no part of the format.
        if _kind(payload) not in _RESPONSE_DELTAS or not payload.get("logprobs"):
            return False
        self.drop_logprobs(payload)
        return True

    def closes(self, event: Event, payload: Any, open_keys: Iterable[Key]) -> list[Key]:
        done = _RESPONSE_DONE.get(_kind(payload))
        if done is not None:
            return [_key(done[0], payload)]
        if _kind(payload) in _RESPONSE_ENDS:
            return list(open_keys)
        return []

    def snapshots(self, event: Event, payload: Any) -> list[tuple[Key | None, Path]]:
        kind = _kind(payload)
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
            for n, item in enumerate(_list(output)):
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


def _kind(payload: Any) -> str:
    """A Responses event's ``type`` ("" when it has none, or one that is not a string)."""
    kind = payload.get("type") if isinstance(payload, dict) else None
    return kind if isinstance(kind, str) else ""


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
    for j, part in enumerate(_list(item.get("content"))):
        field = _PART_FIELDS.get(str(part.get("type"))) if isinstance(part, dict) else None
        if field is not None and isinstance(part.get(_field_of(field)), str):
            out.append(((field, item_id, j), (*base, "content", j, _field_of(field))))
    for j, part in enumerate(_list(item.get("summary"))):
        if isinstance(part, dict) and isinstance(part.get("text"), str):
            out.append((("summary", item_id, j), (*base, "summary", j, "text")))
    return out


def _list(value: Any) -> list[Any]:
    """A field that should hold an array: itself, or none when it holds something else."""
    return value if isinstance(value, list) else []


def _choices(payload: Any) -> list[tuple[int, dict[str, Any]]]:
    """The choices that are objects, with their positions in the list (a path must name the real one)."""
    choices = payload.get("choices") if isinstance(payload, dict) else None
    return [(n, c) for n, c in enumerate(choices) if isinstance(c, dict)] if isinstance(choices, list) else []


__all__ = ["ChatCodec", "CompletionsCodec", "EmbeddingsCodec", "ResponsesCodec"]
