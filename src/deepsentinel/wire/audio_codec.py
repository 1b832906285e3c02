"""The codec of OpenAI's speech-to-text answers (``/audio/transcriptions``, ``/audio/translations``). Sans-IO.

The request is a form with the audio file (its text fields are checked as an upload is). The answer is a
transcript: JSON (``{"text": ...}``, or verbose with segments and words), plain text (``text``, ``srt``,
``vtt``), or, with ``stream=True``, events: ``transcript.text.delta`` pieces, ``transcript.text.segment`` for a
speaker's whole segment, and ``transcript.text.done`` with the whole text, which is rewritten to what was
released, as the Responses API's snapshots are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from deepsentinel.wire.codec import OPENAI_PADDING, Codec, Delta, Key, event_type
from deepsentinel.wire.json_io import dumps
from deepsentinel.wire.sse import Event
from deepsentinel.wire.texts import Path

_DELTA = "transcript.text.delta"
_DONE = "transcript.text.done"
_TRANSCRIPT: Key = ("transcript",)  # one text per answer (a segment's id does not split it: one text is read)


class TranscriptionCodec(Codec):
    """Speech-to-text answers, whole or streamed."""

    name = "transcriptions"
    operation = "audio.transcriptions"
    known = True
    event_padding = OPENAI_PADDING

    def after_rewrite(self, body: Any, rewritten: Iterable[Path]) -> None:
        # A verbose transcript's words and segments spell its text a piece at a time: each alone may be no value
        # (a card's groups, split between two segments), so once any text was rewritten they go, as token
        # logprobs do. (The whole text stays, rewritten.)
        paths = list(rewritten)
        super().after_rewrite(body, paths)
        if paths and isinstance(body, dict):
            for pieces in ("words", "segments"):
                if isinstance(body.get(pieces), list):
                    body[pieces] = []

    def is_end(self, event: Event, payload: Any) -> bool:
        return event_type(payload) == _DONE or event.data.strip() == "[DONE]"

    def has_end_marker(self) -> bool:
        return True

    def deltas(self, event: Event, payload: Any) -> list[Delta]:
        if event_type(payload) != _DELTA or not isinstance(payload.get("delta"), str):
            return []
        return [(_TRANSCRIPT, ("delta",))]

    def only_deltas(self, payload: Any) -> bool:
        return event_type(payload) == _DELTA and not payload.get("logprobs")

    def closes(self, event: Event, payload: Any, open_keys: Iterable[Key]) -> list[Key]:
        return list(open_keys) if self.is_end(event, payload) else []

    def snapshots(self, event: Event, payload: Any) -> list[tuple[Key | None, Path]]:
        if event_type(payload) == _DONE and isinstance(payload.get("text"), str):
            return [(_TRANSCRIPT, ("text",))]
        return []

    def logprob_tokens(self, payload: Any, key: Key, path: Path) -> list[Any] | None:
        tokens = payload.get("logprobs")
        return tokens if isinstance(tokens, list) else None

    def put_logprob_tokens(self, payload: Any, key: Key, path: Path, tokens: list[Any]) -> None:
        payload["logprobs"] = tokens

    def settle_logprobs(self, payload: Any) -> bool:
        # A delta's tokens are carried (put back after this); no other event's are part of the format.
        if not isinstance(payload, dict) or not payload.get("logprobs") or event_type(payload) == _DONE:
            return False
        self.drop_logprobs(payload)
        return True

    def tail_event(self, template: Event, template_payload: Any, key: Key, text: str) -> Event:
        payload = {k: v for k, v in template_payload.items() if k not in ("obfuscation", "logprobs")}
        payload["delta"] = text
        return Event(template.event, dumps(payload))


__all__ = ["TranscriptionCodec"]
