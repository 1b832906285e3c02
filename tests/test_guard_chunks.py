"""ChunkGuard over OpenAI chunks, and guard_completion over whole completions."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessage
from openai.types.chat.chat_completion import Choice as FullChoice
from openai.types.chat.chat_completion_chunk import (
    Choice,
    ChoiceDelta,
    ChoiceDeltaToolCall,
    ChoiceDeltaToolCallFunction,
    ChoiceLogprobs,
)
from openai.types.chat.chat_completion_message_function_tool_call import (
    ChatCompletionMessageFunctionToolCall,
    Function,
)
from openai.types.chat.chat_completion_token_logprob import ChatCompletionTokenLogprob
from openai.types.completion_usage import CompletionUsage

from deepsentinel.detection.anonymizer import Anonymizer
from deepsentinel.detection.engine import DetectionEngine
from deepsentinel.detection.findings import Category
from deepsentinel.detection.vault import Vault
from deepsentinel.errors import ComplianceViolationError
from deepsentinel.guard.chunk_guard import ChunkGuard, GuardedChunks
from deepsentinel.guard.completion_guard import guard_completion
from deepsentinel.policy.actions import Action
from deepsentinel.policy.policy import DEFAULT_POLICY, CompliancePolicy
from tests.test_guard_stream import documents, reference

ENGINE = DetectionEngine()
CARD = "4111 1111 1111 1111"
EMAIL = "jane@example.com"


def anonymize_all(strategy: str = "placeholder", **actions: Action) -> CompliancePolicy:
    chosen = {c: actions.get(c.name, Action.ANONYMIZE) for c in Category}
    return CompliancePolicy(name="anon", category_actions=chosen, anonymization_strategy=strategy)  # type: ignore[arg-type]


def chunk(*choices: Choice, usage: CompletionUsage | None = None) -> ChatCompletionChunk:
    return ChatCompletionChunk(
        id="chatcmpl-1", object="chat.completion.chunk", created=1, model="m", choices=list(choices), usage=usage,
        system_fingerprint="fp",
    )


def choice(index: int = 0, finish: Any = None, logprobs: ChoiceLogprobs | None = None, **delta: Any) -> Choice:
    return Choice(index=index, delta=ChoiceDelta(**delta), finish_reason=finish, logprobs=logprobs)


def tool(index: int, args: str | None = None, id: str | None = None, name: str | None = None) -> ChoiceDeltaToolCall:
    return ChoiceDeltaToolCall(
        index=index, id=id, type="function" if id else None, function=ChoiceDeltaToolCallFunction(arguments=args, name=name)
    )


def run(guard: ChunkGuard, chunks: list[ChatCompletionChunk]) -> tuple[list[ChatCompletionChunk], ComplianceViolationError | None]:
    out: list[ChatCompletionChunk] = []
    for c in chunks:
        r = guard.process(c)
        out.extend(r.chunks)
        if r.error is not None:
            return out, r.error
    r = guard.finish()
    out.extend(r.chunks)
    return out, r.error


def content_of(chunks: list[ChatCompletionChunk], index: int = 0, field: str = "content") -> str:
    return "".join(
        getattr(c.delta, field) or "" for ch in chunks for c in ch.choices if c.index == index
    )


def text_stream(text: str, size: int, index: int = 0) -> list[ChatCompletionChunk]:
    return [chunk(choice(index, content=text[i : i + size])) for i in range(0, len(text), size)]


def test_card_split_across_chunks_blocks_with_only_the_safe_prefix_shown() -> None:
    """The safe prefix is yielded, then an error naming type, location and offsets, never the digits."""
    guard = ChunkGuard(ENGINE, [DEFAULT_POLICY])
    chunks = [chunk(choice(role="assistant", content=""))] + [
        chunk(choice(content=d)) for d in ["Your card: 4111 11", "11 1111", " 1111 1111", " ok"]
    ]
    out, error = run(guard, chunks)
    assert content_of(out) == "Your card: "
    assert out[0].choices[0].delta.role == "assistant"
    assert isinstance(error, ComplianceViolationError)
    assert str(error) == "Response blocked by policy 'default': CREDIT_CARD in choices[0].delta.content at [11:30]"
    assert error.direction == "response" and error.policy == "default"
    assert [v.type for v in error.violations] == ["CREDIT_CARD"]
    assert "1111" not in repr(error) and "1111" not in str(error)
    again = guard.process(chunk(choice(content="more")))
    assert again == GuardedChunks((), error)
    assert [v.type for v in guard.violations] == ["CREDIT_CARD"]


def test_anonymized_stream_keeps_role_first_and_finish_reason_last() -> None:
    """Text is rewritten in-stream; role comes first, the finish_reason comes after every character."""
    text = f"Write to {EMAIL} today, card {CARD} ok"
    guard = ChunkGuard(ENGINE, [anonymize_all()])
    chunks = [chunk(choice(role="assistant", content="")), *text_stream(text, 1), chunk(choice(finish="stop"))]
    out, error = run(guard, chunks)
    assert error is None
    assert content_of(out) == "Write to <EMAIL_1> today, card <CREDIT_CARD_1> ok"
    assert out[0].choices[0].delta.role == "assistant"
    assert out[-1].choices[0].finish_reason == "stop" and not out[-1].choices[0].delta.content
    assert all(c.choices for c in out)
    assert all(c.choices[0].finish_reason is None for c in out[:-1])
    assert guard.chunks_seen == len(chunks)
    assert [v.location for v in guard.violations] == ["choices[0].delta.content"] * 2


def test_chunks_with_only_held_text_are_dropped_and_others_pass_unchanged() -> None:
    """A chunk whose text is all held and that carries nothing else is not yielded; plain prose passes as is."""
    guard = ChunkGuard(ENGINE, [DEFAULT_POLICY])
    first = chunk(choice(content="Hello there! "))
    assert guard.process(first).chunks == (first,)
    assert guard.process(chunk(choice(content="wor"))).chunks == ()
    (released,) = guard.process(chunk(choice(content="ld! "))).chunks
    assert released.choices[0].delta.content == "world! "
    assert released.id == "chatcmpl-1" and released.system_fingerprint == "fp"


def test_n_greater_than_one_keeps_one_guard_per_choice() -> None:
    """Interleaved choices are guarded separately; offsets and locations are per choice."""
    a, b = f"A: mail {EMAIL} end", f"B: the card {CARD} end"
    chunks = []
    for i in range(0, max(len(a), len(b)), 3):
        chunks.append(chunk(choice(0, content=a[i : i + 3]), choice(1, content=b[i : i + 3])))
    chunks.append(chunk(choice(0, finish="stop"), choice(1, finish="length")))
    guard = ChunkGuard(ENGINE, [anonymize_all("redact")])
    out, error = run(guard, chunks)
    assert error is None
    assert content_of(out, 0) == "A: mail [EMAIL_ADDRESS] end"
    assert content_of(out, 1) == "B: the card [CREDIT_CARD] end"
    assert {(v.location, v.start) for v in guard.violations} == {
        ("choices[0].delta.content", 8), ("choices[1].delta.content", 12),
    }
    finishes = [(c.index, c.finish_reason) for ch in out for c in ch.choices if c.finish_reason]
    assert finishes == [(0, "stop"), (1, "length")]
    last_text = max(i for i, ch in enumerate(out) for c in ch.choices if c.delta.content)
    assert all(c.finish_reason is None for ch in out[: last_text + 1] for c in ch.choices)


def test_tool_call_arguments_are_guarded_per_tool_call() -> None:
    """Each tool call's argument deltas have their own guard; ids and names pass through first."""
    args0 = '{"to": "' + EMAIL + '", "body": "hi"}'
    args1 = '{"card": "' + CARD + '"}'
    chunks = [chunk(choice(role="assistant", tool_calls=[tool(0, "", id="call_a", name="send")]))]
    chunks += [chunk(choice(tool_calls=[tool(0, args0[i : i + 4])])) for i in range(0, len(args0), 4)]
    chunks.append(chunk(choice(tool_calls=[tool(1, "", id="call_b", name="pay")])))
    chunks += [chunk(choice(tool_calls=[tool(1, args1[i : i + 5])])) for i in range(0, len(args1), 5)]
    chunks.append(chunk(choice(finish="tool_calls")))
    guard = ChunkGuard(ENGINE, [anonymize_all("mask")])
    out, error = run(guard, chunks)
    assert error is None
    args: dict[int, str] = {}
    names = []
    for ch in out:
        for tc in ch.choices[0].delta.tool_calls or ():
            args[tc.index] = args.get(tc.index, "") + (tc.function.arguments or "" if tc.function else "")
            if tc.function and tc.function.name:
                names.append((tc.index, tc.id, tc.function.name))
    assert args == {0: '{"to": "j***@*******.com", "body": "hi"}', 1: '{"card": "**** **** **** 1111"}'}
    assert names == [(0, "call_a", "send"), (1, "call_b", "pay")]
    assert {v.location for v in guard.violations} == {
        "choices[0].delta.tool_calls[0].function.arguments", "choices[0].delta.tool_calls[1].function.arguments",
    }
    assert out[-1].choices[0].finish_reason == "tool_calls"


def test_refusal_text_is_guarded() -> None:
    """Refusal deltas are checked like content."""
    text = f"I cannot share {EMAIL}."
    guard = ChunkGuard(ENGINE, [anonymize_all("redact")])
    out, _ = run(guard, [chunk(choice(refusal=text[i : i + 2])) for i in range(0, len(text), 2)])
    assert content_of(out, field="refusal") == "I cannot share [EMAIL_ADDRESS]."
    assert guard.violations[0].location == "choices[0].delta.refusal"


def test_usage_chunk_passes_through_and_held_text_goes_before_finish() -> None:
    """The include_usage chunk (no choices) is yielded unchanged, after the released tail and the finish."""
    usage = CompletionUsage(prompt_tokens=3, completion_tokens=4, total_tokens=7)
    guard = ChunkGuard(ENGINE, [DEFAULT_POLICY])
    usage_chunk = chunk(usage=usage)
    out, error = run(guard, [chunk(choice(content="Total 42")), chunk(choice(finish="stop")), usage_chunk])
    assert error is None
    assert content_of(out) == "Total 42"
    assert [c.choices[0].delta.content for c in out[:2]] == ["Total ", "42"]
    assert [c.choices[0].finish_reason if c.choices else "usage" for c in out] == [None, None, "stop", "usage"]
    assert out[-1] is usage_chunk


def test_finish_releases_held_text_when_no_finish_reason_came() -> None:
    """At the end of the stream (even a broken one), the held tail is checked and released."""
    guard = ChunkGuard(ENGINE, [DEFAULT_POLICY])
    out, error = run(guard, [chunk(choice(content="Order 12"))])
    assert error is None and content_of(out) == "Order 12"
    assert guard.finish() == GuardedChunks()


def test_finish_blocks_a_tail_that_turns_out_to_be_a_card() -> None:
    """A card at the very end of a stream is blocked at finish, never released."""
    guard = ChunkGuard(ENGINE, [DEFAULT_POLICY])
    out, error = run(guard, [chunk(choice(content="pay " + CARD))])
    assert content_of(out) == "pay " and error is not None and "CREDIT_CARD" in str(error)


def test_logprobs_are_kept_for_untouched_text_and_dropped_for_held_text() -> None:
    """Token strings of held or rewritten text never reach the caller."""
    def lp(token: str) -> ChoiceLogprobs:
        return ChoiceLogprobs(content=[ChatCompletionTokenLogprob(token=token, logprob=-0.1, top_logprobs=[])])

    guard = ChunkGuard(ENGINE, [DEFAULT_POLICY])
    (kept,) = guard.process(chunk(choice(content="Hi! ", logprobs=lp("Hi! ")))).chunks
    assert kept.choices[0].logprobs is not None
    assert guard.process(chunk(choice(content="4111", logprobs=lp("4111")))).chunks == ()
    out = guard.process(chunk(choice(content=" x ", logprobs=lp(" x ")))).chunks
    assert all(c.choices[0].logprobs is None for c in out)


def test_deanonymize_restores_placeholders_split_across_chunks_but_not_hidden_model_values() -> None:
    """Echoed placeholders are restored for the caller; values the guard hides stay hidden."""
    vault = Vault()
    Anonymizer("placeholder", vault=vault).replace(EMAIL, "EMAIL_ADDRESS")  # the request side
    guard = ChunkGuard(ENGINE, [anonymize_all()], anonymizer=Anonymizer("placeholder", vault=vault), vault=vault)
    pieces = ["I wrote to <EMA", "IL_", "1", ">, and to other", "@example.com too", " <EMAIL_2>."]
    out, error = run(guard, [chunk(choice(content=p)) for p in pieces])
    assert error is None
    assert content_of(out) == f"I wrote to {EMAIL}, and to <EMAIL_2> too <EMAIL_2>."
    assert "other@example.com" not in content_of(out)


@settings(max_examples=100, deadline=None)
@given(doc=documents(), sizes=st.lists(st.integers(1, 9), min_size=1, max_size=20))
def test_chunk_stream_equals_whole_text_anonymization(doc: tuple[str, list[str]], sizes: list[int]) -> None:
    """Any split into chunks: the caller's text equals the non-streamed anonymization (or its safe prefix)."""
    text, _ = doc
    policies = [anonymize_all("redact", PCI=Action.BLOCK)]
    chunks, pos, i = [], 0, 0
    while pos < len(text):
        chunks.append(chunk(choice(content=text[pos : pos + sizes[i % len(sizes)]])))
        pos, i = pos + sizes[i % len(sizes)], i + 1
    chunks.append(chunk(choice(finish="stop")))
    out, error = run(ChunkGuard(ENGINE, policies), chunks)
    assert content_of(out) == reference(text, policies, Anonymizer("redact"))
    finished = [c.finish_reason for ch in out for c in ch.choices if c.finish_reason]
    assert (error is None) == (finished == ["stop"])
    assert all(c.choices for c in out)


def completion(content: str | None = None, refusal: str | None = None, args: str | None = None) -> ChatCompletion:
    calls = [ChatCompletionMessageFunctionToolCall(id="c", type="function", function=Function(name="f", arguments=args))] if args else None
    message = ChatCompletionMessage(role="assistant", content=content, refusal=refusal, tool_calls=calls)
    return ChatCompletion(
        id="x", object="chat.completion", created=1, model="m",
        choices=[FullChoice(index=0, message=message, finish_reason="stop")],
    )


def test_guard_completion_anonymizes_every_text() -> None:
    """Content, refusal and tool arguments are all checked and rewritten; the decision lists each."""
    checked, decision = guard_completion(
        completion(f"mail {EMAIL}", f"no {EMAIL}", '{"to": "' + EMAIL + '"}'), ENGINE, [anonymize_all("redact")]
    )
    message = checked.choices[0].message
    assert message.content == "mail [EMAIL_ADDRESS]" and message.refusal == "no [EMAIL_ADDRESS]"
    assert message.tool_calls[0].function.arguments == '{"to": "[EMAIL_ADDRESS]"}'  # type: ignore[union-attr]
    assert decision.action is Action.ANONYMIZE
    assert [v.location for v in decision.violations] == [
        "choices[0].message.content", "choices[0].message.refusal", "choices[0].message.tool_calls[0].function.arguments",
    ]


def test_guard_completion_block_raises_nothing_and_hides_the_value() -> None:
    """A block is reported in the decision; the value is redacted even if the caller forgets to raise."""
    checked, decision = guard_completion(completion(f"card {CARD}"), ENGINE, [DEFAULT_POLICY])
    assert decision.blocked and checked.choices[0].message.content == "card [CREDIT_CARD]"


@pytest.mark.parametrize("strategy", ["placeholder", "hash"])
def test_guard_completion_restores_vault_tokens(strategy: str) -> None:
    """Placeholders the model echoes are restored for the caller."""
    vault = Vault()
    token = Anonymizer(strategy, vault=vault).replace(EMAIL, "EMAIL_ADDRESS")  # type: ignore[arg-type]
    checked, decision = guard_completion(completion(f"Hello {token}!"), ENGINE, [DEFAULT_POLICY], vault=vault)
    assert checked.choices[0].message.content == f"Hello {EMAIL}!" and not decision.violations


@settings(max_examples=60, deadline=None)
@given(a=documents(), b=documents(), sizes=st.lists(st.integers(1, 7), min_size=1, max_size=10))
def test_two_choices_content_and_tool_arguments_any_split(
    a: tuple[str, list[str]], b: tuple[str, list[str]], sizes: list[int]
) -> None:
    """Choice 0 streams content, choice 1 a tool call's arguments, interleaved: each equals its reference."""
    (text_a, _), (text_b, _) = a, b
    policies = [anonymize_all("redact")]
    chunks = [chunk(choice(0, role="assistant", content=""), choice(1, role="assistant", tool_calls=[tool(0, "", id="t", name="f")]))]
    pa = pb = i = 0
    while pa < len(text_a) or pb < len(text_b):
        size = sizes[i % len(sizes)]
        parts = []
        if pa < len(text_a):
            parts.append(choice(0, content=text_a[pa : pa + size]))
        if pb < len(text_b):
            parts.append(choice(1, tool_calls=[tool(0, text_b[pb : pb + size])]))
        chunks.append(chunk(*parts))
        pa, pb, i = pa + size, pb + size, i + 1
    chunks.append(chunk(choice(0, finish="stop"), choice(1, finish="tool_calls")))
    out, error = run(ChunkGuard(ENGINE, policies), chunks)
    assert error is None
    args = "".join(
        tc.function.arguments or "" for ch in out for c in ch.choices if c.index == 1
        for tc in c.delta.tool_calls or () if tc.function
    )
    assert content_of(out, 0) == reference(text_a, policies, Anonymizer("redact"))
    assert args == reference(text_b, policies, Anonymizer("redact"))
    assert [c.finish_reason for c in out[-1].choices] == ["stop", "tool_calls"]
    assert all(c.finish_reason is None for ch in out[:-1] for c in ch.choices)


def test_one_value_gets_one_placeholder_in_every_field_of_a_response() -> None:
    """Content and tool arguments share the response's placeholder numbering."""
    chunks = [
        chunk(choice(content=f"Sending to {EMAIL} and x@y.org. ", tool_calls=[tool(0, '{"to": "' + EMAIL + '"}', id="t", name="f")])),
        chunk(choice(finish="tool_calls")),
    ]
    out, _ = run(ChunkGuard(ENGINE, [anonymize_all()]), chunks)
    args = "".join(tc.function.arguments or "" for ch in out for tc in ch.choices[0].delta.tool_calls or () if tc.function)
    assert content_of(out) == "Sending to <EMAIL_1> and <EMAIL_2>. "
    assert args == '{"to": "<EMAIL_1>"}'


def test_guard_completion_skips_policies_that_do_not_check_responses() -> None:
    """A request-only policy does not judge responses."""
    quiet = CompliancePolicy(name="requests-only", check_responses=False)
    checked, decision = guard_completion(completion(f"card {CARD}"), ENGINE, [quiet])
    assert checked.choices[0].message.content == f"card {CARD}" and not decision.violations


def test_anonymizer_factory_is_used_and_guard_tokens_never_enter_the_vault() -> None:
    """The client's factory picks the anonymizer; what the guard hides in responses is not restorable."""
    vault = Vault()
    calls: list[str] = []

    def factory(violations: Any) -> Anonymizer:
        calls.append(violations[0].policy)
        return Anonymizer("placeholder", key=b"k" * 32, vault=vault)

    guard = ChunkGuard(ENGINE, [anonymize_all()], anonymizer_factory=factory, vault=vault)
    out, error = run(guard, text_stream(f"a {EMAIL} b x@y.org c ", 4))
    assert error is None and content_of(out) == "a <EMAIL_1> b <EMAIL_2> c "
    assert calls == ["anon"] and len(vault) == 0
    assert vault.deanonymize("<EMAIL_1>") == "<EMAIL_1>"
