"""The event guard under any chunking: chat deltas, Responses text deltas, Anthropic text and input_json deltas.

For each API, a text is cut into arbitrary pieces and sent as that API's events. Safe text comes out whole and
unchanged; text carrying a card number is cut before the number shows, whatever the split; and for the
Responses API the final snapshot agrees with what was streamed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepsentinel.detection.engine import default_engine
from deepsentinel.errors import ComplianceViolationError
from deepsentinel.policy.policy import DEFAULT_POLICY
from deepsentinel.wire.event_guard import EventGuard
from deepsentinel.wire.guard import WireGuard
from deepsentinel.wire.sse import Event, SSEDecoder

CARD = "4111 1111 1111 " + "1111"
SAFE = "The quarterly review covers 3 topics, version 2.1 and the plan for next year. Thanks!"
GUARD = WireGuard([DEFAULT_POLICY], default_engine())


def _chat(pieces: list[str]) -> list[Event]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> Event:
        payload = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return Event("", json.dumps(payload))

    return [chunk({"role": "assistant", "content": ""}), *(chunk({"content": p}) for p in pieces),
            chunk({}, "stop"), Event("", "[DONE]")]


def _chat_audio(pieces: list[str]) -> list[Event]:
    """Audio output: each chunk has base64 audio and a piece of its transcript."""
    def chunk(delta: dict[str, Any], finish: str | None = None) -> Event:
        payload = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return Event("", json.dumps(payload))

    return [chunk({"role": "assistant"}), *(chunk({"audio": {"id": "au_1", "data": "UklGRg==", "transcript": p}})
                                            for p in pieces), chunk({}, "stop"), Event("", "[DONE]")]


def _responses(pieces: list[str]) -> list[Event]:
    text = "".join(pieces)
    item = {"id": "msg_1", "type": "message", "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}

    def ev(kind: str, **fields: Any) -> Event:
        return Event(kind, json.dumps({"type": kind, **fields}))

    return [
        ev("response.created", response={"id": "r", "output": []}),
        *(ev("response.output_text.delta", item_id="msg_1", output_index=0, content_index=0, delta=p) for p in pieces),
        ev("response.output_text.done", item_id="msg_1", output_index=0, content_index=0, text=text),
        ev("response.content_part.done", item_id="msg_1", output_index=0, content_index=0,
           part={"type": "output_text", "text": text}),
        ev("response.output_item.done", output_index=0, item=item),
        ev("response.completed", response={"id": "r", "output": [item], "usage": {"input_tokens": 1, "output_tokens": 2}}),
    ]


def _responses_tool(delta_type: str, done_field: str | None, item: dict[str, Any] | None, **ids: Any) -> Callable[[list[str]], list[Event]]:
    """A Responses stream of one of the other streamed texts: MCP arguments, interpreter code, a transcript."""
    def build(pieces: list[str]) -> list[Event]:
        text = "".join(pieces)

        def ev(kind: str, **fields: Any) -> Event:
            return Event(kind, json.dumps({"type": kind, **ids, **fields}))

        done = delta_type.removesuffix(".delta") + ".done"
        output = [{**item, done_field: text}] if item is not None and done_field else []
        return [
            Event("response.created", json.dumps({"type": "response.created", "response": {"id": "r", "output": []}})),
            *(ev(delta_type, delta=p, obfuscation="x9") for p in pieces),
            ev(done, **({done_field: text} if done_field else {})),
            Event("response.completed", json.dumps({"type": "response.completed", "response": {"id": "r", "output": output}})),
        ]
    return build


def _anthropic(pieces: list[str], delta_type: str = "text_delta") -> list[Event]:
    field = "text" if delta_type == "text_delta" else "partial_json"
    block = {"type": "text", "text": ""} if delta_type == "text_delta" else {"type": "tool_use", "id": "t", "name": "f", "input": {}}

    def ev(kind: str, **fields: Any) -> Event:
        return Event(kind, json.dumps({"type": kind, **fields}))

    return [
        ev("message_start", message={"id": "m", "content": [], "usage": {"input_tokens": 1, "output_tokens": 0}}),
        ev("content_block_start", index=0, content_block=block),
        *(ev("content_block_delta", index=0, delta={"type": delta_type, field: p}) for p in pieces),
        ev("content_block_stop", index=0),
        ev("message_delta", delta={"stop_reason": "end_turn"}, usage={"output_tokens": 2}),
        ev("message_stop"),
    ]


def _tool_json(pieces: list[str]) -> list[Event]:
    return _anthropic(pieces, "input_json_delta")


APIS: dict[str, tuple[str, Callable[[list[str]], list[Event]]]] = {
    "chat": ("/v1/chat/completions", _chat),
    "chat-audio-transcript": ("/v1/chat/completions", _chat_audio),
    "responses": ("/v1/responses", _responses),
    "responses-mcp-arguments": ("/v1/responses", _responses_tool(
        "response.mcp_call_arguments.delta", "arguments", {"id": "mcp_1", "type": "mcp_call", "name": "f"},
        item_id="mcp_1", output_index=0)),
    "responses-interpreter-code": ("/v1/responses", _responses_tool(
        "response.code_interpreter_call_code.delta", "code", {"id": "ci_1", "type": "code_interpreter_call"},
        item_id="ci_1", output_index=0)),
    "responses-transcript": ("/v1/responses", _responses_tool("response.audio.transcript.delta", None, None)),
    "responses-shell-command": ("/v1/responses", _responses_tool(
        "response.shell_call_command.delta", "command", None, output_index=0, command_index=0)),
    "anthropic-text": ("/v1/messages", _anthropic),
    "anthropic-input-json": ("/v1/messages", _tool_json),
}


def _split(items: list[Any], cuts: list[int]) -> list[list[Any]]:
    bounds = sorted({c % (len(items) + 1) for c in cuts} | {0, len(items)})
    return [items[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def _run(api: str, text: str, cuts: list[int], rows: list[int] | None = None,
         wire: WireGuard = GUARD) -> tuple[str, list[Event], ComplianceViolationError | None]:
    """Stream ``text`` cut at ``cuts`` through the guard, over real SSE bytes; return the text shown.

    ``rows``: the events arrive in groups cut there (a burst read at once) and go through ``feed_many``.
    """
    path, build = APIS[api]
    pieces = ["".join(p) for p in _split(list(text), cuts)]
    check = wire.check_request(path, json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode())
    guard = EventGuard(wire, check)
    decoder = SSEDecoder()
    out: list[Event] = []
    events = build(pieces)
    try:
        if rows is None:
            for event in events:
                for sent in guard.feed(event):
                    out += decoder.feed(sent.encode())
        else:
            for row in _split(events, rows):
                sent_row, error = guard.feed_many(row)
                for sent in sent_row:
                    out += decoder.feed(sent.encode())
                if error is not None:
                    raise error
    except ComplianceViolationError as exc:
        return _shown(guard, out), out, exc
    return _shown(guard, out), out, None


def _shown(guard: EventGuard, events: list[Event]) -> str:
    text = []
    for event in events:
        payload = json.loads(event.data) if event.data.startswith("{") else None
        for _, path in guard.codec.deltas(event, payload):
            node: Any = payload
            for key in path:
                node = node[key]
            text.append(node)
    return "".join(text)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


cuts = st.lists(st.integers(min_value=0, max_value=400), max_size=30)


@pytest.mark.parametrize("api", list(APIS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=cuts)
def test_safe_text_comes_out_whole_however_it_is_split(api: str, cuts: list[int]) -> None:
    text = json.dumps({"note": SAFE}) if api == "anthropic-input-json" else SAFE
    shown, _, error = _run(api, text, cuts)
    assert error is None and shown == text


@pytest.mark.parametrize("api", list(APIS))
@settings(max_examples=60, deadline=None)
@given(cuts=cuts)
def test_a_card_is_cut_before_it_shows_however_it_is_split(api: str, cuts: list[int]) -> None:
    text = json.dumps({"note": f"pay with {CARD} today"}) if api == "anthropic-input-json" else f"Pay with {CARD} today."
    shown, _, error = _run(api, text, cuts)
    assert error is not None and error.direction == "response"
    assert _digits(CARD) not in _digits(shown)


rows = st.lists(st.integers(min_value=0, max_value=60), max_size=8)


@pytest.mark.parametrize("api", list(APIS))
@settings(max_examples=40, deadline=None)
@given(cuts=cuts, rows=rows)
def test_events_read_together_come_out_as_when_read_one_by_one(api: str, cuts: list[int], rows: list[int]) -> None:
    """Safe text: the same text, whatever the burst; a card: cut before it shows, and what preceded it in the
    burst is sent, not dropped."""
    safe = json.dumps({"note": SAFE}) if api == "anthropic-input-json" else SAFE
    shown, _, error = _run(api, safe, cuts, rows)
    assert error is None and shown == safe
    risky = json.dumps({"note": f"pay with {CARD} today"}) if api == "anthropic-input-json" else f"Pay with {CARD} today."
    shown, _, error = _run(api, risky, cuts, rows)
    assert error is not None and error.direction == "response"
    assert _digits(CARD) not in _digits(shown)
    one_by_one, _, _ = _run(api, risky, cuts)
    assert shown.startswith(one_by_one) or one_by_one.startswith(shown)  # the same text, up to where each was cut


@settings(max_examples=40, deadline=None)
@given(cuts=cuts, rows=rows)
def test_anonymized_text_read_in_bursts_matches_its_snapshot(cuts: list[int], rows: list[int]) -> None:
    from deepsentinel.policy.actions import Action
    from deepsentinel.policy.policy import CompliancePolicy

    wire = WireGuard([CompliancePolicy(name="mask", entity_actions={"EMAIL_ADDRESS": Action.ANONYMIZE})], default_engine())
    email = "jane.doe" + "@example.com"
    shown, out, error = _run("responses", f"Write to {email} soon, or call.", cuts, rows, wire)
    assert error is None and email not in shown and shown.startswith("Write to ") and shown.endswith(" soon, or call.")
    done = next(json.loads(e.data) for e in out if e.event == "response.output_text.done")
    completed = next(json.loads(e.data) for e in out if e.event == "response.completed")
    assert done["text"] == shown == completed["response"]["output"][0]["content"][0]["text"]


def test_a_burst_keeps_its_events_and_sends_what_precedes_a_cut() -> None:
    """Ten word events read at once leave as ten events, each with its own word (the word still being written
    waits); a card later in the burst cuts the stream after the words before it, which are sent."""
    check = GUARD.check_request("/v1/chat/completions", b'{"model":"m","messages":[{"role":"user","content":"hi"}]}')
    guard = EventGuard(GUARD, check)
    words = ["Plain", " words", " go", " out", " one", " event", " each", " as", " they", " came"]
    events = _chat(words)
    sent, error = guard.feed_many(events[:-2])  # the role chunk and the ten words
    assert error is None
    texts = [json.loads(e.data)["choices"][0]["delta"].get("content") for e in sent]
    assert texts == ["", *words[:-1], " "]  # "came" may still grow: held
    sent, error = guard.feed_many(_chat([" then", " card", " " + CARD, " end"])[1:-2])
    assert isinstance(error, ComplianceViolationError)
    shown = "".join(json.loads(e.data)["choices"][0]["delta"]["content"] for e in sent)
    assert shown.startswith("came then card") and _digits(CARD) not in _digits(shown)


@settings(max_examples=40, deadline=None)
@given(cuts=cuts)
def test_the_responses_snapshot_agrees_with_the_stream(cuts: list[int]) -> None:
    """Anonymized on the way, the ``.done`` events and the ``response.completed`` snapshot carry what was shown."""
    from deepsentinel.policy.actions import Action
    from deepsentinel.policy.policy import CompliancePolicy

    policy = CompliancePolicy(name="mask", entity_actions={"EMAIL_ADDRESS": Action.ANONYMIZE})
    guard = WireGuard([policy], default_engine())
    email = "jane.doe" + "@example.com"
    text = f"Write to {email} soon."
    bounds = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    pieces = [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
    check = guard.check_request("/v1/responses", b'{"model": "m", "input": "hi"}')
    events = EventGuard(guard, check)
    out = [sent for event in _responses(pieces) for sent in events.feed(event)]
    streamed = "".join(json.loads(e.data)["delta"] for e in out if e.event == "response.output_text.delta")
    done = next(json.loads(e.data) for e in out if e.event == "response.output_text.done")
    completed = next(json.loads(e.data) for e in out if e.event == "response.completed")
    assert email not in streamed and streamed.startswith("Write to ")
    assert done["text"] == streamed
    assert completed["response"]["output"][0]["content"][0]["text"] == streamed


def test_a_value_split_across_the_finish_is_still_caught() -> None:
    """Chat: the last piece arrives in the chunk that carries finish_reason; the held tail is checked with it."""
    check = GUARD.check_request("/v1/chat/completions", b'{"model":"m","messages":[{"role":"user","content":"hi"}]}')
    guard = EventGuard(GUARD, check)
    events = _chat(["card 4111 1111", " 1111 1111"])
    last = json.loads(events[-3].data)
    last["choices"][0]["delta"] = {"content": " 1111 1111"}
    last["choices"][0]["finish_reason"] = "stop"
    with pytest.raises(ComplianceViolationError):
        for event in [events[0], events[1], Event("", json.dumps(last))]:
            guard.feed(event)


def test_a_body_that_ends_without_the_end_marker_releases_its_checked_tail() -> None:
    """A body that ends properly without [DONE] (some OpenAI-compatible servers send none) ends the answer: the
    held tail is checked whole and released, as at the marker; one that completes a value cuts the stream. (A
    connection that breaks never reaches ``finish``: the transports' tests show its tail stays unseen.)"""
    check = GUARD.check_request("/v1/chat/completions", b'{"model":"m","messages":[{"role":"user","content":"hi"}]}')
    guard = EventGuard(GUARD, check)
    shown = [e for event in _chat(["Hello", " world"])[:3] for e in guard.feed(event)]
    shown += guard.finish()
    assert guard.ended
    assert "".join(json.loads(e.data)["choices"][0]["delta"].get("content") or "" for e in shown) == "Hello world"
    guard = EventGuard(GUARD, check)
    for event in _chat(["number 4111 1111", " 1111 1111"])[:3]:
        assert "4111" not in "".join(e.data for e in guard.feed(event))
    with pytest.raises(ComplianceViolationError):
        guard.finish()


def test_a_malformed_chunk_is_passed_on_redacted() -> None:
    """Data that is not JSON (and so cannot be parsed downstream) loses its values before any parser quotes it."""
    check = GUARD.check_request("/v1/chat/completions", b'{"model":"m","messages":[{"role":"user","content":"hi"}]}')
    guard = EventGuard(GUARD, check)
    ssn = "536-22-" + "1234"
    [out] = guard.feed(Event("", "{not json, ssn " + ssn))
    assert ssn not in out.data


def test_reasoning_text_outside_the_schema_is_guarded() -> None:
    """OpenAI-compatible reasoning servers stream ``reasoning_content``: checked like content."""
    check = GUARD.check_request("/v1/chat/completions", b'{"model":"m","messages":[{"role":"user","content":"hi"}]}')
    guard = EventGuard(GUARD, check)
    payload = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
               "choices": [{"index": 0, "delta": {"reasoning_content": f"the card is {CARD}"}, "finish_reason": "stop"}]}
    with pytest.raises(ComplianceViolationError):
        guard.feed(Event("", json.dumps(payload)))


def test_a_rewritten_completion_drops_the_logprobs_that_spell_the_value() -> None:
    """A non-streamed choice whose text was anonymized loses its logprobs (their tokens spell the original)."""
    from deepsentinel.policy.actions import Action
    from deepsentinel.policy.policy import CompliancePolicy

    guard = WireGuard([CompliancePolicy(name="mask", entity_actions={"EMAIL_ADDRESS": Action.ANONYMIZE})], default_engine())
    check = guard.check_request("/v1/chat/completions", b'{"model":"m","messages":[{"role":"user","content":"hi"}]}')
    email = "jane.doe" + "@example.com"
    body = {"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": [{
        "index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": f"mail {email}"},
        "logprobs": {"content": [{"token": email, "logprob": -0.1, "bytes": [], "top_logprobs": []}]}}]}
    out, _ = guard.check_response(check, json.dumps(body).encode())
    choice = json.loads(out)["choices"][0]
    assert email not in out.decode() and choice["logprobs"] is None


def test_openais_obfuscation_padding_is_neither_scanned_nor_changed() -> None:
    """OpenAI pads every streamed delta with random characters (``obfuscation``). Padding holds no model text:
    scanning it cost more than the delta itself, and a random run that looks like a postcode ("M11AE") would be
    rewritten and audited as a violation."""
    from deepsentinel.policy.actions import Action
    from deepsentinel.policy.policy import CompliancePolicy

    guard = WireGuard([CompliancePolicy(name="mask", entity_actions={"UK_POSTCODE": Action.ANONYMIZE})], default_engine())
    check = guard.check_request("/v1/chat/completions", b'{"model":"m","messages":[{"role":"user","content":"hi"}]}')
    events = EventGuard(guard, check)
    payload = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "obfuscation": "M11AE",
               "choices": [{"index": 0, "delta": {"content": "Post to M11AE please. "}, "finish_reason": None}]}
    [out] = events.feed(Event("", json.dumps(payload)))
    sent = json.loads(out.data)
    assert sent["obfuscation"] == "M11AE"
    assert "M11AE" not in sent["choices"][0]["delta"]["content"]  # the same text as content is still masked
    assert [v.location for v in events.violations] == ["choices[0].delta.content"]


def _two_choices(first: list[str], second: list[str]) -> list[Event]:
    """A chat stream with n=2: the choices' deltas interleave, one event each."""
    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> Event:
        return Event("", json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                                     "choices": [{"index": index, "delta": delta, "finish_reason": finish}]}))

    events = [chunk(0, {"role": "assistant", "content": ""}), chunk(1, {"role": "assistant", "content": ""})]
    for a, b in zip(first, second, strict=True):
        events += [chunk(0, {"content": a}), chunk(1, {"content": b})]
    return [*events, chunk(0, {}, "stop"), chunk(1, {}, "stop"), Event("", "[DONE]")]


def _choices_shown(events: list[Event], rows: list[int] | None) -> tuple[dict[int, str], Exception | None]:
    check = GUARD.check_request("/v1/chat/completions", b'{"model":"m","n":2,"messages":[{"role":"user","content":"hi"}]}')
    guard = EventGuard(GUARD, check)
    sent: list[Event] = []
    error: Exception | None = None
    if rows is None:
        try:
            for event in events:
                sent += guard.feed(event)
        except ComplianceViolationError as exc:
            error = exc
    else:
        for row in _split(events, rows):
            out, error = guard.feed_many(row)
            sent += out
            if error is not None:
                break
    shown = {0: "", 1: ""}
    for event in sent:
        if event.data.startswith("{"):
            for choice in json.loads(event.data)["choices"]:
                shown[choice["index"]] += choice["delta"].get("content") or ""
    return shown, error


@settings(max_examples=40, deadline=None)
@given(rows=rows)
def test_a_cut_in_one_choice_sends_no_other_choices_text_that_came_after_it(rows: list[int]) -> None:
    """n > 1 choices interleave in one burst: a card in choice 0 cuts the stream where it falls, and choice 1's
    text that arrived after that point is withheld, as when the events are read one by one."""
    first = ["Pay", " with", " " + CARD[:9], CARD[9:], " today", " ok", " more", " words"]
    second = ["Safe", " text", " here", " and", " there", " again", " more", " end"]
    events = _two_choices(first, second)
    burst, error = _choices_shown(events, rows)
    assert isinstance(error, ComplianceViolationError)
    assert _digits(CARD) not in _digits(burst[0])
    # Choice 1's text may come out further than one by one (its guard saw what follows), but only from
    # events that arrived before the stream is cut one by one: at " today", which ends the card.
    before_cut = "".join(second[:4])
    assert before_cut.startswith(burst[1]), burst[1]


def test_a_value_split_around_a_tool_call_or_a_signature_is_still_cut() -> None:
    """Text that resumes after a chunk carrying a tool call (chat), or thinking after a signature (Anthropic), is
    the same text to the guard: a card split around it is cut, never checked as two halves."""
    check = GUARD.check_request("/v1/chat/completions", b'{"model":"m","messages":[{"role":"user","content":"hi"}]}')
    guard = EventGuard(GUARD, check)

    def chunk(delta: dict[str, Any]) -> Event:
        return Event("", json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                                     "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}))

    call = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "get", "arguments": "{}"}}
    shown = ""
    with pytest.raises(ComplianceViolationError):
        for event in (chunk({"content": "card 4111 1111 1111 111", "tool_calls": [call]}), chunk({"content": "1 ok"}),
                      Event("", json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))):
            for out in guard.feed(event):
                shown += "".join(c["delta"].get("content") or "" for c in json.loads(out.data)["choices"])
    assert "1111 1111" not in shown
    check = GUARD.check_request("/v1/messages", json.dumps(
        {"model": "m", "max_tokens": 9, "messages": [{"role": "user", "content": "hi"}], "stream": True}).encode())
    guard = EventGuard(GUARD, check)

    def delta(kind: str, field: str, value: str) -> Event:
        return Event("content_block_delta", json.dumps(
            {"type": "content_block_delta", "index": 0, "delta": {"type": kind, field: value}}))

    with pytest.raises(ComplianceViolationError):
        for event in (delta("thinking_delta", "thinking", "card 4111 1111 1111 111"),
                      delta("signature_delta", "signature", "sig"), delta("thinking_delta", "thinking", "1 ok"),
                      Event("content_block_stop", json.dumps({"type": "content_block_stop", "index": 0}))):
            guard.feed(event)
