"""``deepsentinel serve`` as a real process: SIGTERM drains in-flight streams, and two gateways append to one
PostgreSQL audit trail that verifies."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest

from deepsentinel.audit import AuditLog
from deepsentinel.audit.pg_store import PostgresAuditStore
from deepsentinel.testing import FakeLLMServer, Reply
from tests import audit_pg
from tests.cli_runner import run_cli
from tests.gateway.conftest import CLIENT_KEY, gateway_env

pg_db, pg_url = audit_pg.pg_db, audit_pg.pg_url  # fixtures: a fresh database per test
AUDIT_KEY = "gateway-audit-key-" + "a" * 14
BODY = {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "Tell a story"}]}


class GatewayProcess:
    """``python -m deepsentinel serve`` on a free loopback port."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        full = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_", "DEEPSENTINEL_"))}
        full.update(env)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "deepsentinel", "serve", "--port", str(self.port), "--log-level", "warning", *args],
            env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx2.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gateway did not start: {self.proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            time.sleep(0.1)

    def stop(self) -> int:
        """SIGTERM, then the exit status: uvicorn re-raises the signal after its graceful shutdown, so a
        drained exit reads as -SIGTERM (a crash would be 1)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        finally:
            for pipe in (self.proc.stdout, self.proc.stderr):
                if pipe is not None:
                    pipe.close()


@pytest.fixture
def processes() -> Iterator[list[GatewayProcess]]:
    started: list[GatewayProcess] = []
    yield started
    for p in started:
        try:
            p.stop()  # SIGTERM: uvicorn's supervisor stops its workers (a SIGKILL left them running, orphaned)
        except subprocess.TimeoutExpired:
            p.proc.kill()
            p.proc.wait()


def _stream(url: str, first: threading.Event, out: list[bytes]) -> None:
    try:
        with httpx2.Client(timeout=30) as http, http.stream(
                "POST", url + "/v1/chat/completions", json=BODY, headers={"authorization": f"Bearer {CLIENT_KEY}"}) as r:
            for chunk in r.iter_raw():
                out.append(chunk)
                first.set()
    except httpx2.TransportError:
        out.append(b"<cut>")


def _sigterm_mid_stream(fake_server: FakeLLMServer, processes: list[GatewayProcess], drain: str,
                        chunks: int) -> tuple[bytes, int, float]:
    """Start a slow stream, SIGTERM the gateway after its first event: (what the client got, exit status,
    seconds from the signal to the exit)."""
    gw = GatewayProcess(gateway_env(fake_server), "--drain-seconds", drain)
    processes.append(gw)
    fake_server.enqueue(Reply(chunks=[f"part{i} " for i in range(chunks)], delay_between=0.1))
    first, out = threading.Event(), []
    reader = threading.Thread(target=_stream, args=(gw.url, first, out))
    reader.start()
    assert first.wait(10)
    signalled = time.monotonic()
    gw.proc.send_signal(signal.SIGTERM)
    status = gw.proc.wait(20)
    exited = time.monotonic() - signalled
    reader.join(20)
    return b"".join(out), status, exited


def test_sigterm_drains_an_in_flight_stream_then_exits(fake_server: FakeLLMServer, processes: list[GatewayProcess]) -> None:
    """SIGTERM mid-stream: the stream still ends whole ([DONE]), then the process exits."""
    body, status, _ = _sigterm_mid_stream(fake_server, processes, "10", 12)
    assert status in (0, -signal.SIGTERM)
    assert b"data: [DONE]" in body and b"part11" in body and b"<cut>" not in body


def test_sigterm_cuts_a_stream_that_outlasts_the_drain_deadline(fake_server: FakeLLMServer,
                                                                processes: list[GatewayProcess]) -> None:
    """A stream longer than --drain-seconds is cut at the deadline and the process exits anyway."""
    body, _, exited = _sigterm_mid_stream(fake_server, processes, "1", 100)
    assert exited < 8
    assert b"data: [DONE]" not in body and b"part1 " in body


def test_two_gateway_processes_share_one_verifying_postgresql_trail(
        fake_server: FakeLLMServer, processes: list[GatewayProcess], pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two gateways write their calls (allowed and blocked) into one PostgreSQL chain; audit verify passes."""
    env = gateway_env(fake_server, DEEPSENTINEL_AUDIT="true", DEEPSENTINEL_AUDIT_URL=pg_url,
                      DEEPSENTINEL_AUDIT_KEY=AUDIT_KEY)
    gateways = [GatewayProcess(env), GatewayProcess(env)]
    processes.extend(gateways)

    def call(i: int) -> int:
        content = f"My SSN is 536-22-{1000 + i}" if i % 5 == 0 else f"Question number {i} about trees"
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]}
        with httpx2.Client(timeout=30) as http:
            return http.post(gateways[i % 2].url + "/v1/chat/completions", json=body,
                             headers={"authorization": f"Bearer {CLIENT_KEY}"}).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(call, range(40)))
    assert codes.count(200) == 32 and codes.count(400) == 8
    assert [g.stop() for g in gateways] == [-signal.SIGTERM] * 2  # shutdown flushes pending audit events

    with AuditLog(PostgresAuditStore(pg_url, key=AUDIT_KEY.encode(), create=False), owns_store=True) as log:
        events = log.list(limit=1000)
        assert log.verify().ok
    assert len(events) == 40
    assert sum(1 for e in events if e.outcome.value == "blocked") == 8
    assert "536-22-" not in json.dumps([e.to_dict() for e in events], default=str)
    monkeypatch.setenv("DEEPSENTINEL_AUDIT_KEY", AUDIT_KEY)
    verify = run_cli(["audit", "verify", "--db", pg_url])
    assert verify.code == 0 and "40 row(s)" in verify.out, verify


def _requests_total(text: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("deepsentinel_requests_total{"))


def test_metrics_of_several_workers_add_up(fake_server: FakeLLMServer, processes: list[GatewayProcess]) -> None:
    """With --workers 2, whichever worker answers a scrape reports every worker's calls (multiprocess mode)."""
    gw = GatewayProcess(gateway_env(fake_server), "--workers", "2")
    processes.append(gw)

    def call(i: int) -> int:
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Question {i} about rivers"}]}
        with httpx2.Client(timeout=30) as http:  # a new connection each: the workers share them out
            return http.post(gw.url + "/v1/chat/completions", json=body,
                             headers={"authorization": f"Bearer {CLIENT_KEY}"}).status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(call, range(24))) == [200] * 24
    # Each worker counts a call on its audit writer thread, milliseconds after the call ends: wait for the
    # last ones, then every scrape, whichever worker answers it, must report all 24.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with httpx2.Client(timeout=30) as http:
            if _requests_total(http.get(gw.url + "/metrics").text) == 24.0:
                break
        time.sleep(0.05)
    scrapes = []
    for _ in range(8):
        with httpx2.Client(timeout=30) as http:
            scrapes.append(_requests_total(http.get(gw.url + "/metrics").text))
    assert scrapes == [24.0] * 8
