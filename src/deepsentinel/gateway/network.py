"""The gateway's sockets to the upstreams: an httpcore network backend on asyncio's own transports.

httpcore's default backend goes through anyio, which opens a cancel scope (and asks sniffio which library
runs) for every read and write; on the gateway's hot path that was about a fifth of its CPU time. The gateway always runs on an asyncio loop (uvicorn's, uvloop when installed), so this backend talks
to the loop directly:

- **reads** come from a protocol buffer; reading pauses while more than ``READ_LIMIT`` bytes wait unread, so a
  slow client, which slows how fast the relay reads, makes the upstream's sender wait (TCP backpressure)
  instead of filling the gateway's memory;
- **writes** are held until the next read (or ``WRITE_LIMIT`` bytes): HTTP/1.1 writes a request's head and
  body and then reads, so a request leaves in one system call, and the upstream sees it in one packet;
- **timeouts** are timers on the loop, raising httpcore's own exceptions (which httpx2 maps to its own).

TLS (``start_tls``) is the loop's. The backend is what httpcore documents as its extension point
(``network_backend=``); ``asyncio_transport`` puts it under an ``httpx2.AsyncHTTPTransport``.
"""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore2
import httpx2
from httpcore2 import AsyncNetworkBackend, AsyncNetworkStream

#: Unread bytes after which the socket is no longer read until the relay catches up.
READ_LIMIT = 256 * 1024
#: Written bytes held back at most before they are sent without waiting for a read.
WRITE_LIMIT = 64 * 1024

SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]


class _Protocol(asyncio.Protocol):
    """Buffers what arrives; wakes the one reader waiting; tracks write flow control."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self.closed = False
        self.paused_reading = False
        self.waiter: asyncio.Future[None] | None = None
        self.drain: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > READ_LIMIT and not self.paused_reading and self.transport is not None:
            self.paused_reading = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # close the transport: HTTP/1.1 has no use for a half-open connection

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.eof = True
        self.error = exc
        self._wake()
        if self.drain is not None and not self.drain.done():
            self.drain.set_result(None)

    def pause_writing(self) -> None:
        if self.drain is None or self.drain.done():  # (a timed-out wait leaves it done, with its error)
            self.drain = self.loop.create_future()

    def resume_writing(self) -> None:
        if self.drain is not None and not self.drain.done():
            self.drain.set_result(None)

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


async def _wait(future: asyncio.Future[None], timeout: float | None, error: type[Exception]) -> None:
    """Wait for ``future``, raising ``error`` after ``timeout`` seconds (a loop timer: no task, no scope)."""
    if timeout is None:
        await future
        return
    handle = future.get_loop().call_later(timeout, _expire, future, error)
    try:
        await future
    finally:
        handle.cancel()


def _expire(future: asyncio.Future[None], error: type[Exception]) -> None:
    if not future.done():
        future.set_exception(error("timed out"))


class AsyncioStream(AsyncNetworkStream):
    """One connection: ``read``/``write``/``aclose`` as httpcore expects them."""

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self._pending: list[bytes] = []
        self._pending_size = 0

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        proto = self._protocol
        if self._pending:
            await self._flush(timeout)
        while not proto.buffer:
            if proto.error is not None:
                raise httpcore2.ReadError(str(proto.error) or type(proto.error).__name__)
            if proto.eof:
                return b""
            proto.waiter = proto.loop.create_future()
            try:
                await _wait(proto.waiter, timeout, httpcore2.ReadTimeout)
            finally:
                proto.waiter = None
        data = bytes(proto.buffer[:max_bytes])
        del proto.buffer[:max_bytes]
        if proto.paused_reading and len(proto.buffer) <= READ_LIMIT // 2 and not proto.closed:
            proto.paused_reading = False
            self._transport.resume_reading()
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        if self._protocol.closed:
            raise httpcore2.WriteError("the connection is closed")
        self._pending.append(buffer)
        self._pending_size += len(buffer)
        if self._pending_size >= WRITE_LIMIT:
            await self._flush(timeout)

    async def _flush(self, timeout: float | None) -> None:
        data = b"".join(self._pending)
        self._pending.clear()
        self._pending_size = 0
        if self._protocol.closed:
            raise httpcore2.WriteError("the connection is closed")
        self._transport.write(data)
        drain = self._protocol.drain
        if drain is not None and not drain.done():  # the socket is full: wait until it takes more
            await _wait(drain, timeout, httpcore2.WriteTimeout)

    async def aclose(self) -> None:
        self._pending.clear()
        self._transport.close()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> AsyncNetworkStream:
        loop = self._protocol.loop
        try:
            transport = await asyncio.wait_for(
                loop.start_tls(self._transport, self._protocol, ssl_context, server_hostname=server_hostname),
                timeout)
        except asyncio.TimeoutError as exc:
            self._transport.close()
            raise httpcore2.ConnectTimeout("TLS handshake timed out") from exc
        except (OSError, ssl.SSLError) as exc:
            self._transport.close()
            raise httpcore2.ConnectError(str(exc)) from exc
        assert transport is not None  # start_tls returns None only for a closed transport, which raised above
        self._protocol.transport = transport
        return AsyncioStream(transport, self._protocol)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # a pooled connection the server closed (or wrote to) must not be reused
            return bool(self._protocol.buffer) or self._protocol.eof or self._socket_readable()
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info in ("socket", "ssl_object"):
            return self._transport.get_extra_info(info)
        return None


    def _socket_readable(self) -> bool:
        # The loop may not have run since the server's FIN arrived: ask the socket itself, as httpcore does.
        sock = self._transport.get_extra_info("socket")
        if sock is None or sock.fileno() < 0:
            return True
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN)
        return bool(poller.poll(0))


class AsyncioBackend(AsyncNetworkBackend):
    """Opens ``AsyncioStream`` connections on the running loop."""

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable[SocketOption] | None = None) -> AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = (local_address, 0) if local_address else None
        return await self._connect(
            loop.create_connection(lambda: _Protocol(loop), host, port, local_addr=local), timeout, socket_options)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[SocketOption] | None = None) -> AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        return await self._connect(loop.create_unix_connection(lambda: _Protocol(loop), path), timeout, socket_options)

    async def _connect(self, opening: Any, timeout: float | None,
                       socket_options: Iterable[SocketOption] | None) -> AsyncNetworkStream:
        try:
            transport, protocol = await asyncio.wait_for(opening, timeout)
        except asyncio.TimeoutError as exc:
            raise httpcore2.ConnectTimeout("connection timed out") from exc
        except OSError as exc:
            raise httpcore2.ConnectError(str(exc)) from exc
        sock: socket.socket | None = transport.get_extra_info("socket")
        if sock is not None:
            for option in socket_options or ():
                sock.setsockopt(*option)
        return AsyncioStream(transport, protocol)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def asyncio_transport(limits: httpx2.Limits, verify: ssl.SSLContext | bool = True) -> httpx2.AsyncHTTPTransport:
    """An ``httpx2.AsyncHTTPTransport`` (HTTP/1.1, TLS verified as httpx2 does) whose pool uses ``AsyncioBackend``."""
    transport = httpx2.AsyncHTTPTransport(limits=limits, verify=verify)
    # httpx2 builds its pool without a way to pass a backend: rebuild it with the same settings and ours.
    # tests/gateway/test_gateway_network.py checks that this pool is the one in use.
    old = transport._pool
    transport._pool = httpcore2.AsyncConnectionPool(
        ssl_context=old._ssl_context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=AsyncioBackend(),
    )
    return transport


__all__ = ["READ_LIMIT", "WRITE_LIMIT", "AsyncioBackend", "AsyncioStream", "asyncio_transport"]
