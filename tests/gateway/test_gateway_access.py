"""Who may call the gateway: client keys (environment and database), 401s, model allow-lists, per-key
policies and rate limits (in process, and shared through Redis)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import anthropic
import httpx2
import openai
import pytest

from deepsentinel.errors import ConfigurationError
from deepsentinel.gateway.server import create_app
from deepsentinel.testing import FakeLLMServer, Reply
from tests.cli_runner import run_cli
from tests.gateway.conftest import CLIENT_KEY, RunningGateway, StartGateway, gateway_env

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say something short"}]}
REDIS_URL = "redis://127.0.0.1:6379/0"


def _chat(gw: RunningGateway, key: str | None, body: dict[str, object] = CHAT) -> httpx2.Response:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    with httpx2.Client(timeout=10) as http:
        return http.post(gw.url + "/v1/chat/completions", json=body, headers=headers)


def test_missing_and_unknown_keys_get_401_in_each_provider_format(gateway: RunningGateway, fake_server: FakeLLMServer) -> None:
    """No key or a wrong key: 401 as the OpenAI and the Anthropic SDK each expect; nothing goes upstream."""
    oai = openai.OpenAI(base_url=gateway.url + "/v1", api_key="wrong-key-123", max_retries=0)
    ant = anthropic.Anthropic(base_url=gateway.url, api_key="wrong-key-123", max_retries=0)
    with oai, pytest.raises(openai.AuthenticationError) as oa:
        oai.models.list()
    assert oa.value.body == {"message": "Invalid API key.", "type": "invalid_request_error", "param": None,
                             "code": "invalid_api_key"}
    with ant, pytest.raises(anthropic.AuthenticationError) as an:
        ant.messages.create(model="claude-haiku-4-5", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    assert an.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
    missing = _chat(gateway, None)
    assert missing.status_code == 401 and "Missing API key" in missing.json()["error"]["message"]
    assert fake_server.request_count() == 0


def test_x_api_key_header_authenticates_too(gateway: RunningGateway) -> None:
    """The Anthropic-style x-api-key header is accepted for any endpoint."""
    with httpx2.Client(timeout=10) as http:
        response = http.get(gateway.url + "/v1/models", headers={"x-api-key": CLIENT_KEY})
    assert response.status_code == 200


def test_operations_endpoints_need_no_key(gateway: RunningGateway) -> None:
    """Health, readiness and Prometheus metrics for load balancers and scrapers."""
    _chat(gateway, CLIENT_KEY)
    with httpx2.Client(timeout=10) as http:
        assert http.get(gateway.url + "/healthz").json() == {"status": "ok"}
        assert http.get(gateway.url + "/readyz").status_code == 200
        metrics = http.get(gateway.url + "/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    counted = [line for line in metrics.text.splitlines() if line.startswith("deepsentinel_requests_total{")]
    assert counted and counted[0].endswith(" 1.0")


def test_refuses_to_start_without_a_client_key(fake_server: FakeLLMServer) -> None:
    """No key in the environment and no key database: a configuration error that says what to do."""
    env = gateway_env(fake_server, DEEPSENTINEL_GATEWAY_KEYS="")
    with pytest.raises(ConfigurationError, match="no client key configured"):
        create_app(env)


def test_no_auth_is_refused_off_loopback(tmp_path: Path) -> None:
    """--no-auth on a public address is refused before anything starts."""
    result = run_cli(["serve", "--no-auth", "--host", "0.0.0.0", "--port", "9"])
    assert result.code == 1 and "loopback" in result.err


def test_database_keys_models_policies_and_revocation(start_gateway: StartGateway, fake_server: FakeLLMServer,
                                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """keys create/list/revoke: a key's model allow-list, its own policies, and revocation, through the gateway."""
    db = tmp_path / "keys.sqlite3"
    monkeypatch.setenv("DEEPSENTINEL_GATEWAY_KEYS_URL", str(db))
    made = run_cli(["keys", "create", "pci-team", "--policy", "pci_dss", "--model", "gpt-4o-mini"])
    other = run_cli(["keys", "create", "other"])
    assert made.code == 0 and other.code == 0
    pci_key, other_key = made.out.strip(), other.out.strip()
    assert pci_key.startswith("dsk-") and pci_key not in db.read_bytes().decode("latin-1")  # stored hashed
    gw = start_gateway(DEEPSENTINEL_GATEWAY_KEYS="", DEEPSENTINEL_GATEWAY_KEYS_URL=str(db),
                       DEEPSENTINEL_GATEWAY_KEY_CACHE_SECONDS="0")

    assert _chat(gw, pci_key).status_code == 200
    with httpx2.Client(timeout=10) as http:
        listed = http.get(gw.url + "/v1/models", headers={"authorization": f"Bearer {pci_key}"}).json()
        everything = http.get(gw.url + "/v1/models", headers={"authorization": f"Bearer {other_key}"}).json()
    assert [m["id"] for m in listed["data"]] == ["gpt-4o-mini"]  # the key's allow-list, not the provider's list
    assert len(everything["data"]) > 1
    denied = _chat(gw, pci_key, {**CHAT, "model": "gpt-4o"})
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "model_not_allowed"
    with httpx2.Client(timeout=10) as http:  # a form names its model too (a transcription)
        form = http.post(gw.url + "/v1/audio/transcriptions", headers={"authorization": f"Bearer {pci_key}"},
                         data={"model": "whisper-1"}, files={"file": ("a.wav", b"RIFF....WAVE")})
    assert form.status_code == 403 and form.json()["error"]["code"] == "model_not_allowed"
    assert fake_server.request_count("/v1/audio/transcriptions") == 0
    ssn = {**CHAT, "messages": [{"role": "user", "content": "SSN 536-22-" + "1234"}]}
    assert _chat(gw, pci_key, ssn).status_code == 200  # PCI DSS alone does not cover SSNs
    assert _chat(gw, other_key, ssn).status_code == 400  # the gateway's default policy does
    assert fake_server.request_count("/v1/chat/completions") == 2

    assert run_cli(["keys", "revoke", "other"]).code == 0
    assert _chat(gw, other_key).status_code == 401  # never cached as valid: with no cache, refused at once
    listing = run_cli(["keys", "list"]).out
    assert "pci-team" in listing and "revoked" in listing and pci_key not in listing
    assert run_cli(["keys", "revoke", "nobody"]).code == 1


def test_rate_limit_in_process(start_gateway: StartGateway) -> None:
    """Past its requests per minute a key gets a 429 with Retry-After, in the provider's format."""
    _wait_clear_of_minute_boundary()
    gw = start_gateway(DEEPSENTINEL_GATEWAY_RATE_LIMIT="2")
    assert [_chat(gw, CLIENT_KEY).status_code for _ in range(2)] == [200, 200]
    limited = _chat(gw, CLIENT_KEY)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"


def test_rate_limit_is_shared_through_redis(start_gateway: StartGateway) -> None:
    """Two gateways on one Redis count one key's calls together."""
    _wait_clear_of_minute_boundary()
    keys = f"rl-{uuid.uuid4().hex[:8]}={CLIENT_KEY}"
    env = {"DEEPSENTINEL_GATEWAY_RATE_LIMIT": "3", "DEEPSENTINEL_REDIS_URL": REDIS_URL, "DEEPSENTINEL_GATEWAY_KEYS": keys}
    first, second = start_gateway(**env), start_gateway(**env)
    codes = [_chat(first, CLIENT_KEY).status_code, _chat(first, CLIENT_KEY).status_code,
             _chat(second, CLIENT_KEY).status_code, _chat(second, CLIENT_KEY).status_code]
    assert codes == [200, 200, 200, 429]


def _wait_clear_of_minute_boundary() -> None:
    """Limits count in one-minute windows: start a short test well inside one."""
    left = 60 - time.time() % 60
    if left < 5:
        time.sleep(left + 0.1)


def test_one_clients_texts_are_never_cache_hits_for_another(start_gateway: StartGateway,
                                                            fake_server: FakeLLMServer) -> None:
    """The engine's scan cache is shared, but each key scans in a partition of its own: a text another client
    sent is scanned afresh (a hit would answer faster, and so tell that someone sent it), while the same client
    sending it again is served from the cache."""
    other = "gw-other-" + "o" * 24
    gw = start_gateway(DEEPSENTINEL_GATEWAY_KEYS=f"alice={CLIENT_KEY},bob={other}")
    engine = gw.app.sentinel.engine
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Plan the trip {uuid.uuid4().hex}"}]}
    answer = f"Take the early train, ticket {uuid.uuid4().hex}."
    hits = []
    for key in (CLIENT_KEY, other, CLIENT_KEY):
        fake_server.enqueue(Reply(text=answer))
        before = engine.cache_info().hits
        response = _chat(gw, key, body)
        assert response.status_code == 200 and response.json()["choices"][0]["message"]["content"] == answer
        hits.append(engine.cache_info().hits - before)
    assert hits[1] == 0  # bob: neither the prompt nor the answer alice's call stored
    assert hits[2] >= 2  # alice again: both


def test_one_clients_values_never_shift_anothers_placeholders(start_gateway: StartGateway,
                                                              fake_server: FakeLLMServer) -> None:
    """Placeholders are numbered per key: a value another client sent takes no number of this one's, so an echo
    of ``<EMAIL_n>`` (a model repeating the prompt, an error quoting it) tells nobody what others sent."""
    from deepsentinel.policy.presets import gdpr
    from deepsentinel.sentinel import Sentinel
    from tests.gateway.conftest import gateway_env

    other = "gw-other-" + "o" * 24
    keys = f"alice={CLIENT_KEY},bob={other}"
    gw = start_gateway(sentinel=Sentinel(environ=gateway_env(fake_server, DEEPSENTINEL_GATEWAY_KEYS=keys),
                                         compliance_policies=[gdpr()]), DEEPSENTINEL_GATEWAY_KEYS=keys)
    sent = []
    for key, email in ((CLIENT_KEY, "jane.doe.4471@example.com"), (other, "zed.q@example.org"),
                       (other, "jane.doe.4471@example.com"), (CLIENT_KEY, "jane.doe.4471@example.com")):
        fake_server.enqueue(Reply(status=400, error_echoes_prompt=True))
        body = {**CHAT, "messages": [{"role": "user", "content": f"Email {email} today"}]}
        assert _chat(gw, key, body).status_code == 400
        sent.append(json.loads(fake_server.last_request.body)["messages"][0]["content"])
    assert sent == ["Email <EMAIL_1> today", "Email <EMAIL_1> today", "Email <EMAIL_2> today", "Email <EMAIL_1> today"]
