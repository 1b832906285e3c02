"""The gateway as a pure ASGI app: authenticate, limit, pass through the wire guard, relay the answer.

The guard is the SDK's (``AsyncSentinelTransport`` under ``Upstream``); this module only moves bytes and turns
the guard's exceptions into answers in the client's wire format:

- a request the guard blocks: a 400 ``compliance_violation`` error naming the violation types, nothing sent;
- an answer cut before its first byte left: the same 400; cut mid-stream: the API's error event, then the end;
- any other failure of the guard: refused (fail closed), 5xx or an error event.

Each client key has a guard of its own (``upstream.py``: its placeholders' numbering is its own) and scans under a
scan-cache partition of its own (``detection/cache.py``): the engine and its cache are shared, but no client's text
is ever a cache hit for another, whose call would then run faster.

Relaying (``relay.py``) reads the upstream only as fast as the client takes the answer, within a small window;
a client that disconnects cancels the upstream call.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import httpx2

from deepsentinel.detection.cache import cache_partition
from deepsentinel.gateway.auth import Authenticator, presented_key
from deepsentinel.gateway.keys import ClientKey
from deepsentinel.gateway.ratelimit import Limiter, MemoryLimiter, RedisLimiter
from deepsentinel.gateway.readiness import Probe, Readiness, audit_probe
from deepsentinel.gateway.relay import refuse, relay
from deepsentinel.gateway.replies import Receive, Scope, Send, codec_of, send_error, send_json
from deepsentinel.gateway.upstream import Upstream
from deepsentinel.policy.policy import CompliancePolicy
from deepsentinel.policy.presets import preset
from deepsentinel.sentinel import Sentinel
from deepsentinel.wire.codec import Codec
from deepsentinel.wire.inline_files import form_field

log = logging.getLogger("deepsentinel.gateway")

ROUTES = {
    ("POST", "/v1/chat/completions"), ("POST", "/v1/responses"), ("POST", "/v1/embeddings"), ("GET", "/v1/models"),
    ("POST", "/v1/messages"), ("POST", "/v1/messages/count_tokens"),
    ("POST", "/v1/audio/transcriptions"), ("POST", "/v1/audio/translations"),  # a form in, a transcript out
}
_NO_AUTH = ClientKey("anonymous", "")


@dataclass
class GatewaySettings:
    """What the gateway adds to the SDK's configuration. ``rate_limit``: default requests per minute per key
    (0: none); ``max_body``: the largest request body accepted, in bytes; ``probe_timeout``: seconds each
    ``/readyz`` probe may take."""

    auth: Authenticator | None = None  # None: no authentication (--no-auth, loopback only)
    limiter: Limiter = field(default_factory=MemoryLimiter)
    rate_limit: int = 0
    max_body: int = 32 * 1024 * 1024
    probe_timeout: float = 2.0


class Gateway:
    """``Gateway(sentinel, settings)`` is an ASGI application (HTTP and lifespan)."""

    def __init__(self, sentinel: Sentinel, settings: GatewaySettings) -> None:
        self.sentinel = sentinel
        self.settings = settings
        self.upstream = Upstream(sentinel, self._twin)
        url = sentinel.config.audit_url.get_secret_value() if sentinel.config.audit_url else None
        probes: dict[str, Probe] = audit_probe(url, sentinel.store is not None, settings.probe_timeout)
        if isinstance(settings.limiter, RedisLimiter):
            probes["redis"] = settings.limiter.ping
        self.readiness = Readiness(probes, settings.probe_timeout)
        # Several workers (serve() sets it): /metrics sums every worker's files, not just this process.
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

    def _twin(self, names: tuple[str, ...]) -> Sentinel:
        own = {p.name: p for p in self.sentinel.policies}
        policies: list[CompliancePolicy] = [own[n] if n in own else preset(n) for n in names]
        return self.sentinel.with_policies(policies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        if method == "GET" and path == "/healthz":
            await send_json(send, 200, b'{"status":"ok"}')
            return
        if method == "GET" and path == "/readyz":
            await send_json(send, *await self.readiness.answer())
            return
        if method == "GET" and path == "/metrics":
            await self._metrics(send)
            return
        codec = codec_of(path)
        if (method, path) not in ROUTES:
            await send_error(send, codec, 404, f"Unknown endpoint {method} {path}.")
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        key = await self._authenticate(headers, send, codec)
        if key is None:
            return
        limit = key.rate_limit if key.rate_limit is not None else self.settings.rate_limit
        if limit > 0:
            verdict = await self.settings.limiter.hit(key.name, limit)
            if not verdict.allowed:
                await send_error(send, codec, 429, f"Rate limit of {limit} requests per minute reached.",
                                 code="rate_limit_exceeded", headers=[(b"retry-after", str(verdict.retry_after).encode())])
                return
        body = await self._read_body(receive)
        if body is None:
            await send_error(send, codec, 413, "The request body is too large.")
            return
        if key.models and body:
            model = _model_of(body)
            if model is not None and not key.allows_model(model):
                await send_error(send, codec, 403, "This key may not use the requested model.", code="model_not_allowed")
                return
        # The key's digest names its guard and its scan-cache partition: unique per credential, where a name may be
        # given again (a revoked key's name reissued, an environment key and a stored one).
        request = self.upstream.build(method, path, scope.get("query_string", b""), headers, body, key.policies,
                                      key.digest)
        only = key.models if path == "/v1/models" else ()
        with cache_partition(key.digest or None):
            await self._exchange(request, codec, receive, send, only)

    async def _authenticate(self, headers: dict[str, str], send: Send, codec: Codec) -> ClientKey | None:
        auth = self.settings.auth
        if auth is None:
            return _NO_AUTH
        presented = presented_key(headers)
        found = await auth.lookup(presented) if presented else None
        if found is None:
            message = "Invalid API key." if presented else "Missing API key: send Authorization: Bearer KEY or x-api-key."
            await send_error(send, codec, 401, message, code="invalid_api_key")
        return found

    async def _read_body(self, receive: Receive) -> bytes | None:
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b""
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.settings.max_body:
                return None
            parts.append(chunk)
            if not message.get("more_body", False):
                return b"".join(parts)

    async def _exchange(self, request: httpx2.Request, codec: Codec, receive: Receive, send: Send,
                        only: tuple[str, ...] = ()) -> None:
        # The call runs in this task; a second one waits for the client to leave and then cancels it, while the
        # upstream is still working on the answer (a non-streamed one can take a minute), while an error is sent
        # and while the answer is relayed. One task per call, not two and a wait. The upstream body is closed
        # after the watch stops, so a hang-up then cannot cut its release short.
        watch = _Watch(receive)
        response: httpx2.Response | None = None
        try:
            try:
                response = await self.upstream.send(request)
            except Exception as exc:
                await refuse(send, codec, exc)
                return
            await relay(response, codec, send, only)
        except asyncio.CancelledError:  # the client left (absorbed), or the server's own cancellation
            if not watch.cancelled_us():
                raise
        finally:
            watch.stop()
            if response is not None:
                await response.aclose()

    async def _metrics(self, send: Send) -> None:
        # This worker's calls that have ended are counted (on its audit writer, within milliseconds); other
        # workers' (multiprocess mode) are counted when their writers get to them.
        await self.sentinel.asettle()
        body = multiprocess_metrics() if self.multiprocess else self.sentinel.metrics.to_prometheus()
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"text/plain; version=0.0.4; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def aclose(self) -> None:
        """Close the upstream pool, the readiness probes, the limiter and the audit store (flushing what it holds)."""
        await self.upstream.aclose()
        await self.readiness.aclose()
        await self.settings.limiter.close()
        await asyncio.to_thread(self.sentinel.close)


class _Watch:
    """Cancels the task that made it when the client disconnects, until ``stop()``."""

    def __init__(self, receive: Receive) -> None:
        self.relaying: asyncio.Task[Any] | None = asyncio.current_task()
        self.fired = False
        self.task = asyncio.ensure_future(self._wait(receive))

    async def _wait(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        if self.relaying is not None:  # still relaying: stop() clears it, with no await between the two
            self.fired = True
            self.relaying.cancel()

    def cancelled_us(self) -> bool:
        """Whether the cancellation being handled is this watch's (then it is absorbed), not the server's."""
        if not self.fired or self.relaying is None:
            return False
        if sys.version_info >= (3, 11):
            self.relaying.uncancel()
        return True

    def stop(self) -> None:
        self.relaying = None
        self.task.cancel()  # not awaited: a cancelled task leaves nothing behind to collect


def multiprocess_metrics() -> bytes:
    """The Prometheus text summed over every process writing to ``PROMETHEUS_MULTIPROC_DIR``."""
    from prometheus_client import CollectorRegistry, generate_latest, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # prometheus_client leaves it untyped
    return generate_latest(registry)


def _model_of(body: bytes) -> str | None:
    """The model a request names: a JSON body's ``model``, or a form's (a transcription's) ``model`` field."""
    try:
        model = json.loads(body).get("model")
    except (ValueError, AttributeError, RecursionError):
        return form_field(body, "model")
    return model if isinstance(model, str) else None


__all__ = ["ROUTES", "Gateway", "GatewaySettings"]
