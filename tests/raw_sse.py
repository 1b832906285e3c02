"""A loopback server that answers each POST with a scripted server-sent event stream, byte for byte.

For what the fake LLM server does not do on purpose: send part of a stream, then wait until a test says go
(to see what the caller got meanwhile), or end a stream in a way no provider should.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def sse(name: str, data: Any) -> bytes:
    """One event (``data`` a string as it is, else JSON), with its blank line."""
    line = f"event: {name}\n" if name else ""
    return f"{line}data: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode()


#: Seconds between the parts of a paced body: long enough for each to be read on its own.
PACE = 0.05


class RawSSEServer:
    """Answers the n-th POST with ``bodies[n]``, then closes the connection (the body is delimited by the close).
    A body is ``(first, rest)``: ``first`` at once, ``rest`` once ``go`` is set; or a list of parts, each in its
    own write, ``PACE`` seconds apart. ``url`` ends in ``/v1``; every answer has ``content_type``. ``chunked``: the
body goes in chunked encoding and ends properly, else the close ends it (and a break looks the same)."""

    def __init__(self, *bodies: tuple[bytes, bytes] | list[bytes], content_type: str = "text/event-stream",
                 chunked: bool = False) -> None:
        self.go = threading.Event()
        self.rest_sent = threading.Event()  # set when a body's ``rest`` goes out
        self.requests = 0
        script = deque(bodies)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("content-length", 0)))
                server.requests += 1
                body = script.popleft()
                self.send_response(200)
                self.send_header("content-type", content_type)
                self.send_header("connection", "close")
                if chunked:
                    self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                try:
                    if isinstance(body, list):
                        for part in body:
                            self._write(part)
                            time.sleep(PACE)
                        return
                    first, rest = body
                    self._write(first)
                    if rest:
                        server.go.wait(10)
                        server.rest_sent.set()
                        self._write(rest)
                    if chunked:
                        self.wfile.write(b"0\r\n\r\n")  # the body's proper end
                except OSError:
                    pass  # the client left

            def _write(self, part: bytes) -> None:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part) if chunked and part else part)
                self.wfile.flush()

            def log_message(self, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/v1"
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.go.set()
        self._http.shutdown()
        self._http.server_close()
