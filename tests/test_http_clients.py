"""What the user's httpx2 client was set up with survives the guard: proxies (from the environment, ``proxy=`` or
``mounts=``), default query parameters and the cookie jar, for ``SentinelClient`` and both forms of ``protect()``;
and what goes through a proxy is guarded like the rest."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2
import openai
import pytest

from deepsentinel import AsyncSentinelClient, ComplianceViolationError, SentinelClient, protect

BASE = "http://llm.internal.example/v1"  # never resolved: only a proxy can reach it
ANSWER = {"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
          "choices": [{"index": 0, "message": {"role": "assistant", "content": "Via the proxy."},
                       "finish_reason": "stop"}]}


class Recorder:
    """A loopback server that answers every request with one chat completion, and a cookie, and keeps each
    request's target and headers: as an HTTP proxy, it sees the absolute URL."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("content-length", 0)))
                owner.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                body = json.dumps(ANSWER).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.send_header("set-cookie", "served=yes; Path=/")
                self.end_headers()
                self.wfile.write(body)

            def do_HEAD(self) -> None:  # noqa: N802 - http.server's name
                self.send_response(200)
                self.send_header("content-type", "text/event-stream" if self.path.endswith("sse") else "application/json")
                if self.path.endswith("gzip"):
                    self.send_header("content-encoding", "gzip")
                self.send_header("content-length", str(len(json.dumps(ANSWER))))
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


def _ask(client: Any, text: str = "Tell me about gardens") -> str:
    reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": text}])
    return str(reply.choices[0].message.content)


def test_the_environments_proxy_carries_a_sentinel_clients_calls(recorder: Recorder,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """As the SDK's own default client does, ``SentinelClient`` honours ``HTTP_PROXY``; a blocked prompt reaches
    not even the proxy."""
    monkeypatch.setenv("HTTP_PROXY", recorder.url)
    for name in ("NO_PROXY", "no_proxy", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    raw = openai.OpenAI(api_key="sk-test", base_url=BASE, max_retries=0)
    with SentinelClient(openai_api_key="sk-test", base_url=BASE, max_retries=0, audit=False) as ours:
        assert _ask(raw) == _ask(ours) == "Via the proxy."
        with pytest.raises(ComplianceViolationError):
            _ask(ours, "My SSN is 536-22-" + "1234")
    raw.close()
    assert [path for path, _ in recorder.seen] == [BASE + "/chat/completions"] * 2


def test_a_proxy_given_to_the_http_client_is_kept_by_every_guarded_form(recorder: Recorder) -> None:
    """``http_client=httpx2.Client(proxy=...)`` under ``SentinelClient``, ``protect()`` of an ``openai.OpenAI`` built
    with one, and ``protect()`` of the httpx2 client itself (for LangChain's ``http_client=``)."""
    clients = [
        SentinelClient(openai_api_key="sk-test", base_url=BASE, max_retries=0, audit=False,
                       http_client=httpx2.Client(proxy=recorder.url)),
        protect(openai.OpenAI(api_key="sk-test", base_url=BASE, max_retries=0,
                              http_client=httpx2.Client(proxy=recorder.url)), audit=False),
        openai.OpenAI(api_key="sk-test", base_url=BASE, max_retries=0,
                      http_client=protect(httpx2.Client(proxy=recorder.url), audit=False)),
    ]
    for client in clients:
        assert _ask(client) == "Via the proxy."
        with pytest.raises(ComplianceViolationError):
            _ask(client, "My SSN is 536-22-" + "1234")
        client.close()
    assert [path for path, _ in recorder.seen] == [BASE + "/chat/completions"] * 3


async def test_an_async_clients_proxy_and_settings_are_kept(recorder: Recorder) -> None:
    """The asyncio client keeps the proxy, the default query parameters and the cookie jar too."""
    http = httpx2.AsyncClient(proxy=recorder.url, params={"api-version": "2024-10"}, cookies={"session": "abc"})
    async with AsyncSentinelClient(openai_api_key="sk-test", base_url=BASE, max_retries=0, audit=False,
                                   http_client=http) as client:
        reply = await client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    assert reply.choices[0].message.content == "Via the proxy."
    path, headers = recorder.seen[0]
    assert path == BASE + "/chat/completions?api-version=2024-10" and headers["cookie"] == "session=abc"
    assert http.cookies.get("served") == "yes"


def test_default_query_parameters_and_the_cookie_jar_are_the_users(recorder: Recorder) -> None:
    """A default query parameter (Azure-style ``api-version``) and a cookie of the user's client are sent; a cookie
    the server sets lands in the user's own jar, as with the raw client."""
    seen = []
    for make in (openai.OpenAI, lambda **kw: SentinelClient(audit=False, **kw)):
        http = httpx2.Client(params={"api-version": "2024-10"}, cookies={"session": "abc"})
        client = make(api_key="sk-test", base_url=recorder.url + "/v1", max_retries=0, http_client=http)
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}],
                                       extra_query={"q": "1"})
        client.close()
        path, headers = recorder.seen[-1]
        seen.append((path, headers.get("cookie"), http.cookies.get("served")))
    assert seen[0] == seen[1] == ("/v1/chat/completions?api-version=2024-10&q=1", "session=abc", "yes")


@pytest.mark.parametrize("path", ["/v1/files/file-1/content", "/v1/files/file-1/gzip", "/v1/responses/sse"])
def test_a_head_answer_keeps_its_headers(recorder: Recorder, path: str) -> None:
    """A HEAD answer's Content-Length and Content-Encoding (those a GET would get; there is no body) reach the caller
    as the raw client shows them, whatever the content type."""
    seen = []
    for http in (httpx2.Client(), protect(httpx2.Client(), audit=False)):
        with http:
            answer = http.head(recorder.url + path)
        seen.append((answer.status_code, answer.headers.get("content-length"), answer.headers.get("content-encoding"),
                     answer.content))
    assert seen[0] == seen[1]
    assert seen[0][:2] == (200, str(len(json.dumps(ANSWER))))


def test_a_fallback_host_goes_through_the_transport_its_own_url_picks(recorder: Recorder,
                                                                     fake_server: Any) -> None:
    """The primary answers 529; the fallback (another OpenAI-compatible provider) is reachable only through the proxy
    the user mounted for its host: it is sent there, not through the primary's transport, and the cookie it sets
    is not filed under the primary's host."""
    from deepsentinel import PerformanceConfig, ProviderConfig, SentinelConfig
    from deepsentinel.testing import Reply

    backup = ProviderConfig(name="backup", api_key="kb", base_url="http://backup.internal.example/v1")
    config = SentinelConfig(providers=(backup,), performance_config=PerformanceConfig(max_retries=0))
    http = httpx2.Client(mounts={"http://backup.internal.example": httpx2.HTTPTransport(proxy=recorder.url)})
    fake_server.enqueue(Reply(status=529))
    with SentinelClient(api_key="k", base_url=fake_server.openai_base_url, config=config, audit=False,
                        http_client=http) as client:
        reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}],
                                               fallbacks=["backup/gpt-4o"])
    assert reply.choices[0].message.content == "Via the proxy."
    assert [path for path, _ in recorder.seen] == ["http://backup.internal.example/v1/chat/completions"]
    assert "served" not in http.cookies


def test_a_client_whose_proxy_mount_is_unguarded_gets_guarded(recorder: Recorder) -> None:
    """A client built on our transport but with a proxy mount of its own is not taken for guarded: the mount's
    requests would skip the guard. Both forms guard it, and a blocked prompt reaches not even the proxy."""
    from deepsentinel.sentinel import Sentinel
    from deepsentinel.transport import SentinelTransport

    def half() -> httpx2.Client:
        return httpx2.Client(transport=SentinelTransport(Sentinel(audit=False)), proxy=recorder.url)

    for client in (SentinelClient(api_key="k", base_url=BASE, max_retries=0, audit=False, http_client=half()),
                   protect(openai.OpenAI(api_key="k", base_url=BASE, max_retries=0, http_client=half()), audit=False)):
        with pytest.raises(ComplianceViolationError):
            _ask(client, "My SSN is 536-22-" + "1234")
        assert _ask(client) == "Via the proxy."
        client.close()
    assert len(recorder.seen) == 2
