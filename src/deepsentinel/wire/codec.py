"""What the wire guard needs to know about one API's format: where its texts are, streamed and not. Sans-IO.

A codec answers questions about parsed JSON (requests, responses, streamed event payloads); the guard does the
checking. ``codec_for(path)`` picks the codec for a request path; an unknown JSON endpoint gets ``GenericCodec``,
which checks every string in the body.

Stream keys name one text stream inside a response (a choice's content, one tool call's arguments, one
content block), so each gets its own ``StreamGuard``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Hashable, Iterable
from typing import Any, Literal

from deepsentinel.wire.json_io import dumps
from deepsentinel.wire.logprob_carry import spelled_by
from deepsentinel.wire.sse import Event
from deepsentinel.wire.texts import STRUCTURAL_KEYS, Path, TextRef, odd_keys, string_refs, texts_and_odd_keys

Api = Literal["openai", "anthropic"]
# The random padding OpenAI adds to every streamed event with a delta by default, so that payload sizes do not give
# the text away: no model text is in it, and scanning it cost more than the delta it pads.
OPENAI_PADDING = frozenset({"obfuscation"})
Key = Hashable
Delta = tuple[Key, Path]


class Codec:
    """An unknown JSON endpoint: every string is a text, requests and responses alike; no stream structure."""

    name = "generic"
    api: Api = "openai"
    operation = "generic"
    known = False
    response_skip: frozenset[str] = STRUCTURAL_KEYS | {"system_fingerprint", "created"}
    # Top-level keys of a streamed event that hold padding, not text (OpenAI's ``obfuscation``). Only there: the
    # same key deeper down (a shell call's ``env``, ``metadata``) or in an unknown endpoint's body may be text.
    event_padding: frozenset[str] = frozenset()

    def request_refs(self, body: Any) -> list[TextRef]:
        """The texts of a request the model will read, in reading order."""
        return list(string_refs(body))

    def validate_request(self, body: Any) -> None:
        """Raise ``ValidationError`` for a body the guard cannot check (nothing is sent); what the provider would
        refuse is left for it to say, as it says it to the raw client."""

    def response_refs(self, body: Any) -> list[TextRef]:
        """The texts of a whole (non-streamed) response."""
        return list(string_refs(body, skip=self.response_skip))

    def request_texts(self, body: Any) -> tuple[list[TextRef], list[str]]:
        """``request_refs(body)`` and ``odd_keys(body)``: from one walk when this codec reads the whole body."""
        if type(self).request_refs is Codec.request_refs:
            return texts_and_odd_keys(body)
        return self.request_refs(body), odd_keys(body)

    def response_texts(self, body: Any) -> tuple[list[TextRef], list[str]]:
        """``response_refs(body)`` and ``odd_keys(body)``: from one walk when this codec reads the whole body."""
        if type(self).response_refs is Codec.response_refs:
            return texts_and_odd_keys(body, self.response_skip)
        return self.response_refs(body), odd_keys(body)

    def after_rewrite(self, body: Any, rewritten: Iterable[Path]) -> None:
        """Fix-ups after texts at ``rewritten`` changed: the token logprobs of any object around a changed text
        are emptied, as their tokens spell the old text (a chat choice's, a Responses output text's, a legacy
        completion's, a Responses ``*.done`` event's own)."""
        for path in rewritten:
            node = body
            for step in path:
                if isinstance(node, dict) and node.get("logprobs"):
                    node["logprobs"] = [] if isinstance(node["logprobs"], list) else None
                try:
                    node = node[step]
                except (KeyError, IndexError, TypeError):
                    break

    # Streams ------------------------------------------------------------------------------------------------
    def is_end(self, event: Event, payload: Any) -> bool:
        """Whether ``event`` is the provider's end marker (a stream ending without it was cut off)."""
        return False

    def has_end_marker(self) -> bool:
        return False

    def opens(self, event: Event, payload: Any) -> bool:
        """Whether ``event`` only opens the answer or one of its parts (a role, a tool call's name, an empty
        block): nothing a caller acts on alone. Such events are held while nothing else was sent, so a stream
        reopened before its first output shows one attempt's opening, not two merged (an unknown format: none
        is, and nothing is held)."""
        return False

    def is_error(self, event: Event, payload: Any) -> bool:
        return isinstance(payload, dict) and ("error" in payload or payload.get("type") == "error")

    def ends_in_failure(self, payload: Any) -> bool:
        """Whether ``payload``, an end marker, says the answer failed (the Responses API's ``response.failed``):
        the call is recorded as failed, as after an error event."""
        return False

    def says_try_again(self, payload: Any) -> bool:
        """Whether an error event's payload (``{"error": {...}}``, or the error itself) names a kind worth retrying
        (an overload, a rate limit, a server error): what the same failure is as a 429 or a 5xx."""
        if not isinstance(payload, dict):
            return False
        error = payload.get("error")
        source = error if isinstance(error, dict) else payload
        return any(isinstance(k, str) and k in _TRY_AGAIN for k in (source.get("type"), source.get("code")))

    def deltas(self, event: Event, payload: Any) -> list[Delta]:
        """The streamed text pieces in ``payload``: (stream key, path of the piece)."""
        return []

    def logprob_tokens(self, payload: Any, key: Key, path: Path) -> list[Any] | None:
        """The token logprobs that spell the text piece at ``path`` of a streamed event (None: none, or the codec
        does not carry them, and they are dropped when the text changes)."""
        return None

    def put_logprob_tokens(self, payload: Any, key: Key, path: Path, tokens: list[Any]) -> None:
        """Give the event (its logprobs dropped) the ``tokens`` of its text piece at ``path``."""

    def settle_logprobs(self, payload: Any) -> bool:
        """For a streamed event whose texts the guard passed unchanged: drop the token logprobs the carry does not
        send (``logprob_tokens``) and that the codec cannot vouch spell its text; whether it changed the event.
        (Read one string at a time, tokens could spell a value that no single one holds.)"""
        return False

    def settle_snapshot_logprobs(self, payload: Any, path: Path, text: str) -> bool:
        """For a whole text at ``path`` the guard passed unchanged in a stream (a Responses ``*.done`` event, a
        snapshot): the logprobs beside it leave as its streamed tokens did (``logprob_carry``: rebuilt, without
        alternatives), and only if they spell exactly that text, else empty; whether it changed the event."""
        parent = payload
        for step in path[:-1]:
            parent = parent[step]
        logprobs = parent.get("logprobs") if isinstance(parent, dict) else None
        if not logprobs:
            return False
        tokens = spelled_by(logprobs, text)
        if tokens == logprobs:
            return False
        parent["logprobs"] = tokens if tokens is not None else [] if isinstance(logprobs, list) else None
        return True

    def drop_logprobs(self, payload: Any) -> bool:
        """Remove token logprobs from a streamed event whose text the guard changed; whether any were there (the
        event sent then differs from the event read in more than its texts)."""
        if not isinstance(payload, dict):
            return False
        dropped = bool(payload.get("logprobs"))
        if payload.get("logprobs") is not None:  # the Responses API's deltas: a list its SDK requires
            payload["logprobs"] = [] if isinstance(payload["logprobs"], list) else None
        choices = payload.get("choices")
        for choice in choices if isinstance(choices, list) else ():
            if isinstance(choice, dict) and choice.get("logprobs") is not None:
                dropped = dropped or bool(choice["logprobs"])
                choice["logprobs"] = None
        return dropped

    def text_pieces(self, event: Event, payload: Any) -> list[tuple[Key, Path, str]] | None:
        """The event's text pieces (key, path, text) when it carries nothing but them (``only_deltas``), else
        ``None``: what ``EventGuard.feed_many`` gathers into a row."""
        if not isinstance(payload, dict) or not self.only_deltas(payload):
            return None
        pieces = [(key, path, TextRef(path).get(payload)) for key, path in self.deltas(event, payload)]
        return pieces or None

    def only_deltas(self, payload: Any) -> bool:
        """Whether ``payload`` carries nothing but its text pieces (so, held back whole, it need not be sent).

        True promises more, which ``EventGuard.feed_many`` relies on to guard a row of such events together: the
        event ends no text (``closes`` is empty), repeats none (no ``snapshots``), reports no usage, is neither
        an error nor the end marker."""
        return False

    def closes(self, event: Event, payload: Any, open_keys: Iterable[Key]) -> list[Key]:
        """The stream keys that end with this event: their held tail must be released before it."""
        return []

    def snapshots(self, event: Event, payload: Any) -> list[tuple[Key | None, Path]]:
        """Whole texts in this event that repeat what was streamed under a key (``None``: check as a whole)."""
        return []

    def tail_event(self, template: Event, template_payload: Any, key: Key, text: str) -> Event:
        """An event carrying ``text`` as one more piece of ``key``'s stream, shaped like ``template``."""
        raise NotImplementedError

    def usage(self, payload: Any) -> tuple[int | None, int | None] | None:
        """(prompt tokens, completion tokens) when ``payload`` reports usage."""
        usage = payload.get("usage") if isinstance(payload, dict) else None
        if not isinstance(usage, dict):
            return None
        prompt = usage.get("prompt_tokens", usage.get("input_tokens"))
        completion = usage.get("completion_tokens", usage.get("output_tokens"))
        return (prompt if isinstance(prompt, int) else None, completion if isinstance(completion, int) else None)

    # Errors in this API's own format -------------------------------------------------------------------------
    def error_body(self, message: str, error_type: str, code: str | None = None, **extra: Any) -> bytes:
        error = {"message": message, "type": error_type, "param": None, "code": code, **extra}
        return json.dumps({"error": error}).encode()

    def error_event(self, message: str, error_type: str, code: str | None = None, **extra: Any) -> Event:
        return Event("", self.error_body(message, error_type, code, **extra).decode())


# In-stream error kinds that say "try again": Anthropic's error types, OpenAI's error types and codes, the
# Responses API's codes.
_TRY_AGAIN = frozenset({"server_error", "api_error", "overloaded_error", "timeout_error", "rate_limit_error",
                        "rate_limit_exceeded", "service_unavailable"})


@functools.lru_cache(maxsize=256)  # codecs hold no state; a process sends to a handful of paths
def codec_for(path: str) -> Codec:
    """The codec for a request path (``/v1/chat/completions``, ``/openai/deployments/x/chat/completions``...)."""
    from deepsentinel.wire.anthropic_codec import AnthropicCodec
    from deepsentinel.wire.audio_codec import TranscriptionCodec
    from deepsentinel.wire.openai_codecs import ChatCodec, CompletionsCodec, EmbeddingsCodec
    from deepsentinel.wire.responses_codec import ResponsesCodec

    path = path.rstrip("/")
    if path.endswith(("/audio/transcriptions", "/audio/translations")):
        return TranscriptionCodec()
    if path.endswith("/chat/completions"):
        return ChatCodec()
    if path.endswith("/messages") and "/threads/" not in path:  # OpenAI Assistants: /threads/{id}/messages
        return AnthropicCodec()
    if path.endswith("/responses"):
        return ResponsesCodec()
    if path.endswith("/embeddings"):
        return EmbeddingsCodec()
    if path.endswith("/completions"):
        return CompletionsCodec()
    return Codec()


def event_type(payload: Any) -> str:
    """A streamed event's ``type`` ("" when it has none, or one that is not a string)."""
    kind = payload.get("type") if isinstance(payload, dict) else None
    return kind if isinstance(kind, str) else ""


def as_list(value: Any) -> list[Any]:
    """A field that should hold an array: itself, or none when it holds something else."""
    return value if isinstance(value, list) else []


def key_part(value: Any) -> Key:
    """A JSON value as part of a stream key: an index or id that is an array, an object or NaN (a provider's
    error, or a hostile one) is keyed by its JSON text instead of failing the stream."""
    scalar: Key = value
    kind = type(value)
    if kind is int or kind is str:  # nearly always: checked first, as this runs for every event
        return scalar
    if kind is list or kind is dict:
        return dumps(value)
    if isinstance(value, float) and value != value:  # NaN is not equal to itself: no dict would find it
        return "NaN"
    return scalar  # bool, None or another number: hashable


__all__ = ["OPENAI_PADDING", "Api", "Codec", "Delta", "Key", "as_list", "codec_for", "dumps", "event_type", "key_part"]
