"""The HTTP side of the fake server: one handler per connection, routing, JSON and SSE writing, faults."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from deepsentinel.testing import anthropic_wire, openai_wire
from deepsentinel.testing.replies import Reply, estimate_tokens
from deepsentinel.testing.request_log import RecordedRequest
from deepsentinel.testing.state import ServerState
from deepsentinel.testing.wire import (
    CallFacts,
    SseEvent,
    all_text,
    anthropic_error,
    last_user_text,
    openai_error,
)


class _Abort(Exception):
    """The connection is gone or must go: stop writing and close it."""


class FakeLLMHandler(BaseHTTPRequestHandler):
    """Serves one connection; the server object carries ``state`` (a :class:`ServerState`)."""

    protocol_version = "HTTP/1.1"  # keep-alive, and chunked SSE bodies
    server_version = "DeepSentinelFakeLLM/1.0"
    timeout = 30.0  # an idle keep-alive connection is dropped after this many seconds

    def setup(self) -> None:
        super().setup()
        # Small SSE writes must leave at once; Nagle would add ~40 ms to latency figures.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def state(self) -> ServerState:
        return self.server.state  # type: ignore[attr-defined, no-any-return]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        """Silent: tests read ``server.requests`` instead."""

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's naming
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    # -- routing -------------------------------------------------------------------------------------

    def _serve(self) -> None:
        try:
            self._route()
        except _Abort:
            self.close_connection = True
        except OSError:  # the client went away mid-write
            self.close_connection = True

    def _route(self) -> None:
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        body = self._read_body()
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = None
        self.state.log.append(RecordedRequest(self.command, path, headers, parsed, body, split.query))
        anthropic = path.startswith("/v1/messages") or "anthropic-version" in headers
        if path in ("/", "/health"):
            self._send_json(200, {"status": "ok"})
            return
        if not self._authorized(headers, anthropic):
            return
        if body and parsed is None:
            self._send_error(400, anthropic, "We could not parse the JSON body of your request.")
            return
        routes: dict[tuple[str, str], Callable[[Any, bool], None]] = {
            ("POST", "/v1/chat/completions"): self._chat,
            ("POST", "/v1/embeddings"): self._embeddings,
            ("POST", "/v1/messages"): self._messages,
            ("POST", "/v1/messages/count_tokens"): self._count_tokens,
            ("GET", "/v1/models"): self._models,
        }
        route = routes.get((self.command, path))
        if route is not None:
            route(parsed if isinstance(parsed, dict) else {}, anthropic)
        elif self.command == "GET" and path.startswith("/v1/models/"):
            self._model(path.removeprefix("/v1/models/"), anthropic)
        elif anthropic:
            self._send_error(404, True, "Not Found")
        else:
            self._send_error(404, False, f"Invalid URL ({self.command} {path})", code="")

    def _authorized(self, headers: Mapping[str, str], anthropic: bool) -> bool:
        expected = self.state.api_key
        if expected is None:
            return True
        bearer = headers.get("authorization", "")
        offered = bearer.removeprefix("Bearer ").strip() if bearer.startswith("Bearer ") else None
        if anthropic and offered is None:
            offered = headers.get("x-api-key")
        if offered == expected:
            return True
        if anthropic:
            self._send_error(401, True, "invalid x-api-key")
        else:
            self._send_error(401, False, "Incorrect API key provided.")
        return False

    # -- endpoints -----------------------------------------------------------------------------------

    def _check_model(self, body: dict[str, Any], anthropic: bool) -> str | None:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            message = "model: Field required" if anthropic else "you must provide a model parameter"
            self._send_error(400, anthropic, message)
            return None
        if not self.state.is_known_model(model):
            if anthropic:
                self._send_error(404, True, f"model: {model}")
            else:
                message = f"The model `{model}` does not exist or you do not have access to it."
                self._send_error(404, False, message, code="model_not_found")
            return None
        return model

    def _facts(self, model: str, prompt_tokens: int) -> CallFacts:
        return CallFacts(model, prompt_tokens, self.state.next_number(), int(time.time()))

    def _chat(self, body: dict[str, Any], anthropic: bool) -> None:
        messages = body.get("messages")
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        reply = self.state.reply_for(last_user_text(messages), max_tokens)
        if self._send_if_fault(reply, False):
            return
        model = self._check_model(body, False)
        if model is None:
            return
        if not isinstance(messages, list) or not messages:
            self._send_error(400, False, "[] is too short - 'messages'", param="messages")
            return
        facts = self._facts(model, estimate_tokens(all_text(messages)))
        raw_n = body.get("n")
        n = raw_n if isinstance(raw_n, int) and raw_n > 0 else 1
        if body.get("stream") is True:
            options = body.get("stream_options") or {}
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            self._send_sse(reply, openai_wire.stream_events(reply, facts, n=n, include_usage=include_usage), False)
        else:
            self._send_json(200, openai_wire.chat_completion(reply, facts, n), reply)

    def _messages(self, body: dict[str, Any], anthropic: bool) -> None:
        messages = body.get("messages")
        reply = self.state.reply_for(last_user_text(messages), body.get("max_tokens"))
        if self._send_if_fault(reply, True):
            return
        for name in ("model", "max_tokens", "messages"):
            if name not in body:
                self._send_error(400, True, f"{name}: Field required")
                return
        model = self._check_model(body, True)
        if model is None:
            return
        facts = self._facts(model, estimate_tokens(all_text(messages, body.get("system"))))
        if body.get("stream") is True:
            self._send_sse(reply, anthropic_wire.stream_events(reply, facts), True)
        else:
            self._send_json(200, anthropic_wire.message(reply, facts), reply)

    def _count_tokens(self, body: dict[str, Any], anthropic: bool) -> None:
        if self._check_model(body, True) is not None:
            self._send_json(200, {"input_tokens": estimate_tokens(all_text(body.get("messages"), body.get("system")))})

    def _embeddings(self, body: dict[str, Any], anthropic: bool) -> None:
        raw = body.get("input")
        prompt = raw if isinstance(raw, str) else " ".join(x for x in raw if isinstance(x, str)) if isinstance(raw, list) else ""
        reply = self.state.reply_for(prompt)
        if self._send_if_fault(reply, False):
            return
        model = self._check_model(body, False)
        if model is None:
            return
        if raw is None or raw == "" or raw == []:
            self._send_error(400, False, "'input' is a required property", param="input")
            return
        self._send_json(200, openai_wire.embeddings(body, model), reply)

    def _models(self, body: dict[str, Any], anthropic: bool) -> None:
        reply = self.state.reply_for("")
        if self._send_if_fault(reply, anthropic):
            return
        wire = anthropic_wire if anthropic else openai_wire
        self._send_json(200, wire.model_list(self.state.listed_models()), reply)

    def _model(self, model: str, anthropic: bool) -> None:
        reply = self.state.reply_for("")
        if self._send_if_fault(reply, anthropic):
            return
        if self._check_model({"model": model}, anthropic) is not None:
            wire = anthropic_wire if anthropic else openai_wire
            self._send_json(200, wire.model_object(model), reply)

    # -- writing -------------------------------------------------------------------------------------

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
        """Sleep, but give up at once when the server stops (so shutdown never waits on a delay)."""
        if seconds > 0 and self.state.stopping.wait(seconds):
            raise _Abort

    def _send_if_fault(self, reply: Reply, anthropic: bool) -> bool:
        """Send ``reply``'s error or cut the connection; True if the request is answered so."""
        if reply.is_error:
            self._wait(reply.delay_before)
            if reply.error_body is not None:
                raw = reply.error_body
                data = raw if isinstance(raw, bytes) else raw.encode() if isinstance(raw, str) else _dumps(raw)
                self._send_bytes(reply.status, data, "application/json", reply.headers)
            else:
                self._send_error(reply.status, anthropic, reply.error_message, type_=reply.error_type,
                                 extra_headers=reply.headers)
            return True
        return False

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
        self._send_bytes(status, _dumps(payload), "application/json", extra_headers or {})

    def _send_json(self, status: int, payload: Any, reply: Reply | None = None) -> None:
        if reply is not None:
            self._wait(reply.delay_before)
            if reply.disconnect_after is not None:  # a JSON reply is cut before anything is written
                raise _Abort
            if reply.malformed_after is not None:
                self._send_bytes(status, b'{"id": "broken", "choices": [', "application/json", reply.headers)
                return
        self._send_bytes(status, _dumps(payload), "application/json", reply.headers if reply else {})

    def _send_bytes(self, status: int, data: bytes, content_type: str, extra_headers: Mapping[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self._common_headers(extra_headers)
        # Headers and body in one write (into the stdlib's header buffer), one segment per response.
        self._headers_buffer.append(b"\r\n" + data)  # type: ignore[attr-defined]
        self.flush_headers()

    def _common_headers(self, extra_headers: Mapping[str, str]) -> None:
        number = f"req_fake{self.state.next_number():06d}"
        self.send_header("x-request-id", number)
        self.send_header("request-id", number)
        for name, value in extra_headers.items():
            self.send_header(name, value)

    def _send_sse(self, reply: Reply, events: Iterable[SseEvent], anthropic: bool) -> None:
        """Stream ``events`` in chunked encoding, one write per event, applying the reply's faults."""
        self._wait(reply.delay_before)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self._common_headers(reply.headers)
        self.end_headers()
        try:
            self._write_events(reply, events, anthropic)
        except OSError:  # the client hung up before the end: what a test of an early ``break`` wants to see
            self.state.count_stream("abandoned")
            raise _Abort from None
        self.state.count_stream("completed")

    def _write_events(self, reply: Reply, events: Iterable[SseEvent], anthropic: bool) -> None:
        sent = 0
        for event in events:
            if reply.disconnect_after is not None and sent >= reply.disconnect_after:
                self._cut()
            if event.is_delta and reply.malformed_after is not None and sent >= reply.malformed_after:
                self._write_chunk(_malformed(anthropic))
                break
            if event.is_delta and reply.error_after is not None and sent >= reply.error_after:
                self._write_chunk(_stream_error(reply, anthropic))
                break
            if event.is_delta:
                if sent:
                    self._wait(reply.delay_between)
                sent += 1
            self._write_chunk(event.encode())
        self._write_chunk(b"")

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _cut(self) -> None:
        """Close the socket abruptly: the chunked body never ends, so the client sees a broken stream."""
        self.connection.shutdown(socket.SHUT_RDWR)
        raise _Abort


def _malformed(anthropic: bool) -> bytes:
    if anthropic:
        return b'event: content_block_delta\ndata: {"type": "content_block_delta", "ind\n\n'
    return b'data: {"id": "chatcmpl-broken", "choices": [{"delta": \n\n'


def _stream_error(reply: Reply, anthropic: bool) -> bytes:
    """The in-stream error event: an overload unless the reply names another error."""
    if anthropic:
        payload = anthropic_error(529, message=reply.error_message, type_=reply.error_type)
        return SseEvent(_dumps(payload).decode(), event="error").encode()
    payload = openai_error(500, message=reply.error_message, type_=reply.error_type)
    return SseEvent(_dumps(payload).decode()).encode()


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()
