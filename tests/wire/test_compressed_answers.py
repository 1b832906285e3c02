"""A provider that compresses its answer although the guard asked for none: the guard inflates it and checks what
it says (the caller gets it uncompressed), or refuses a coding it cannot read. Never passed on unread."""

from __future__ import annotations

import gzip
import json
import random
import zlib
from typing import Any

import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepsentinel import ComplianceViolationError, ProviderError, UnreadableResponseError
from deepsentinel.audit.events import MemorySink, Outcome
from deepsentinel.testing import FakeLLMServer, Reply
from deepsentinel.wire.encoding import inflater_for
from tests.conftest import create, drain_text, user

CARD = "4111 1111 " + "1111 1111"
SSN = "536-22-" + "1234"


def _encode(body: bytes, coding: str) -> bytes:
    if coding == "gzip":
        return gzip.compress(body)
    if coding == "gzip-members":  # RFC 1952 allows several members; gzip.decompress reads them all
        return gzip.compress(body[: len(body) // 3]) + gzip.compress(body[len(body) // 3 :])
    if coding == "deflate":
        return zlib.compress(body)
    if coding == "raw-deflate":
        squeeze = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        return squeeze.compress(body) + squeeze.flush()
    assert coding == "gzip, gzip"
    return gzip.compress(gzip.compress(body))


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=3000), coding=st.sampled_from(["gzip", "gzip-members", "deflate", "raw-deflate", "gzip, gzip"]),
       cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=12), first_byte_alone=st.booleans())
def test_any_chunking_of_a_compressed_body_inflates_to_the_body(body: bytes, coding: str, cuts: list[int],
                                                                 first_byte_alone: bool) -> None:
    wire = _encode(body, coding)
    name = {"raw-deflate": "deflate", "gzip-members": "gzip"}.get(coding, coding)
    inflater = inflater_for([name], "openai", 200)
    assert inflater is not None
    points = sorted({min(c, len(wire)) for c in cuts} | {0, len(wire)} | ({1} if first_byte_alone else set()))
    out = b"".join(inflater.decompress(wire[a:b]) for a, b in zip(points, points[1:], strict=False))
    assert out + inflater.flush() == body


@pytest.mark.parametrize("header", ["", "identity", " Identity , identity", "chunked"])
def test_no_coding_needs_no_inflater(header: str) -> None:
    assert inflater_for([header], "openai", 200) is None


def test_codings_from_both_headers_are_undone_last_first() -> None:
    """``Content-Encoding: gzip`` under ``Transfer-Encoding: deflate, chunked`` (aiohttp leaves the latter on)."""
    inflater = inflater_for(["GZIP", "deflate, chunked"], "openai", 200)
    assert inflater is not None
    assert inflater.decompress(zlib.compress(gzip.compress(b"layers"))) + inflater.flush() == b"layers"


def test_bytes_after_the_compressed_stream_are_refused() -> None:
    for coding, wire in (("gzip", gzip.compress(b"ok") + f"JUNK {CARD}".encode()),
                         ("deflate", zlib.compress(b"ok") + zlib.compress(b"more"))):
        inflater = inflater_for([coding], "openai", 200)
        assert inflater is not None
        with pytest.raises(UnreadableResponseError, match="could not be decompressed") as info:
            inflater.decompress(wire)
        assert CARD not in str(info.value)


def test_a_body_that_inflates_past_the_bomb_limit_is_refused() -> None:
    from deepsentinel.wire.encoding import BOMB_FLOOR

    bomb = gzip.compress(bytes(BOMB_FLOOR + (1 << 20)), compresslevel=1)
    inflater = inflater_for(["gzip"], "openai", 200)
    assert inflater is not None
    with pytest.raises(UnreadableResponseError, match="inflated to more than"):
        for i in range(0, len(bomb), 1 << 16):
            inflater.decompress(bomb[i : i + (1 << 16)])
        inflater.flush()


def test_a_cut_or_broken_compressed_body_is_refused() -> None:
    whole = gzip.compress(f"my card {CARD}".encode())
    cut = inflater_for(["gzip"], "openai", 200)
    assert cut is not None
    cut.decompress(whole[: len(whole) // 2])
    with pytest.raises(UnreadableResponseError, match="ended before its compressed stream did") as info:
        cut.flush()
    assert (info.value.provider, info.value.status_code) == ("openai", 200)
    broken = inflater_for(["gzip"], "openai", 200)
    assert broken is not None
    with pytest.raises(UnreadableResponseError, match="could not be decompressed"):
        broken.decompress(b"not gzip at all " + CARD.encode())


def test_a_coding_the_guard_cannot_undo_is_refused_and_named_only_when_registered() -> None:
    brotli = inflater_for(["br"], "openai", 200)
    assert brotli is not None and brotli.flush() == b""  # an empty body is no trouble
    with pytest.raises(UnreadableResponseError, match="'br'"):
        brotli.decompress(b"\x1b\x03")
    odd = inflater_for([f"x-{SSN}"], "openai", 200)  # a header is provider text: never repeated
    assert odd is not None
    with pytest.raises(UnreadableResponseError) as info:
        odd.decompress(b"bytes")
    assert SSN not in str(info.value) and SSN not in repr(info.value) and "unknown content coding" in str(info.value)
    with pytest.raises(UnreadableResponseError):  # a readable coding over an unreadable one is still unreadable
        inflater_for(["br, gzip"], "openai", 200).decompress(gzip.compress(b"x"))  # type: ignore[union-attr]
    error = inflater_for(["br"], "openai", 429)  # an error answer's body: read as empty, never refused
    assert error is not None and error.decompress(b"\x1b\x03") + error.flush() == b"" and error.failed


def test_the_fake_server_compresses_as_told_whatever_the_client_accepts(fake_server: FakeLLMServer) -> None:
    """Faithful: the official client, which accepts gzip, reads the fake's compressed answers as it would a
    provider's (the guard's tests below rest on this)."""
    fake_server.enqueue(Reply(text="Plain words.", compress="gzip"), Reply(chunks=["Stre", "amed."], compress="deflate"))
    with openai.OpenAI(api_key="k", base_url=fake_server.openai_base_url, max_retries=0) as raw:
        answer = raw.chat.completions.with_raw_response.create(model="gpt-4o", messages=user("hi"))
        assert answer.headers["content-encoding"] == "gzip"
        assert answer.parse().choices[0].message.content == "Plain words."
        stream = raw.chat.completions.create(model="gpt-4o", messages=user("hi"), stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Streamed."


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
async def test_a_compressed_answer_reaches_the_caller_uncompressed(make_client: Any, fake_server: FakeLLMServer,
                                                                   coding: str) -> None:
    fake_server.enqueue(Reply(text="Rivers run to the sea.", compress=coding))
    client = make_client()
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=user("hi"))
    raw = await raw if hasattr(raw, "__await__") else raw
    assert "content-encoding" not in raw.http_response.headers
    assert int(raw.http_response.headers["content-length"]) == len(raw.http_response.content)
    completion = raw.parse()
    completion = await completion if hasattr(completion, "__await__") else completion
    assert completion.choices[0].message.content == "Rivers run to the sea."


async def test_a_card_in_a_compressed_answer_is_blocked_and_audited(make_client: Any, fake_server: FakeLLMServer,
                                                                   sink: MemorySink) -> None:
    fake_server.enqueue(Reply(text=f"Your card is {CARD}.", compress="gzip"))
    client = make_client()
    with pytest.raises(ComplianceViolationError) as info:
        await create(client, model="gpt-4o", messages=user("card?"))
    assert CARD not in str(info.value)
    client._sentinel.settle()
    [event] = sink.events
    assert event.outcome is Outcome.BLOCKED and event.finding_counts() == {"CREDIT_CARD": 1}


async def test_a_compressed_stream_is_cut_before_the_card_shows(make_client: Any, fake_server: FakeLLMServer) -> None:
    pieces = ["Your number ", "is ", CARD[:6], CARD[6:12], CARD[12:], " thanks."]
    fake_server.enqueue(Reply(chunks=pieces, compress="gzip"), Reply(chunks=["Calm ", "seas."], compress="gzip"))
    client = make_client()
    seen: list[str] = []
    with pytest.raises(ComplianceViolationError):
        await drain_text(await create(client, model="gpt-4o", messages=user("n?"), stream=True), seen)
    assert "".join(seen).startswith("Your number") and not any(ch.isdigit() for ch in "".join(seen))
    clean: list[str] = []
    await drain_text(await create(client, model="gpt-4o", messages=user("n?"), stream=True), clean)
    assert "".join(clean) == "Calm seas."


async def test_a_compressed_error_is_redacted(make_client: Any, fake_server: FakeLLMServer) -> None:
    fake_server.enqueue(Reply(status=400, error_message=f"bad input near {SSN}", compress="gzip"))
    client = make_client(max_retries=0)
    with pytest.raises(ProviderError) as info:
        await create(client, model="gpt-4o", messages=user("hi"))
    assert info.value.status_code == 400 and "bad input near" in str(info.value) and SSN not in str(info.value)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_an_answer_in_a_coding_the_guard_cannot_read_is_refused(make_client: Any, fake_server: FakeLLMServer,
                                                                      sink: MemorySink, stream: bool) -> None:
    """``br`` sent as a name over bytes the guard cannot read: a typed error, nothing shown, one request (no
    retry: another try would get the same), and an audit event that says so."""
    text = "Quiet words " + "".join(random.choice("abcdefgh ") for _ in range(40))
    fake_server.enqueue(Reply(text=text, compress="br"))
    client = make_client()
    seen: list[str] = []
    with pytest.raises(UnreadableResponseError) as info:
        answer = await create(client, model="gpt-4o", messages=user("hi"), stream=stream)
        if stream:
            await drain_text(answer, seen)
    assert isinstance(info.value, openai.OpenAIError) and info.value.status_code == 200
    assert "'br'" in str(info.value) and not "".join(seen)
    assert fake_server.request_count() == 1
    client._sentinel.settle()
    [event] = sink.events
    assert event.outcome is Outcome.PROVIDER_ERROR and event.error_type == "UnreadableResponseError"


async def test_an_error_in_a_coding_the_guard_cannot_read_keeps_its_status_and_retries(make_client: Any,
                                                                                       fake_server: FakeLLMServer) -> None:
    """A 429 whose body the guard cannot read is still a rate limit: the SDK's own error, after its retries."""
    fake_server.enqueue(*[Reply(status=429, compress="br", headers={"retry-after-ms": "1"})] * 3)
    client = make_client(max_retries=2)
    with pytest.raises(openai.RateLimitError) as info:
        await create(client, model="gpt-4o", messages=user("hi"))
    assert info.value.status_code == 429 and fake_server.request_count() == 3


async def test_the_anthropic_client_raises_the_same_error(fake_server: FakeLLMServer, sync: bool) -> None:
    """Under an anthropic client the error is an ``anthropic.AnthropicError`` and still ours, by its own name."""
    import anthropic

    from deepsentinel.anthropic_clients import AsyncSentinelAnthropic, SentinelAnthropic

    fake_server.enqueue(Reply(text="Quiet words.", compress="zstd"), Reply(text=f"card {CARD}", compress="gzip"))
    client = (SentinelAnthropic if sync else AsyncSentinelAnthropic)(
        api_key="k", base_url=fake_server.anthropic_base_url, audit=False, max_retries=0)
    ask: dict[str, Any] = {"model": "claude-haiku-4-5", "max_tokens": 64, "messages": user("hi")}

    async def call() -> Any:
        result = client.messages.create(**ask)
        return await result if hasattr(result, "__await__") else result

    with pytest.raises(UnreadableResponseError) as info:
        await call()
    assert isinstance(info.value, anthropic.AnthropicError)
    with pytest.raises(ComplianceViolationError):
        await call()
    closed = client.close()
    if closed is not None:
        await closed


@pytest.mark.parametrize("lines", [
    [(b"content-type", b"application/json"), (b"content-type", b"text/event-stream")],
    [(b"Content-Type", b""), (b"content-type", b"audio/mpeg")],
], ids=["json-then-events", "empty-then-audio"])
def test_repeated_content_types_are_read_together(lines: list[tuple[bytes, bytes]]) -> None:
    """Two Content-Type lines read as httpx joins them: a later line cannot make an answer skip the guard."""
    import httpx2

    from deepsentinel import protect

    def event(text: str) -> bytes:
        chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
                 "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
        return b"data: " + json.dumps(chunk).encode() + b"\n\n"

    streamed = lines[1][1] == b"text/event-stream"
    body = (event(CARD[:9]) + event(CARD[9:]) + b"data: [DONE]\n\n" if streamed else json.dumps(
        {"id": "c", "object": "chat.completion", "created": 1, "model": "gpt-4o", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": f"key {CARD}"}, "finish_reason": "stop"}]}).encode())
    upstream = httpx2.Client(transport=httpx2.MockTransport(lambda r: httpx2.Response(200, headers=lines, content=body)))
    client = protect(openai.OpenAI(api_key="sk", base_url="http://upstream.test/v1", max_retries=0,
                                   http_client=upstream), audit=False)
    with client, pytest.raises((ComplianceViolationError, openai.APIError)):
        answer = client.chat.completions.create(model="gpt-4o", messages=user("hi"), stream=streamed)
        if streamed:
            for _ in answer:
                pass
        else:
            assert CARD not in (answer.choices[0].message.content or "")


def test_an_answer_is_media_only_when_every_content_type_line_says_so() -> None:
    """``audio/mpeg`` then ``application/json``: not media, so the JSON is checked (an earlier media line once let
    the answer through unread)."""
    import httpx2

    from deepsentinel import protect

    body = json.dumps({"id": "c", "object": "chat.completion", "created": 1, "model": "gpt-4o", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": f"key {CARD}"}, "finish_reason": "stop"}]}).encode()
    lines = [(b"content-type", b"audio/mpeg"), (b"content-type", b"application/json")]
    upstream = httpx2.Client(transport=httpx2.MockTransport(lambda r: httpx2.Response(200, headers=lines, content=body)))
    client = protect(openai.OpenAI(api_key="sk", base_url="http://upstream.test/v1", max_retries=0,
                                   http_client=upstream), audit=False)
    with client, pytest.raises(ComplianceViolationError):
        client.chat.completions.create(model="gpt-4o", messages=user("hi"))
