"""The gateway's upstream transport (httpx2 over aiohttp): TLS, keep-alive reuse, a server that closed an idle
connection, timeouts and broken answers as httpx2's errors, the request as sent, against real sockets on
loopback."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest

from deepsentinel.gateway.network import AiohttpTransport

LIMITS = httpx2.Limits(max_connections=4, max_keepalive_connections=4, keepalive_expiry=30)


class TinyServer:
    """Answers each request on a connection with ``OK <n>``; counts connections and keeps each request head.
    ``close_after``: requests a connection serves before the server closes it (without saying so); ``silent``:
    never answers; ``reply``: the raw bytes sent instead of the answer (then the connection is closed)."""

    def __init__(self, tls: ssl.SSLContext | None = None, close_after: int = 0, silent: bool = False,
                 reply: bytes | None = None) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = int(self.listener.getsockname()[1])
        self.tls, self.close_after, self.silent, self.reply = tls, close_after, silent, reply
        self.heads: list[bytes] = []
        self.connections = 0
        self.closed = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        try:
            conn = self.tls.wrap_socket(raw, server_side=True) if self.tls else raw
            with conn:
                served, data = 0, b""
                while True:
                    while b"\r\n\r\n" not in data:
                        more = conn.recv(65536)
                        if not more:
                            return
                        data += more
                    head, data = data.split(b"\r\n\r\n", 1)
                    self.heads.append(head)
                    if self.reply is not None:
                        conn.sendall(self.reply)
                        return
                    if self.silent:
                        conn.recv(65536)  # hold the connection open, answer nothing
                        return
                    served += 1
                    body = b"OK %d" % served
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
                    if self.close_after and served >= self.close_after:
                        return
        except (OSError, ssl.SSLError):
            return
        finally:
            self.closed += 1

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture
def servers() -> Iterator[list[TinyServer]]:
    started: list[TinyServer] = []
    yield started
    for s in started:
        s.close()


def _tls_server(certificate: tuple[Path, Path], servers: list[TinyServer]) -> TinyServer:
    cert, key = certificate
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    server = TinyServer(tls=server_side)
    servers.append(server)
    return server


async def test_tls_and_keep_alive(certificate: tuple[Path, Path], servers: list[TinyServer]) -> None:
    """HTTPS, verified against the server's certificate; the connection is reused."""
    cert, _ = certificate
    server = _tls_server(certificate, servers)
    async with httpx2.AsyncClient(transport=AiohttpTransport(LIMITS, verify=ssl.create_default_context(cafile=str(cert)))) as http:
        first = await http.get(f"https://localhost:{server.port}/a")
        second = await http.get(f"https://localhost:{server.port}/b")
    assert (first.text, second.text) == ("OK 1", "OK 2")
    assert server.connections == 1


async def test_an_untrusted_certificate_is_refused(certificate: tuple[Path, Path], servers: list[TinyServer]) -> None:
    """Verification is on: a self-signed server is a connection error, not a silent success."""
    server = _tls_server(certificate, servers)
    async with httpx2.AsyncClient(transport=AiohttpTransport(LIMITS)) as http:
        with pytest.raises(httpx2.ConnectError):
            await http.get(f"https://localhost:{server.port}/")


async def test_a_connection_the_server_closed_is_not_reused(servers: list[TinyServer]) -> None:
    """The server closes each connection after one answer: the next request opens a new one, no error, even
    for a POST (which aiohttp alone would not retry) sent before the loop saw the server's FIN."""
    server = TinyServer(close_after=1)
    servers.append(server)
    async with httpx2.AsyncClient(transport=AiohttpTransport(LIMITS)) as http:
        texts = []
        for _ in range(3):
            texts.append((await http.post(f"http://127.0.0.1:{server.port}/", content=b"{}")).text)
            await _until(lambda: server.closed >= len(texts))  # its FIN is sent; our loop may not have seen it
    assert texts == ["OK 1"] * 3
    assert server.connections == 3


async def test_a_read_timeout_is_httpx2s(servers: list[TinyServer]) -> None:
    """A server that never answers: httpx2.ReadTimeout after the read timeout."""
    server = TinyServer(silent=True)
    servers.append(server)
    async with httpx2.AsyncClient(transport=AiohttpTransport(LIMITS), timeout=httpx2.Timeout(5, read=0.3)) as http:
        with pytest.raises(httpx2.ReadTimeout):
            await http.get(f"http://127.0.0.1:{server.port}/")


async def test_a_refused_connection_is_a_connect_error() -> None:
    """Nothing listens: httpx2.ConnectError (the gateway answers 502), never aiohttp's own error type."""
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    async with httpx2.AsyncClient(transport=AiohttpTransport(LIMITS)) as http:
        with pytest.raises(httpx2.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/")


async def test_an_answer_cut_short_is_a_remote_protocol_error(servers: list[TinyServer]) -> None:
    """A body shorter than its content-length, then the connection closed: httpx2.RemoteProtocolError."""
    server = TinyServer(reply=b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten b")
    servers.append(server)
    async with httpx2.AsyncClient(transport=AiohttpTransport(LIMITS)) as http:
        with pytest.raises(httpx2.RemoteProtocolError):
            await http.get(f"http://127.0.0.1:{server.port}/")


async def test_the_request_and_the_answer_pass_as_they_are(servers: list[TinyServer]) -> None:
    """The transport adds no User-Agent/Accept/Accept-Encoding of its own and does not decode the answer: an
    encoded body reaches the guard as the upstream sent it, with its headers."""
    server = TinyServer(reply=b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: 4\r\n\r\n\x1f\x8b\x08\x00")
    servers.append(server)
    transport = AiohttpTransport(LIMITS)
    request = httpx2.Request("POST", f"http://127.0.0.1:{server.port}/v1/chat/completions",
                             headers={"content-type": "application/json", "authorization": "Bearer sk-test"},
                             content=b'{"model": "m"}', extensions={"timeout": {"connect": 5, "read": 5, "pool": 5}})
    try:
        response = await transport.handle_async_request(request)
        body = b"".join([chunk async for chunk in response.stream])  # type: ignore[union-attr]
        await response.aclose()
    finally:
        await transport.aclose()
    assert (response.status_code, response.headers["content-encoding"], body) == (200, "gzip", b"\x1f\x8b\x08\x00")
    lines = server.heads[0].split(b"\r\n")
    assert lines[0] == b"POST /v1/chat/completions HTTP/1.1"
    names = sorted(line.split(b":")[0].lower() for line in lines[1:])
    assert names == [b"authorization", b"content-length", b"content-type", b"host"]


async def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)  # blocking on purpose: the loop must not run and read the FIN before the next request
