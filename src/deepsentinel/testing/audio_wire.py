"""OpenAI's speech-to-text wire, as the fake server speaks it: the form a request sends, and a transcript of the
reply's text in each ``response_format`` (``json``, ``verbose_json``, ``text``, ``srt``, ``vtt``), or streamed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import HTTP

from deepsentinel.testing.replies import Reply, estimate_tokens
from deepsentinel.testing.wire import SseEvent, json_event

PATHS = ("/v1/audio/transcriptions", "/v1/audio/translations")


def form_fields(content_type: str, body: bytes) -> dict[str, str] | None:
    """A ``multipart/form-data`` body's text fields (the file's part left out); ``None`` if it is not a form."""
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        return None
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str) and part.get_filename() is None:
            payload = part.get_payload(decode=True)
            fields[name] = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return fields


def transcript(reply: Reply, response_format: str) -> tuple[bytes, str]:
    """A whole transcript: its body and content type."""
    text = reply.content_text()
    if response_format == "text":
        return text.encode(), "text/plain; charset=utf-8"
    if response_format in ("srt", "vtt"):
        cue = f"00:00:00{',' if response_format == 'srt' else '.'}000 --> 00:00:02{',' if response_format == 'srt' else '.'}000"
        head = "1\n" if response_format == "srt" else "WEBVTT\n\n"
        return f"{head}{cue}\n{text}\n\n".encode(), "text/plain; charset=utf-8"
    if response_format == "verbose_json":
        segment = {"id": 0, "seek": 0, "start": 0.0, "end": 2.0, "text": text, "tokens": [], "temperature": 0.0,
                   "avg_logprob": -0.2, "compression_ratio": 1.0, "no_speech_prob": 0.01}
        payload = {"task": "transcribe", "language": "english", "duration": 2.0, "text": text, "segments": [segment]}
        return json.dumps(payload).encode(), "application/json"
    return json.dumps({"text": text, "usage": _usage(text)}).encode(), "application/json"


def stream_events(reply: Reply) -> Iterator[SseEvent]:
    """A streamed transcript: a ``transcript.text.delta`` per chunk, then ``transcript.text.done``."""
    text = reply.content_text()
    for chunk in reply.content_chunks():
        yield json_event({"type": "transcript.text.delta", "delta": chunk, "logprobs": None}, is_delta=True)
    yield json_event({"type": "transcript.text.done", "text": text, "logprobs": None, "usage": _usage(text)})


def _usage(text: str) -> dict[str, object]:
    """A transcript's usage, as the API reports it: the audio's tokens in (a fixed 20 here), the text's out."""
    out = estimate_tokens(text)
    return {"type": "tokens", "input_tokens": 20, "output_tokens": out, "total_tokens": 20 + out}


__all__ = ["PATHS", "form_fields", "stream_events", "transcript"]
