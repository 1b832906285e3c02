"""The Anthropic Messages format: ``system`` and ``messages`` in, content blocks out. Sans-IO.

Streamed text arrives as ``content_block_delta`` events: ``text_delta.text``, ``input_json_delta.partial_json``
(a tool call's input, as JSON text) and ``thinking_delta.thinking``; each content block is one stream key and
``content_block_stop`` ends it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from deepsentinel.wire.codec import Codec, Delta, Key, key_part
from deepsentinel.wire.json_io import dumps
from deepsentinel.wire.sse import Event
from deepsentinel.wire.texts import STRUCTURAL_KEYS

_OPENING = frozenset({"message_start", "content_block_start", "ping"})
_DELTA_FIELDS = {"text_delta": "text", "input_json_delta": "partial_json", "thinking_delta": "thinking"}


class AnthropicCodec(Codec):
    """``POST /v1/messages``."""

    name = "messages"
    api = "anthropic"
    operation = "messages"
    known = True
    response_skip = STRUCTURAL_KEYS | {"stop_sequence"}

    def is_end(self, event: Event, payload: Any) -> bool:
        return isinstance(payload, dict) and payload.get("type") == "message_stop"

    def has_end_marker(self) -> bool:
        return True

    def is_error(self, event: Event, payload: Any) -> bool:
        return isinstance(payload, dict) and payload.get("type") == "error"

    def opens(self, event: Event, payload: Any) -> bool:
        return isinstance(payload, dict) and isinstance(payload.get("type"), str) and payload["type"] in _OPENING

    def deltas(self, event: Event, payload: Any) -> list[Delta]:
        if not isinstance(payload, dict) or payload.get("type") != "content_block_delta":
            return []
        delta = payload.get("delta")
        if not isinstance(delta, dict):
            return []
        field = _DELTA_FIELDS.get(str(delta.get("type")))
        if field is None or not isinstance(delta.get(field), str):
            return []
        return [((key_part(payload.get("index", 0)), delta["type"]), ("delta", field))]

    def only_deltas(self, payload: Any) -> bool:
        return isinstance(payload, dict) and payload.get("type") == "content_block_delta"

    def closes(self, event: Event, payload: Any, open_keys: Iterable[Key]) -> list[Key]:
        if not isinstance(payload, dict):
            return []
        if payload.get("type") == "content_block_stop":
            index = key_part(payload.get("index", 0))
            return [k for k in open_keys if isinstance(k, tuple) and k[0] == index]
        if payload.get("type") == "message_stop":
            return list(open_keys)
        return []

    def tail_event(self, template: Event, template_payload: Any, key: Key, text: str) -> Event:
        assert isinstance(key, tuple)
        index, delta_type = key
        payload = {"type": "content_block_delta", "index": index, "delta": {"type": delta_type, _DELTA_FIELDS[delta_type]: text}}
        return Event("content_block_delta", dumps(payload))

    def usage(self, payload: Any) -> tuple[int | None, int | None] | None:
        if isinstance(payload, dict) and isinstance(payload.get("message"), dict):
            return super().usage(payload["message"])
        return super().usage(payload)

    def error_body(self, message: str, error_type: str, code: str | None = None, **extra: Any) -> bytes:
        return dumps({"type": "error", "error": {"type": error_type, "message": message, **extra}}).encode()

    def error_event(self, message: str, error_type: str, code: str | None = None, **extra: Any) -> Event:
        return Event("error", self.error_body(message, error_type, code, **extra).decode())


__all__ = ["AnthropicCodec"]
