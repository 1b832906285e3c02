"""The OpenAI formats: chat completions, legacy completions and embeddings (the Responses API: responses_codec.py).
Sans-IO."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from deepsentinel.errors import ValidationError
from deepsentinel.wire.codec import OPENAI_PADDING, Codec, Delta, Key, as_list, key_part
from deepsentinel.wire.json_io import dumps
from deepsentinel.wire.sse import Event
from deepsentinel.wire.texts import Path, TextRef, string_refs

# Keys of a chat delta that are not text: everything else that holds a string is (content, refusal,
# reasoning_content from OpenAI-compatible reasoning servers...).
_DELTA_META = frozenset({"role", "tool_calls", "function_call", "audio"})


class ChatCodec(Codec):
    """``POST /chat/completions``."""

    name = "chat"
    event_padding = OPENAI_PADDING
    operation = "chat.completions"
    known = True

    def request_texts(self, body: Any) -> tuple[list[TextRef], list[str]]:
        refs, keys = super().request_texts(body)
        unusual = _unusual_texts(body)
        if not unusual:
            return refs, keys
        read = {ref.path for ref in refs}  # only what the walk passed over: a text read twice is rewritten twice
        return refs + [ref for ref in unusual if ref.path not in read], keys

    def validate_request(self, body: Any) -> None:
        # Only what the guard itself needs. The model and messages are the provider's to judge, as for the raw
        # client (a single-model server takes model=""): every string of the body is scanned, whatever its shape.
        if not isinstance(body, dict):
            raise ValidationError("the request body must be a JSON object")

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
            for k, call in enumerate(as_list(delta.get("tool_calls"))):
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


_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def _unusual_texts(body: Any) -> list[TextRef]:
    """Strings the walk passes over as settings, in shapes the format does not have, which the provider may
    still put in front of the model (a chat template renders a role): a role no API defines, and everything in
    ``messages`` or a message's ``content`` that is an object instead of a list or a string. The provider may
    refuse them, but they go to it, so they are read first."""
    messages = body.get("messages") if isinstance(body, dict) else None
    if isinstance(messages, dict):
        return string_refs(messages, ("messages",), skip=frozenset())
    out: list[TextRef] = []
    for n, message in enumerate(as_list(messages)):
        if not isinstance(message, dict):
            continue
        role, content = message.get("role"), message.get("content")
        if isinstance(role, str) and role not in _ROLES:
            out.append(TextRef(("messages", n, "role")))
        if isinstance(content, dict):
            out += string_refs(content, ("messages", n, "content"), skip=frozenset())
    return out


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
    event_padding = OPENAI_PADDING
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
def _choices(payload: Any) -> list[tuple[int, dict[str, Any]]]:
    """The choices that are objects, with their positions in the list (a path must name the real one)."""
    choices = payload.get("choices") if isinstance(payload, dict) else None
    return [(n, c) for n, c in enumerate(choices) if isinstance(c, dict)] if isinstance(choices, list) else []


__all__ = ["ChatCodec", "CompletionsCodec", "EmbeddingsCodec"]
