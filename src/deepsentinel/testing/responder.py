"""How the fake server writes answers: JSON bodies, provider error envelopes and SSE, with the reply's faults.

``Responder`` is a mixin for the request handler; it owns the bytes on the wire, the handler owns routing.
"""

from __future__ import annotations

import json
import select
import socket
import time
import zlib
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal

from deepsentinel.testing import responses_wire
from deepsentinel.testing.replies import Reply
from deepsentinel.testing.state import ServerState
from deepsentinel.testing.wire import SseEvent, anthropic_error, openai_error

_POLL = 0.02  # seconds between checks that a delayed answer's client is still there

# Which stream grammar an SSE body follows: chat/legacy completions, Anthropic messages, or Responses.
Dialect = Literal["openai", "anthropic", "responses"]


class Abort(Exception):
    """The connection is gone or must go: stop writing and close it."""


class ClientGone(Abort):
    """The client hung up while its answer was held back."""


class Responder(BaseHTTPRequestHandler):
    """Writes responses for one connection; the server object carries ``state`` (a :class:`ServerState`)."""

    _trickle = 0.0  # seconds between single bytes of the body being written (0: write at once)
    _compress: str | None = None  # the content coding the body goes in, whatever the client accepts
    _compressor: Any = None  # a streamed body's, while it is written

    @property
    def state(self) -> ServerState:
        return self.server.state  # type: ignore[attr-defined, no-any-return]

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _wait(self, seconds: float) -> None:
        """Sleep, but give up at once when the server stops (so shutdown never waits on a delay) or when the
        client hangs up (``ClientGone``: what a test of cancelling upstream calls wants to see)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if self.state.stopping.wait(min(left, _POLL)):
                raise Abort
            if self._client_gone():
                raise ClientGone

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):  # reset, or already closed
            return True

    def _send_if_fault(self, reply: Reply, anthropic: bool, prompt: str = "") -> bool:
        """Send ``reply``'s error or cut the connection; True if the request is answered so."""
        if not reply.is_error:
            return False
        self._wait(reply.delay_before)
        self._trickle, self._compress = reply.trickle, reply.compress
        if reply.error_body is not None:
            raw = reply.error_body
            data = raw if isinstance(raw, bytes) else raw.encode() if isinstance(raw, str) else dumps(raw)
            self._send_bytes(reply.status, data, "application/json", reply.headers)
            return True
        message = reply.error_message
        if reply.error_echoes_prompt:  # what some providers do: quote the offending input back
            message = f"{message or 'Invalid request'}: could not process the input {json.dumps(prompt)}"
        self._send_error(reply.status, anthropic, message, type_=reply.error_type, extra_headers=reply.headers)
        return True

    def _send_error(self, status: int, anthropic: bool, message: str | None, *, type_: str | None = None,
                    code: str | None = None, param: str | None = None,
                    extra_headers: Mapping[str, str] | None = None) -> None:
        request_id = f"req_fake{self.state.next_number():06d}"
        if anthropic:
            payload = anthropic_error(status, message=message, type_=type_, request_id=request_id)
        else:
            payload = openai_error(status, message=message, type_=type_, code=code or None, param=param)
        if code == "":  # OpenAI's "Invalid URL" error has a null code
            payload["error"]["code"] = None
        self._send_bytes(status, dumps(payload), "application/json", extra_headers or {})

    def _send_json(self, status: int, payload: Any, reply: Reply | None = None) -> None:
        if reply is not None:
            self._wait(reply.delay_before)
            self._trickle, self._compress = reply.trickle, reply.compress
            if reply.disconnect_after is not None:  # a JSON reply is cut before anything is written
                raise Abort
            if reply.malformed_after is not None:
                data = reply.malformed_data.encode() if reply.malformed_data else b'{"id": "broken", "choices": ['
                self._send_bytes(status, data, "application/json", reply.headers)
                return
        self._send_bytes(status, dumps(payload), "application/json", reply.headers if reply else {})

    def _send_bytes(self, status: int, data: bytes, content_type: str, extra_headers: Mapping[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if self._compress:
            compressor = _new_compressor(self._compress)
            data = data if compressor is None else compressor.compress(data) + compressor.flush()
            self.send_header("Content-Encoding", self._compress)
        self.send_header("Content-Length", str(len(data)))
        self._common_headers(extra_headers)
        if self._trickle > 0:
            self.end_headers()
            for i in range(len(data)):
                self._wait(self._trickle)
                self.wfile.write(data[i : i + 1])
            return
        # Headers and body in one write (into the stdlib's header buffer), one segment per response.
        self._headers_buffer.append(b"\r\n" + data)  # type: ignore[attr-defined]
        self.flush_headers()

    def _common_headers(self, extra_headers: Mapping[str, str]) -> None:
        number = f"req_fake{self.state.next_number():06d}"
        self.send_header("x-request-id", number)
        self.send_header("request-id", number)
        for name, value in extra_headers.items():
            self.send_header(name, value)

    def _send_sse(self, reply: Reply, events: Iterable[SseEvent], dialect: Dialect) -> None:
        """Stream ``events`` in chunked encoding, one write per event, applying the reply's faults."""
        self._wait(reply.delay_before)
        self._trickle, self._compress = reply.trickle, reply.compress
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        if self._compress:
            self.send_header("Content-Encoding", self._compress)
            self._compressor = _new_compressor(self._compress)
        self._common_headers(reply.headers)
        self.end_headers()
        try:
            self._write_events(reply, events, dialect)
        except (OSError, ClientGone):  # the client hung up before the end: what a test of an early ``break`` wants
            self.state.count_stream("abandoned")
            raise Abort from None
        self.state.count_stream("completed")

    def _write_events(self, reply: Reply, events: Iterable[SseEvent], dialect: Dialect) -> None:
        sent = 0
        for number, event in enumerate(events):
            if reply.disconnect_after is not None and sent >= reply.disconnect_after:
                self._cut()
            if event.is_delta and reply.malformed_after is not None and sent >= reply.malformed_after:
                self._write_chunk(_malformed(reply, dialect))
                break
            if event.is_delta and reply.error_after is not None and sent >= reply.error_after:
                self._write_chunk(_stream_error(reply, dialect, number))
                break
            if event.is_delta:
                if sent:
                    self._wait(reply.delay_between)
                sent += 1
            self._write_chunk(event.encode())
        self._write_chunk(b"")

    def _write_chunk(self, data: bytes) -> None:
        if self._compressor is not None:
            # Each event leaves at once (a sync flush); before the empty last chunk, the compressed stream ends.
            if data:
                data = self._compressor.compress(data) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
            else:
                tail, self._compressor = self._compressor.flush(), None
                if tail:
                    self._write_chunk(tail)
        if self._trickle > 0 and data:  # one byte per chunk, each after a pause
            for i in range(len(data)):
                self._wait(self._trickle)
                self.wfile.write(b"1\r\n%s\r\n" % data[i : i + 1])
            return
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _cut(self) -> None:
        """Close the socket abruptly: the chunked body never ends, so the client sees a broken stream."""
        self.connection.shutdown(socket.SHUT_RDWR)
        raise Abort


def _malformed(reply: Reply, dialect: Dialect) -> bytes:
    """The broken event: the reply's ``malformed_data`` as the data line, else a cut-off JSON object."""
    if dialect == "anthropic":
        data = reply.malformed_data or '{"type": "content_block_delta", "ind'
        return SseEvent(data, event="content_block_delta").encode()
    if dialect == "responses":
        data = reply.malformed_data or '{"type": "response.output_text.delta", "sequ'
        return SseEvent(data, event="response.output_text.delta").encode()
    return SseEvent(reply.malformed_data or '{"id": "chatcmpl-broken", "choices": [{"delta": ').encode()


def _stream_error(reply: Reply, dialect: Dialect, number: int) -> bytes:
    """The in-stream error event: an overload unless the reply names another error."""
    if dialect == "anthropic":
        payload = anthropic_error(529, message=reply.error_message, type_=reply.error_type)
        return SseEvent(dumps(payload).decode(), event="error").encode()
    if dialect == "responses":
        return responses_wire.stream_error(reply.error_message, reply.error_type, number).encode()
    payload = openai_error(500, message=reply.error_message, type_=reply.error_type)
    return SseEvent(dumps(payload).decode()).encode()


def _new_compressor(coding: str) -> Any:
    """A compressor for ``coding`` (gzip, or deflate as zlib wraps it); None for a coding sent as a name only."""
    if coding == "gzip":
        return zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    return zlib.compressobj() if coding == "deflate" else None


def dumps(payload: Any) -> bytes:
    """Compact JSON bytes."""
    return json.dumps(payload, separators=(",", ":")).encode()
