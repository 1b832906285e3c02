"""Detection and stream guard cases found in review: odd input, odd splits, odd stream endings."""

from __future__ import annotations

import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessage
from openai.types.chat.chat_completion import Choice as FullChoice
from openai.types.chat.chat_completion import ChoiceLogprobs
from openai.types.chat.chat_completion_chunk import Choice, ChoiceDelta
from openai.types.chat.chat_completion_token_logprob import ChatCompletionTokenLogprob

from deepsentinel.audit.events import MemorySink
from deepsentinel.calls import CallRecord
from deepsentinel.core import PreparedTarget
from deepsentinel.detection.engine import DetectionEngine
from deepsentinel.detection.findings import Category
from deepsentinel.errors import ComplianceViolationError, StreamDisconnectedError
from deepsentinel.guard.chunk_guard import ChunkGuard
from deepsentinel.guard.completion_guard import guard_completion
from deepsentinel.guard.stream_guard import StreamGuard
from deepsentinel.policy.actions import Action
from deepsentinel.policy.policy import DEFAULT_POLICY, CompliancePolicy
from deepsentinel.providers.base import ChatRequest
from deepsentinel.providers.openai import OpenAIAdapter
from deepsentinel.providers.retry import RetryPolicy
from deepsentinel.providers.routing import Target
from deepsentinel.streaming import StreamSession

ENGINE = DetectionEngine(cache_size=0)
CARD = "4111 1111 1111 1111"
REDACT = CompliancePolicy(
    name="redact", category_actions={c: Action.ANONYMIZE for c in Category}, anonymization_strategy="redact"
)


def test_lone_surrogates_neither_crash_the_scan_nor_hide_a_value() -> None:
    """A lone surrogate (a JSON "\\ud83d" escape) is dropped like an invisible character, not an encoding error."""
    hidden = "4111\ud800" + "1111" * 3
    assert ENGINE.scan(f"card {hidden} \ud83d").types() == ["CREDIT_CARD"]
    assert 0 <= ENGINE.safe_boundary("hi \udc00 4111 1111") <= len("hi \udc00 4111 1111")
    guard = StreamGuard(ENGINE, [DEFAULT_POLICY])
    shown = guard.feed("hi \ud83d").text
    result = guard.feed("\ude00 card " + hidden + " ok")
    assert result.blocked and "1111" not in shown + result.text


def test_an_earlier_unterminated_private_key_is_held_until_an_end_line_arrives() -> None:
    """Two BEGIN lines and no END yet: the first block reaches up to the next END line, so it is not final."""
    first = "-----BEGIN PRIVATE KEY-----\nMIIEow" + "A" * 30
    second = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow" + "A" * 60 + "\n-----END RSA PRIVATE KEY-----"
    doc = f"SSN {first}<SSN {second}"
    whole = [(f.type, f.start, f.end) for f in ENGINE.scan(doc).findings]
    for cut in range(len(doc) + 1):
        prefix = doc[:cut]
        k = ENGINE.safe_boundary(prefix)
        before = [(f.type, f.start, f.end) for f in ENGINE.scan(prefix).findings if f.start < k]
        assert before == [f for f in whole if f[1] < k], cut
        assert all(end <= k for _, _, end in before)


def _chunk(content: str | None = None, finish: str | None = None) -> ChatCompletionChunk:
    choice = Choice(index=0, delta=ChoiceDelta(content=content), finish_reason=finish)  # type: ignore[arg-type]
    return ChatCompletionChunk(id="c", object="chat.completion.chunk", created=1, model="m", choices=[choice])


def _text(guard: ChunkGuard, chunks: list[ChatCompletionChunk]) -> tuple[str, ComplianceViolationError | None]:
    shown: list[str] = []
    outs = [guard.process(c) for c in chunks] + [guard.finish()]
    for out in outs:
        shown += [c.delta.content or "" for chunk in out.chunks for c in chunk.choices]
        if out.error is not None:
            return "".join(shown), out.error
    return "".join(shown), None


@pytest.mark.parametrize("same_chunk", [True, False])
def test_a_value_split_across_finish_reason_is_still_caught(same_chunk: bool) -> None:
    """Text a provider sends after a choice's finish_reason is checked with the released tail in view."""
    head = [_chunk("card 4111 1111", finish="stop")] if same_chunk else [_chunk("card 4111 1111"), _chunk(finish="stop")]
    shown, error = _text(ChunkGuard(ENGINE, [DEFAULT_POLICY]), [*head, _chunk(" 1111 1111 ok")])
    assert isinstance(error, ComplianceViolationError) and error.violations[0].type == "CREDIT_CARD"
    assert "4111 1111 1111" not in shown
    shown, error = _text(ChunkGuard(ENGINE, [REDACT]), [*head, _chunk(" 1111 1111 ok")])
    assert error is None and "4111 1111 1111" not in shown and shown.endswith("[CREDIT_CARD] ok")


def test_a_finished_choice_emits_nothing_more_at_the_end() -> None:
    """A choice flushed at its finish_reason adds no empty chunk when the stream ends."""
    guard = ChunkGuard(ENGINE, [DEFAULT_POLICY])
    guard.process(_chunk("hello there"))
    guard.process(_chunk(finish="stop"))
    assert guard.finish().chunks == ()


def _session() -> StreamSession:
    call = CallRecord(MemorySink(), b"k" * 32, "chat.completions", "openai", "gpt-4o", streamed=True)
    adapter = OpenAIAdapter("key", "http://127.0.0.1:9/v1")
    request = ChatRequest("gpt-4o", [{"role": "user", "content": "hi"}], stream=True)
    target = PreparedTarget(Target("openai", "gpt-4o"), adapter, request, adapter.build_chat_request(request),
                            RetryPolicy(max_retries=0))
    return StreamSession(target, lambda: ChunkGuard(ENGINE, [DEFAULT_POLICY]), call, include_usage=False)


def test_a_stream_ending_without_its_done_marker_drops_the_held_tail() -> None:
    """An upstream that stops cleanly but early is a disconnect: the half-sent value it held is never shown."""
    s = _session()
    shown = [c.choices[0].delta.content for c in s.on_event("", _chunk("see " + CARD[:14]).model_dump_json()).chunks]
    out = s.on_end()
    assert isinstance(out.error, StreamDisconnectedError)
    assert out.chunks == () and "4111 1111" not in "".join(t or "" for t in shown)
    s.end(out.error)


def test_a_stream_ending_with_its_done_marker_releases_the_checked_tail() -> None:
    """With the end marker, the held tail gets its last check and is released."""
    s = _session()
    first = s.on_event("", _chunk("see you at noon").model_dump_json()).chunks
    s.on_event("", "[DONE]")
    out = s.on_end()
    assert out.error is None and out.chunks
    assert "".join(c.choices[0].delta.content or "" for c in first + out.chunks) == "see you at noon"
    s.end()


@pytest.mark.parametrize(
    "doc",
    ["password: abc\u2028defghi ok", "see https://admin:pa\u2028ssword@db.example.com ok", "password: abc\x1fdefghi ok"],
)
def test_a_unicode_line_separator_inside_a_secret_does_not_end_the_held_token(doc: str) -> None:
    """A secret's value may hold any non-ASCII-space character; the guard holds all of it, not just the start."""
    guard = StreamGuard(ENGINE, [REDACT])
    out = "".join(guard.feed(ch).text for ch in doc) + guard.flush().text
    assert out.endswith("] ok") and "abc" not in out and "admin" not in out


@pytest.mark.parametrize("header", ["-----BEGIN PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----\n"])
def test_repeated_private_key_headers_scan_in_linear_time(header: str) -> None:
    """400 KB of BEGIN lines took seconds (each header looked 12 000 characters ahead for an END line)."""
    import time

    text = header * (400_000 // len(header))
    started = time.perf_counter()
    assert ENGINE.scan(text).types() == ["PRIVATE_KEY"]
    ENGINE.safe_boundary(text)
    assert time.perf_counter() - started < 2.0  # about 60 ms locally; the bound only catches blow-ups


def _completion(tokens: list[str]) -> ChatCompletion:
    logprobs = ChoiceLogprobs(content=[
        ChatCompletionTokenLogprob(token=t, logprob=-0.1, bytes=list(t.encode()), top_logprobs=[]) for t in tokens
    ])
    message = ChatCompletionMessage(role="assistant", content="".join(tokens))
    choice = FullChoice(index=0, finish_reason="stop", message=message, logprobs=logprobs)
    return ChatCompletion(id="c", object="chat.completion", created=1, model="m", choices=[choice])


def test_an_anonymized_completion_drops_the_logprobs_that_spell_the_value() -> None:
    """Non-streamed, as streamed: a rewritten choice keeps no logprobs; an untouched one keeps them."""
    checked, decision = guard_completion(_completion(["Card ", "4111", " 1111", " 1111", " 1111", "."]), ENGINE, [REDACT])
    assert decision.action is Action.ANONYMIZE and checked.choices[0].message.content == "Card [CREDIT_CARD]."
    assert "1111" not in checked.model_dump_json()
    untouched, _ = guard_completion(_completion(["Hello", " there"]), ENGINE, [REDACT])
    assert untouched.choices[0].logprobs is not None


@pytest.mark.parametrize(
    ("pattern", "doc"),
    [(r"K\d{6}\x20[a-z]{3}", "id K123456 xyz ok"), (r"K\d{6}\D[a-z]{3}", "id K123456 xyz ok"),
     (r"K\d{6}\t[a-z]{3}", "id K123456\txyz ok")],
)
def test_a_custom_pattern_that_spans_whitespace_through_an_escape_is_held_whole(pattern: str, doc: str) -> None:
    """\\x20, \\D or \\t let a custom entity span a space: its first word is held until the entity is decided."""
    engine = DetectionEngine(custom_patterns={"badge": pattern}, cache_size=0)
    guard = StreamGuard(engine, [DEFAULT_POLICY])
    shown = ""
    for ch in doc:
        result = guard.feed(ch)
        shown += result.text
        if result.blocked:
            break
    else:
        shown += guard.flush().text
    assert guard.blocked and "K123" not in shown


def test_escaped_punctuation_does_not_make_a_custom_pattern_free_form() -> None:
    """``EMP\\.\\d{6}`` cannot span a space, so prose around it is not held back by the pattern's length."""
    engine = DetectionEngine(custom_patterns={"badge": r"EMP\.\d{6}", "ref": r"X\-\d+"}, cache_size=0)
    text = "the badge was checked at the door and"
    assert text[engine.safe_boundary(text):] == "and"


@pytest.mark.parametrize("mark", ["\u0332", "\u0301", "\u0336", "\u20dd"])
def test_combining_marks_on_the_digits_do_not_hide_a_card(mark: str) -> None:
    """An underlined or struck-through card number is still a card number, and its redaction removes the digits."""
    text = "pay with " + mark.join("4111111111111111") + mark + " today"
    (finding,) = ENGINE.scan(text).findings
    assert finding.type == "CREDIT_CARD"
    assert not any(ch.isdigit() for ch in text[: finding.start] + text[finding.end :])


def _extra_chunk(finish: str | None = None, **delta: str) -> ChatCompletionChunk:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return ChatCompletionChunk.model_validate(
        {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [choice]}
    )


def test_reasoning_text_outside_the_schema_is_guarded_in_a_stream() -> None:
    """``reasoning_content`` (OpenAI-compatible reasoning servers) is model text: blocked or anonymized too."""
    chunks = [_extra_chunk(reasoning_content="the card is 4111 "), _extra_chunk(reasoning_content="1111 1111 1111 ok"),
              _extra_chunk(content="Done."), _extra_chunk(finish="stop")]
    guard = ChunkGuard(ENGINE, [DEFAULT_POLICY])
    outs = [guard.process(c) for c in chunks[:2]]
    assert outs[-1].error is not None and outs[-1].error.violations[0].location == "choices[0].delta.reasoning_content"
    assert "1111" not in "".join(c.model_dump_json() for o in outs for c in o.chunks)
    guard = ChunkGuard(ENGINE, [REDACT])
    outs = [guard.process(c) for c in chunks] + [guard.finish()]
    shown = "".join((c.choices[0].delta.model_extra or {}).get("reasoning_content", "") for o in outs for c in o.chunks)
    assert shown == "the card is [CREDIT_CARD] ok"


def test_reasoning_text_outside_the_schema_is_guarded_in_a_completion() -> None:
    """The same field on a whole completion's message is checked and rewritten."""
    message = {"role": "assistant", "content": "ok", "reasoning_content": "card " + CARD}
    completion = ChatCompletion.model_validate({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
                                                "choices": [{"index": 0, "finish_reason": "stop", "message": message}]})
    checked, decision = guard_completion(completion, ENGINE, [DEFAULT_POLICY])
    assert decision.blocked and decision.violations[0].location == "choices[0].message.reasoning_content"
    assert CARD not in checked.model_dump_json()
