"""``/readyz`` asks the real PostgreSQL audit database and Redis; a closed port is "down"."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor

import httpx2

from tests import audit_pg
from tests.audit_pg import TcpProxy, url_for
from tests.gateway.conftest import RunningGateway, StartGateway

pg_db = audit_pg.pg_db  # fixture: a fresh database per test
REDIS_URL = "redis://127.0.0.1:6379/0"
SECRET = "pw-" + "s" * 12  # a password in a URL must never reach a /readyz body


def _closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()  # nothing listens there now
    return port


def _readyz(gw: RunningGateway) -> httpx2.Response:
    return httpx2.get(gw.url + "/readyz", timeout=20)


def test_ready_with_nothing_to_probe(gateway: RunningGateway) -> None:
    """Without a shared audit database or Redis there is nothing to ask: 200."""
    r = _readyz(gateway)
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "checks": {}}


def test_ready_when_postgresql_and_redis_answer(start_gateway: StartGateway, pg_db: str) -> None:
    """Both dependencies up: 200, each named ok."""
    gw = start_gateway(DEEPSENTINEL_AUDIT="true", DEEPSENTINEL_AUDIT_URL=url_for(pg_db), DEEPSENTINEL_REDIS_URL=REDIS_URL)
    r = _readyz(gw)
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ok", "checks": {"audit": "ok", "redis": "ok"}}


def test_not_ready_while_the_audit_database_is_down(start_gateway: StartGateway, pg_db: str) -> None:
    """The audit database goes away (its port closes): 503 naming the audit store; back when it returns."""
    proxy = TcpProxy()
    proxy.start()
    try:
        gw = start_gateway(DEEPSENTINEL_AUDIT="true", DEEPSENTINEL_AUDIT_URL=url_for(pg_db, port=proxy.port))
        assert _readyz(gw).status_code == 200
        proxy.stop()
        down = _readyz(gw)
        assert down.status_code == 503
        assert down.json()["status"] == "unavailable"
        assert down.json()["checks"]["audit"].startswith("unreachable")
        assert str(proxy.port) not in down.text
        proxy.start()
        assert _readyz(gw).status_code == 200
    finally:
        proxy.stop()


def test_probes_share_one_kept_database_connection(start_gateway: StartGateway, pg_db: str) -> None:
    """Many /readyz calls, at once and one after another, each answered by the database, open one connection
    to it, not one each (the endpoint needs no key)."""
    proxy = TcpProxy()
    proxy.start()
    try:
        gw = start_gateway(DEEPSENTINEL_AUDIT="true", DEEPSENTINEL_AUDIT_URL=url_for(pg_db, port=proxy.port))
        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(lambda _: _readyz(gw).status_code, range(32)))
        statuses += [_readyz(gw).status_code for _ in range(8)]
        assert statuses == [200] * 40
        assert proxy.accepted <= 2, proxy.accepted  # the probes' one (the audit writer may hold one of its own)
        proxy.stop()
        assert _readyz(gw).status_code == 503  # the kept connection broke: asked, not remembered
    finally:
        proxy.stop()


def test_not_ready_when_redis_is_down_and_no_secret_is_shown(start_gateway: StartGateway) -> None:
    """Redis on a closed port: 503 naming redis; the URL (and its password) never appear."""
    port = _closed_port()
    gw = start_gateway(DEEPSENTINEL_REDIS_URL=f"redis://:{SECRET}@127.0.0.1:{port}/0")
    r = _readyz(gw)
    assert r.status_code == 503
    assert r.json()["checks"]["redis"].startswith("unreachable")
    assert SECRET not in r.text and str(port) not in r.text and "redis://" not in r.text


def test_not_ready_when_the_audit_url_points_nowhere(start_gateway: StartGateway) -> None:
    """An audit URL whose server does not listen: 503; its password is not in the answer."""
    port = _closed_port()
    gw = start_gateway(DEEPSENTINEL_AUDIT="true", DEEPSENTINEL_AUDIT_URL=f"postgresql://postgres:{SECRET}@127.0.0.1:{port}/x")
    r = _readyz(gw)
    assert r.status_code == 503
    assert r.json()["checks"] == {"audit": r.json()["checks"]["audit"]}
    assert r.json()["checks"]["audit"].startswith("unreachable")
    assert SECRET not in r.text and str(port) not in r.text
