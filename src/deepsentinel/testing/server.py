"""``FakeLLMServer``: a real HTTP server on loopback that speaks the OpenAI and Anthropic APIs.

    with FakeLLMServer() as server:
        client = openai.OpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0)
        server.enqueue(Reply(chunks=["4111 1111", " 1111 1111"]))
        client.chat.completions.create(model="gpt-4o-mini", messages=[...], stream=True)
        assert server.request_count("/v1/chat/completions") == 1
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from collections.abc import Iterable
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any

from deepsentinel.testing.handler import FakeLLMHandler
from deepsentinel.testing.replies import Reply, Rule
from deepsentinel.testing.request_log import RecordedRequest
from deepsentinel.testing.state import ServerState

_JOIN_SECONDS = 2.0


class _HTTPServer(ThreadingHTTPServer):
    """A threading server that knows its open connections, so stopping can close them."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: ServerState) -> None:
        self.state = state
        self._lock = threading.Lock()
        self._open: dict[socket.socket, threading.Thread] = {}
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, FakeLLMHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), daemon=True,
            name="fake-llm-connection",
        )
        with self._lock:
            self._open[request] = thread
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._open.pop(request, None)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet for a client that hangs up (or a stop that cuts it off); a real bug still prints."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Shut down every open connection, then wait briefly for its thread to finish."""
        with self._lock:
            open_now = list(self._open.items())
        for sock, _ in open_now:
            with contextlib.suppress(OSError):  # already closed by its client
                sock.shutdown(socket.SHUT_RDWR)
        for _, thread in open_now:
            thread.join(_JOIN_SECONDS)


class FakeLLMServer:
    """A fake OpenAI + Anthropic server on ``host`` (loopback by default) and an ephemeral port.

    Arguments: ``api_key`` (None accepts any key; else other keys get a 401), ``models`` (names
    known besides any ``gpt-*``, ``o1*``/``o3*``/``o4*``, ``claude-*``, ``text-embedding-*``),
    ``default_reply`` (answers unscripted requests instead of the canned text).
    Scripting: :meth:`enqueue`, :meth:`add_rule`, :meth:`reset`. Log: :attr:`requests`.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        models: Iterable[str] = (),
        default_reply: Reply | None = None,
    ) -> None:
        self._address = (host, port)
        self._state = ServerState(api_key=api_key, extra_models=tuple(models), default_reply=default_reply)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lifecycle = threading.Lock()
        self._stopped = False

    def __repr__(self) -> str:
        where = self.url if self._httpd is not None else "not started"
        return f"FakeLLMServer({where})"

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> FakeLLMServer:
        """Bind and serve in a background thread; a second call does nothing. Returns the server."""
        with self._lifecycle:
            if self._stopped:
                raise RuntimeError("FakeLLMServer cannot be restarted; create a new one")
            if self._httpd is not None:
                return self
            self._httpd = _HTTPServer(self._address, self._state)
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True,
                name="fake-llm-server",
            )
            self._thread.start()
            return self

    def stop(self) -> None:
        """Stop serving and close every connection, even idle keep-alive ones; idempotent."""
        with self._lifecycle:
            if self._stopped:
                return
            self._stopped = True
            httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._state.stopping.set()  # wakes handlers sleeping on a delay
        httpd.shutdown()
        thread.join(_JOIN_SECONDS)
        httpd.server_close()
        httpd.close_connections()

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        """The bound host."""
        return self._address[0]

    @property
    def port(self) -> int:
        """The bound port (known once started)."""
        if self._httpd is None:
            raise RuntimeError("FakeLLMServer is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://HOST:PORT``, no trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """The ``base_url`` for the OpenAI SDK (``url + "/v1"``)."""
        return self.url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        """The ``base_url`` for the Anthropic SDK (it appends ``/v1/messages`` itself)."""
        return self.url

    # -- scripting -----------------------------------------------------------------------------------

    def enqueue(self, *replies: Reply) -> None:
        """Queue replies: each of the next API requests (any endpoint) takes one, first in, first out."""
        self._state.book.enqueue(*replies)

    def add_rule(self, contains: str, reply: Reply, *, once: bool = False) -> None:
        """Answer ``reply`` whenever the last user message contains ``contains`` (after the queue is empty)."""
        self._state.book.add_rule(Rule(contains=contains, reply=reply, once=once))

    def reset(self) -> None:
        """Forget queued replies, rules, recorded requests and stream counts."""
        self._state.book.reset()
        self._state.log.clear()
        self._state.reset_stream_counts()

    @property
    def pending_replies(self) -> int:
        """How many queued replies no request has taken yet."""
        return self._state.book.pending

    # -- request log ---------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a copy)."""
        return self._state.log.snapshot()

    @property
    def last_request(self) -> RecordedRequest:
        """The most recent request; IndexError if none."""
        return self._state.log.snapshot()[-1]

    @property
    def streams_completed(self) -> int:
        """SSE responses the server wrote to their end (faults that end a stream early count too)."""
        return self._state.stream_count("completed")

    @property
    def requests_abandoned(self) -> int:
        """Requests whose client hung up while the answer was still held back (``delay_before``, ``trickle``):
        how a test sees that a proxy or client cancelled its upstream call."""
        return self._state.requests_abandoned

    @property
    def streams_abandoned(self) -> int:
        """SSE responses whose client hung up first. Seen only when a write fails, so a test of an
        early ``break`` should give the reply enough deltas and a ``delay_between`` (e.g. 20 x 0.01 s)
        and wait a moment for the count."""
        return self._state.stream_count("abandoned")

    def request_count(self, path: str | None = None) -> int:
        """How many requests were received, to ``path`` (e.g. ``"/v1/chat/completions"``) if given."""
        return self._state.log.count(path)
