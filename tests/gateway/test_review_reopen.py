"""Review regressions: held opening events, and the reopen budget and backoff.

Every test here goes through real loopback HTTP with the official SDKs.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from deepsentinel import PerformanceConfig, SentinelClient, SentinelConfig
from deepsentinel.audit.events import MemorySink
from deepsentinel.testing import FakeLLMServer, Reply
from tests.gateway.conftest import CLIENT_KEY, StartGateway

HI = [{"role": "user", "content": "hi"}]
NO_WAIT = SentinelConfig(performance_config=PerformanceConfig(retry_backoff=0))


# A scripted loopback SSE server: each request takes the next script. A script is a list of steps:
# ("event", name, data) | ("sleep", seconds) | ("cut",) (the socket closes mid chunked body).

class Scripted:
    def __init__(self, *scripts: list[tuple[Any, ...]]) -> None:
        self.scripts = list(scripts)
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("content-length", 0)))
                owner.requests += 1
                script = owner.scripts.pop(0)
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.send_header("connection", "close")
                self.end_headers()
                for step in script:
                    if step[0] == "sleep":
                        time.sleep(step[1])
                    elif step[0] == "cut":
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    else:
                        _, name, data = step
                        line = f"event: {name}\n" if name else ""
                        text = data if isinstance(data, str) else json.dumps(data)
                        body = f"{line}data: {text}\n\n".encode()
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(body), body))
                        self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted() -> Iterator[list[Scripted]]:
    made: list[Scripted] = []
    yield made
    for s in made:
        s.close()


def _chunk(delta: dict[str, Any], finish: str | None = None, **choice: Any) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, **choice}]}


def _chat_answer(text: str) -> list[tuple[Any, ...]]:
    return [("event", "", _chunk({"role": "assistant", "content": ""})),
            ("event", "", _chunk({"content": text})),
            ("event", "", _chunk({}, "stop")), ("event", "", "[DONE]")]


# 1. ChatCodec.opens: a role chunk that spells its empty fields as null (``tool_calls`` included), or carries an
#    empty logprobs object, still opens the answer: a break before any text is reopened.

@pytest.mark.parametrize("role_chunk", [
    _chunk({"role": "assistant", "content": "", "function_call": None, "tool_calls": None}),  # LiteLLM, Together...
    _chunk({"role": "assistant", "content": "", "refusal": None}, logprobs={"content": [], "refusal": []}),
], ids=["tool_calls-null", "empty-logprobs"])
def test_a_role_chunk_with_null_tool_calls_still_lets_an_unseen_break_reopen(
    scripted: list[Scripted], role_chunk: dict[str, Any]
) -> None:
    server = Scripted([("event", "", role_chunk), ("cut",)], _chat_answer("Second try."))
    scripted.append(server)
    with SentinelClient(api_key="k", base_url=server.base + "/v1", audit=False, config=NO_WAIT, max_retries=1) as c:
        stream = c.chat.completions.create(model="gpt-4o", messages=HI, stream=True)
        text = "".join(part.choices[0].delta.content or "" for part in stream)
    assert text == "Second try."
    assert server.requests == 2


# 2. The reopen budget is what is left of the SDK call's own after the SDK's retries: max_retries=1 makes two
#    requests, not three.

def test_reopens_share_the_budget_the_sdk_already_spent(fake_server: FakeLLMServer) -> None:
    sink = MemorySink()
    fake_server.enqueue(Reply(status=429, headers={"retry-after-ms": "10"}),
                        Reply(text="lost", disconnect_after=0), Reply(text="Third request."))
    with SentinelClient(api_key="k", base_url=fake_server.openai_base_url, audit=sink, config=NO_WAIT,
                        max_retries=1) as client, pytest.raises(openai.APIConnectionError):
        "".join(p.choices[0].delta.content or "" for p in
                client.chat.completions.create(model="gpt-4o", messages=HI, stream=True))
    assert fake_server.request_count() == 2  # one try and the one retry max_retries=1 allows


# 3. A reopen answered 429 with a Retry-After longer than the cap is not retried (as the SDK does not), nor one
#    answered ``x-should-retry: false``.

@pytest.mark.parametrize("headers", [{"retry-after": "3600"}, {"x-should-retry": "false"}],
                         ids=["retry-after-1h", "x-should-retry-false"])
def test_a_reopen_the_provider_says_not_to_retry_is_not_retried(fake_server: FakeLLMServer,
                                                                headers: dict[str, str]) -> None:
    status = 429 if "retry-after" in headers else 503
    fake_server.enqueue(Reply(text="lost", disconnect_after=0), Reply(status=status, headers=headers),
                        Reply(text="Third request."))
    config = SentinelConfig(performance_config=PerformanceConfig(retry_backoff=0.05, retry_backoff_max=0.1))
    with SentinelClient(api_key="k", base_url=fake_server.openai_base_url, audit=False, config=config,
                        max_retries=2) as client:
        started = time.monotonic()
        with pytest.raises(openai.APIConnectionError):
            "".join(p.choices[0].delta.content or "" for p in
                    client.chat.completions.create(model="gpt-4o", messages=HI, stream=True))
    assert fake_server.request_count() == 2, f"retried after {time.monotonic() - started:.2f}s"


# 4. Gateway: while nothing is released (the opening held for a reopen, Anthropic's ``ping`` with it), the status
#    line waits at most KEEPALIVE seconds, then comments keep the client's read timeout from firing.

def _anthropic_pinging(pings: int, every: float) -> list[tuple[Any, ...]]:
    start = {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
             "model": "claude-3-5-haiku-20241022", "content": [], "stop_reason": None, "stop_sequence": None,
             "usage": {"input_tokens": 1, "output_tokens": 1}}}
    steps: list[tuple[Any, ...]] = [
        ("event", "message_start", start),
        ("event", "content_block_start", {"type": "content_block_start", "index": 0,
                                          "content_block": {"type": "text", "text": ""}})]
    for _ in range(pings):
        steps += [("event", "ping", {"type": "ping"}), ("sleep", every)]
    steps += [
        ("event", "content_block_delta", {"type": "content_block_delta", "index": 0,
                                          "delta": {"type": "text_delta", "text": "Finally here."}}),
        ("event", "content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("event", "message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                    "stop_sequence": None}, "usage": {"output_tokens": 3}}),
        ("event", "message_stop", {"type": "message_stop"})]
    return steps


def test_through_the_gateway_pings_keep_a_slow_stream_alive(start_gateway: StartGateway,
                                                            scripted: list[Scripted]) -> None:
    upstream = Scripted(_anthropic_pinging(pings=8, every=0.25))  # 2 s of pings before the first text
    scripted.append(upstream)
    gateway = start_gateway(ANTHROPIC_BASE_URL=upstream.base, DEEPSENTINEL_MAX_RETRIES="1")  # openings held
    with anthropic.Anthropic(base_url=gateway.url, api_key=CLIENT_KEY, max_retries=0,
                             timeout=httpx2.Timeout(1.0)) as client:
        started = time.monotonic()
        with client.messages.stream(model="claude-3-5-haiku-20241022", max_tokens=64, messages=HI) as stream:
            headers_after = time.monotonic() - started
            text = stream.get_final_text()
    assert text == "Finally here."
    assert headers_after < 0.9  # the status line waits at most KEEPALIVE (0.5 s), not for the first text


def test_through_the_gateway_the_status_line_does_not_wait_for_the_first_text(start_gateway: StartGateway,
                                                                              scripted: list[Scripted]) -> None:
    upstream = Scripted([("event", "", _chunk({"role": "assistant", "content": ""})), ("sleep", 1.5),
                         *_chat_answer("Late.")[1:]])
    scripted.append(upstream)
    gateway = start_gateway(OPENAI_BASE_URL=upstream.base + "/v1", DEEPSENTINEL_MAX_RETRIES="1")
    with openai.OpenAI(base_url=gateway.url + "/v1", api_key=CLIENT_KEY, max_retries=0) as client:
        started = time.monotonic()
        stream = client.chat.completions.create(model="gpt-4o", messages=HI, stream=True)
        headers_after = time.monotonic() - started
        assert "".join(p.choices[0].delta.content or "" for p in stream) == "Late."
    assert headers_after < 0.9, f"the status line came after {headers_after:.2f}s"


# 5. Audit: a reopen given up because its backoff would pass the deadline is not counted as an attempt.

def test_a_reopen_never_sent_is_not_counted_in_the_audit(fake_server: FakeLLMServer) -> None:
    sink = MemorySink()
    config = SentinelConfig(performance_config=PerformanceConfig(retry_backoff=30, retry_backoff_max=30))
    fake_server.enqueue(Reply(text="lost", disconnect_after=0), Reply(text="never sent"))
    with SentinelClient(api_key="k", base_url=fake_server.openai_base_url, audit=sink, config=config,
                        max_retries=2, timeout=2.0) as client:
        with pytest.raises(openai.APIConnectionError):
            for _ in client.chat.completions.create(model="gpt-4o", messages=HI, stream=True):
                pass
        client._sentinel.settle()
    assert fake_server.request_count() == 1
    assert [e.attempts for e in sink.events] == [1]


# 6. Responses: a stream that will not be reopened holds nothing, so ``response.created`` (the response's id)
#    arrives at once even while the model reasons. (One that may be reopened holds its opening until the next
#    event: the SDK refuses a second ``created``.)

def test_response_created_is_not_held_for_the_whole_reasoning(scripted: list[Scripted]) -> None:
    resp = {"id": "resp_1", "object": "response", "created_at": 1, "status": "in_progress", "model": "o3",
            "output": [], "parallel_tool_calls": True, "tool_choice": "auto", "tools": []}
    reasoning = {"id": "rs_1", "type": "reasoning", "summary": []}
    msg = {"id": "msg_1", "type": "message", "role": "assistant", "status": "in_progress", "content": []}
    part = {"type": "output_text", "text": "", "annotations": []}
    done_msg = {**msg, "status": "completed", "content": [{**part, "text": "Done."}]}
    ev = [("response.created", {"type": "response.created", "sequence_number": 0, "response": resp}),
          ("response.in_progress", {"type": "response.in_progress", "sequence_number": 1, "response": resp}),
          ("response.output_item.added", {"type": "response.output_item.added", "sequence_number": 2,
                                          "output_index": 0, "item": reasoning})]
    rest = [("response.output_item.done", {"type": "response.output_item.done", "sequence_number": 3,
                                           "output_index": 0, "item": reasoning}),
            ("response.output_item.added", {"type": "response.output_item.added", "sequence_number": 4,
                                            "output_index": 1, "item": msg}),
            ("response.content_part.added", {"type": "response.content_part.added", "sequence_number": 5,
                                             "item_id": "msg_1", "output_index": 1, "content_index": 0, "part": part}),
            ("response.output_text.delta", {"type": "response.output_text.delta", "sequence_number": 6,
                                            "item_id": "msg_1", "output_index": 1, "content_index": 0,
                                            "delta": "Done.", "logprobs": []}),
            ("response.output_text.done", {"type": "response.output_text.done", "sequence_number": 7,
                                           "item_id": "msg_1", "output_index": 1, "content_index": 0,
                                           "text": "Done.", "logprobs": []}),
            ("response.content_part.done", {"type": "response.content_part.done", "sequence_number": 8,
                                            "item_id": "msg_1", "output_index": 1, "content_index": 0,
                                            "part": {**part, "text": "Done."}}),
            ("response.output_item.done", {"type": "response.output_item.done", "sequence_number": 9,
                                           "output_index": 1, "item": done_msg}),
            ("response.completed", {"type": "response.completed", "sequence_number": 10,
                                    "response": {**resp, "status": "completed", "output": [reasoning, done_msg]}})]
    server = Scripted([("event", n, d) for n, d in ev] + [("sleep", 1.5)] + [("event", n, d) for n, d in rest])
    scripted.append(server)
    with SentinelClient(api_key="k", base_url=server.base + "/v1", audit=False, max_retries=0) as client:
        started = time.monotonic()
        stream = client.responses.create(model="o3", input="think", stream=True)
        first = next(iter(stream))
        created_after = time.monotonic() - started
        kinds = [first.type, *(e.type for e in stream)]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert created_after < 0.5, f"response.created reached the caller after {created_after:.2f}s"


# 7. A reopen answered with any 5xx (a CDN's 520/524) is retried, as both SDKs retry every 5xx.

def test_a_reopen_answered_524_is_retried_like_the_sdk_would(fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Reply(text="lost", disconnect_after=0), Reply(status=524), Reply(text="Third request."))
    with SentinelClient(api_key="k", base_url=fake_server.openai_base_url, audit=False, config=NO_WAIT,
                        max_retries=2) as client:
        text = "".join(p.choices[0].delta.content or "" for p in
                       client.chat.completions.create(model="gpt-4o", messages=HI, stream=True))
    assert text == "Third request." and fake_server.request_count() == 3
