"""Streamed token logprobs leave with their text, however the answer is tokenized and chunked: a token is never
sent before the guard has released all of its text (it would spell what the guard holds, perhaps a value), safe
text keeps every token, and after a rewrite no token follows."""

from __future__ import annotations

import codecs
import json
from typing import Any

import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepsentinel import SentinelClient
from deepsentinel.detection.engine import default_engine
from deepsentinel.errors import ComplianceViolationError
from deepsentinel.policy.actions import Action
from deepsentinel.policy.policy import DEFAULT_POLICY, CompliancePolicy
from deepsentinel.wire.event_guard import EventGuard
from deepsentinel.wire.guard import WireGuard
from deepsentinel.wire.logprob_carry import LogprobCarry
from deepsentinel.wire.sse import Event, SSEDecoder
from tests.raw_sse import RawSSEServer

SAFE = "The quarterly review covers 3 topics, version 2.1 and the plan for next year. Thanks!"
EMAIL = "jane.canary" + "@corp-example.com"
CARD = "4111 1111 1111 " + "1111"
PSEUDONYMS = WireGuard([CompliancePolicy(name="pseudonymise", entity_actions={"EMAIL_ADDRESS": Action.ANONYMIZE})],
                       default_engine())
DEFAULT = WireGuard([DEFAULT_POLICY], default_engine())


def _split(text: str, cuts: list[int]) -> list[str]:
    bounds = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def _token(text: str, alternatives: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"token": text, "logprob": -0.25, "bytes": list(text.encode()),
            "top_logprobs": [{"token": a, "logprob": -3.0, "bytes": list(a.encode())} for a in alternatives]}


def _events(api: str, tokens: list[str], groups: list[int], alternatives: tuple[str, ...] = ()) -> list[Event]:
    """A stream with ``logprobs=True`` (chat, or the Responses API): the tokens, several to an event where
    ``groups`` cut them."""
    bounds = sorted({g % (len(tokens) + 1) for g in groups} | {0, len(tokens)})
    pieces = [tokens[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
    if api == "responses":
        def event(kind: str, **fields: Any) -> Event:
            return Event(kind, json.dumps({"type": kind, **fields}))

        ids = {"item_id": "m1", "output_index": 0, "content_index": 0}
        text = "".join(tokens)
        return [event("response.created", response={"id": "r", "output": []}),
                *(event("response.output_text.delta", **ids, delta="".join(p),
                        logprobs=[_token(t, alternatives) for t in p]) for p in pieces),
                event("response.output_text.done", **ids, text=text, logprobs=[_token(t) for t in tokens]),
                event("response.completed", response={"id": "r", "output": []})]

    def chunk(delta: dict[str, Any], logprobs: Any = None, finish: str | None = None) -> Event:
        choice = {"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
        return Event("", json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                                     "choices": [choice]}))

    return [chunk({"role": "assistant", "content": ""}),
            *(chunk({"content": "".join(p)}, {"content": [_token(t, alternatives) for t in p], "refusal": None})
              for p in pieces),
            chunk({}, finish="stop"), Event("", "[DONE]")]


def _shown_and_tokens(api: str, payload: Any) -> tuple[str, list[dict[str, Any]]]:
    """The text an event shows and the tokens it carries with it (a Responses snapshot shows nothing new)."""
    if api == "responses":
        if payload.get("type") != "response.output_text.delta":
            return "", []
        return payload["delta"], payload["logprobs"]
    shown, tokens = "", []
    for choice in payload.get("choices", ()):
        shown += choice["delta"].get("content") or ""
        tokens += (choice.get("logprobs") or {}).get("content") or ()
    return shown, tokens


def _stream(wire: WireGuard, text: str, cuts: list[int], groups: list[int], bursts: list[int] | None = None,
            alternatives: tuple[str, ...] = (), api: str = "chat") -> tuple[str, str, bool]:
    """The text shown and the tokens' text sent, checking after every event that the tokens never run ahead of
    the text and that no alternative leaves; and whether the stream was cut. ``bursts``: the events go through
    ``feed_many`` in groups cut there (the SDK transports' and the gateway's path), else one by one."""
    path, request = {"chat": ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]}),
                     "responses": ("/v1/responses", {"input": "hi"})}[api]
    check = wire.check_request(path, json.dumps({"model": "m", **request, "stream": True, "logprobs": True}).encode())
    guard, decoder = EventGuard(wire, check), SSEDecoder()
    shown, spelled = "", ""
    events = _events(api, _split(text, cuts), groups, alternatives)
    if bursts is None:
        rows = [[event] for event in events]
    else:
        bounds = sorted({b % (len(events) + 1) for b in bursts} | {0, len(events)})
        rows = [events[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
    for row in rows:
        sent, error = guard.feed_many(row)
        for out in (e for event in sent for e in decoder.feed(event.encode())):
            more, tokens = _shown_and_tokens(api, json.loads(out.data) if out.data.startswith("{") else {})
            shown += more
            for token in tokens:
                spelled += token["token"]
                assert token["top_logprobs"] == [] and bytes(token["bytes"]).decode() == token["token"]
            assert shown.startswith(spelled)  # no token ahead of its text
        if error is not None:
            assert isinstance(error, ComplianceViolationError)
            return shown, spelled, True
    return shown, spelled, False


cuts = st.lists(st.integers(min_value=0, max_value=200), max_size=40)


groups = st.lists(st.integers(min_value=0, max_value=60), max_size=10)
bursts = st.one_of(st.none(), st.lists(st.integers(min_value=0, max_value=60), max_size=8))


@pytest.mark.parametrize("api", ["chat", "responses"])
@settings(max_examples=60, deadline=None)
@given(cuts=cuts, groups=groups, bursts=bursts)
def test_safe_text_keeps_every_token_and_no_alternative(api: str, cuts: list[int], groups: list[int],
                                                       bursts: list[int] | None) -> None:
    """Every token arrives, in order; the alternatives the model weighed (here a card number) never do: they are
    not text anyone was shown, and the one before a value is often the value's first token."""
    shown, spelled, cut = _stream(DEFAULT, SAFE, cuts, groups, bursts, alternatives=(" " + CARD,), api=api)
    assert not cut and shown == spelled == SAFE


@pytest.mark.parametrize("api", ["chat", "responses"])
@settings(max_examples=60, deadline=None)
@given(cuts=cuts, groups=groups, bursts=bursts)
def test_no_token_spells_a_value_the_guard_hid(api: str, cuts: list[int], groups: list[int],
                                               bursts: list[int] | None) -> None:
    """An email replaced by a placeholder, a card that cuts the stream: the tokens spell only text that was
    shown, so never the value, and none follow a rewrite."""
    shown, spelled, cut = _stream(PSEUDONYMS, f"Write to {EMAIL} about the plan.", cuts, groups, bursts, api=api)
    assert not cut and EMAIL not in shown and "<EMAIL_" in shown and shown.startswith(spelled)
    assert "corp-example" not in spelled
    shown, spelled, cut = _stream(DEFAULT, f"Pay with {CARD} today.", cuts, groups, bursts, api=api)
    assert cut and CARD.replace(" ", "")[:8] not in spelled.replace(" ", "")


def test_a_token_waits_for_the_rest_of_its_text_and_a_mismatch_ends_the_carry() -> None:
    carry = LogprobCarry()
    assert carry.take([_token("Hel"), _token("lo")], "He") == []  # "Hel" is not all released yet
    assert [t["token"] for t in carry.take([_token(" world")], "llo wor")] == ["Hel", "lo"]
    assert [t["token"] for t in carry.take(None, "ld")] == [" world"]
    assert carry.take([_token(" mail")], " <EMAIL_1>") == []  # rewritten: nothing more, ever
    assert carry.take([_token("x")], "x") == []
    assert [t["token"] for t in LogprobCarry().take([_token(""), _token("Hi")], "") ] == [""]  # an empty one leaves
    # A token that holds part of a character is written ``bytes:\\x..``; it leaves once the character has.
    first = {"token": "bytes:\\xf0\\x9f", "logprob": -1.0, "bytes": [240, 159], "top_logprobs": []}
    second = {"token": "bytes:\\x98\\x80", "logprob": -1.0, "bytes": [152, 128], "top_logprobs": []}
    carry = LogprobCarry()
    assert [t["token"] for t in carry.take([_token("A"), first, second, _token("!")], "A")] == ["A"]
    assert [t["bytes"] for t in carry.take(None, "\U0001f600")] == [[240, 159], [152, 128]]
    assert [t["token"] for t in carry.take(None, "!")] == ["!"]
    lying = {"token": "fine", "logprob": -1.0, "bytes": list(b"4111"), "top_logprobs": []}
    misnamed = {**first, "token": "bytes:\\x34\\x31"}
    for odd in (lying, misnamed):  # a token whose bytes are not its text: carried no further
        carry = LogprobCarry()
        assert carry.take([_token("A"), odd], "A") == [] and carry.take([_token("b")], "fineb") == []
    carry = LogprobCarry()
    carry.take([_token("Hello")], "")
    carry.stop()  # text came without its tokens
    assert carry.take(None, "Hello") == []


@pytest.mark.parametrize("api", ["chat", "responses"])
@pytest.mark.parametrize("client_class", [openai.OpenAI, SentinelClient], ids=["raw", "sentinel"])
def test_an_sdk_stream_with_logprobs_gets_each_token(client_class: type, api: str) -> None:
    """Through the official SDK's stream: every token, in order, as the raw client gets them."""
    tokens = ["The", " garden", " is", " green", " and", " quiet", "."]
    body = b"".join(e.encode() for e in _events(api, tokens, list(range(len(tokens)))))
    server = RawSSEServer((body, b""))
    try:
        client = client_class(api_key="k", base_url=server.url, max_retries=0,
                              **({"audit": False} if client_class is SentinelClient else {}))
        got: list[str] = []
        if api == "chat":
            with client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}],
                                                stream=True, logprobs=True) as stream:
                for chunk in stream:
                    for choice in chunk.choices:
                        got += [t.token for t in ((choice.logprobs and choice.logprobs.content) or ())]
        else:
            with client.responses.create(model="m", input="hi", stream=True,
                                         include=["message.output_text.logprobs"]) as events:
                for event in events:
                    if event.type == "response.output_text.delta":
                        got += [t.token for t in event.logprobs]
        client.close()
    finally:
        server.close()
    assert got == tokens


def _spellings(node: Any) -> list[str]:
    """What every ``logprobs`` in a JSON document spells: its tokens joined (lists of token objects, or a legacy
    completion's ``tokens``)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "logprobs" and value:
                entries = value.get("content") or value.get("tokens") or [] if isinstance(value, dict) else value
                found.append("".join(e["token"] if isinstance(e, dict) else str(e) for e in entries))
            found += _spellings(value)
    elif isinstance(node, list):
        for item in node:
            found += _spellings(item)
    return found


EMAIL_TOKENS = ["Write", " to", " jane", ".c", "anary", "@", "corp", "-example", ".com", " today."]


@pytest.mark.parametrize("api", ["chat", "responses", "completions"])
def test_a_whole_answers_logprobs_never_spell_a_value_it_hid(api: str) -> None:
    """A non-streamed answer whose text the guard rewrote (an email made a placeholder) loses the logprobs around
    that text: they spelled the email (the Responses API's and legacy completions' kept them)."""
    text = "".join(EMAIL_TOKENS)
    tokens = [_token(t) for t in EMAIL_TOKENS]
    path, request, answer = {
        "chat": ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]},
                 {"choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                               "logprobs": {"content": tokens, "refusal": None}, "finish_reason": "stop"}]}),
        "responses": ("/v1/responses", {"input": "hi"},
                      {"object": "response", "output": [{"id": "m1", "type": "message", "role": "assistant", "content": [
                          {"type": "output_text", "text": text, "annotations": [], "logprobs": tokens}]}]}),
        "completions": ("/v1/completions", {"prompt": "hi"},
                        {"object": "text_completion", "choices": [{"index": 0, "text": text, "finish_reason": "stop",
                                                                   "logprobs": {"tokens": EMAIL_TOKENS}}]}),
    }[api]
    check = PSEUDONYMS.check_request(path, json.dumps({"model": "m", **request}).encode())
    sent = json.loads(PSEUDONYMS.check_response(check, json.dumps({"id": "x", **answer}).encode())[0])
    assert EMAIL not in json.dumps(sent) and "<EMAIL_" in json.dumps(sent)
    assert not any("corp-example" in spelled for spelled in _spellings(sent))


def test_a_responses_streams_snapshots_never_spell_a_value_it_hid() -> None:
    """Streamed, the Responses API repeats the text and its logprobs in ``*.done`` events and ``response.completed``:
    rewritten to the released text, they lose the logprobs that spelled the email."""
    text = "".join(EMAIL_TOKENS)
    tokens = [_token(t) for t in EMAIL_TOKENS]
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": tokens}
    item = {"id": "m1", "type": "message", "role": "assistant", "content": [part]}

    def ev(kind: str, **fields: Any) -> Event:
        return Event(kind, json.dumps({"type": kind, **fields}))

    ids = {"item_id": "m1", "output_index": 0, "content_index": 0}
    events = [ev("response.created", response={"id": "r", "output": []}),
              *(ev("response.output_text.delta", **ids, delta=t, logprobs=[_token(t)]) for t in EMAIL_TOKENS),
              ev("response.output_text.done", **ids, text=text, logprobs=tokens),
              ev("response.content_part.done", **ids, part=part),
              ev("response.output_item.done", output_index=0, item=item),
              ev("response.completed", response={"id": "r", "output": [item]})]
    check = PSEUDONYMS.check_request("/v1/responses", json.dumps({"model": "m", "input": "hi", "stream": True}).encode())
    guard = EventGuard(PSEUDONYMS, check)
    sent = [json.loads(out.data) for event in events for out in guard.feed(event)]
    assert EMAIL not in json.dumps(sent) and "<EMAIL_" in json.dumps(sent)
    assert not any("corp-example" in spelled or "canary" in spelled for spelled in _spellings(sent))


def _chunk(delta: dict[str, Any], logprobs: Any = None, finish: str | None = None, **choice: Any) -> Event:
    return Event("", json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                                 "choices": [{"index": 0, "delta": delta, "logprobs": logprobs,
                                              "finish_reason": finish, **choice}]}))


def _chat_guard(wire: WireGuard = DEFAULT) -> EventGuard:
    return EventGuard(wire, wire.check_request("/v1/chat/completions", json.dumps(
        {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True, "logprobs": True}).encode()))


def _sent_tokens(events: list[Event]) -> list[dict[str, Any]]:
    return [token for event in events if event.data.startswith("{")
            for choice in json.loads(event.data)["choices"]
            for token in ((choice.get("logprobs") or {}).get("content") or ())]


def test_a_carried_token_leaves_with_only_what_the_guard_read() -> None:
    """A token is rebuilt from its text, its logprob and its text's bytes: a field the provider added (here
    holding a card number) stays behind, through the tail event as through the token's own event. A token whose
    logprob is not a number, or whose bytes are not integers, is not carried."""
    odd = {**_token("Total"), "note": f"card {CARD}"}
    guard = _chat_guard()
    sent = [out for event in (_chunk({"content": "Total"}, {"content": [odd], "refusal": None}),
                              _chunk({"content": " 42"}, {"content": [{**_token(" 42"), "x": CARD}], "refusal": None}),
                              _chunk({}, finish="stop"), Event("", "[DONE]")) for out in guard.feed(event)]
    tokens = _sent_tokens(sent)
    assert [t["token"] for t in tokens] == ["Total", " 42"]
    assert all(set(t) == {"token", "logprob", "bytes", "top_logprobs"} for t in tokens)
    assert CARD not in "".join(e.data for e in sent)
    assert LogprobCarry().take([{"token": "a", "logprob": "high"}], "a") == []
    assert LogprobCarry().take([{"token": "a", "logprob": -1.0, "bytes": [97.0]}], "a") == []


def test_a_rewrite_elsewhere_in_the_event_keeps_its_carried_tokens() -> None:
    """An email in another field of the same choice is rewritten and the logprobs around it emptied; the tokens
    carried with the content (read, released text) still go, so the caller's tokens have no silent gap."""
    guard = _chat_guard(PSEUDONYMS)
    events = [_chunk({"content": "Hello.\n"}, {"content": [_token("Hello.\n")], "refusal": None}, note=f"cc {EMAIL}"),
              _chunk({"content": " there"}, {"content": [_token(" there")], "refusal": None}),
              _chunk({}, finish="stop"), Event("", "[DONE]")]
    sent = [out for event in events for out in guard.feed(event)]
    assert EMAIL not in "".join(e.data for e in sent)
    assert [t["token"] for t in _sent_tokens(sent)] == ["Hello.\n", " there"]


@pytest.mark.parametrize("bare", [None, {"content": [], "refusal": None}], ids=["null", "empty"])
def test_text_before_its_tokens_or_without_them_ends_the_carry(bare: Any) -> None:
    """Text that arrives with no tokens (logprobs null, or an empty list) can no longer be lined up with the
    tokens after it, whether or not a carry had begun. Here every piece is "Hi", so a later token would match
    the held text it does not spell."""
    def hi(logprobs: Any) -> Event:
        return _chunk({"content": "Hi"}, logprobs)

    tokens = {"content": [_token("Hi")], "refusal": None}
    for lead, most in (([hi(bare)], 0), ([hi(tokens), hi(bare)], 1)):
        guard = _chat_guard()
        events = [*lead, hi(tokens), _chunk({}, finish="stop"), Event("", "[DONE]")]
        sent = [out for event in events for out in guard.feed(event)]
        assert "".join(json.loads(e.data)["choices"][0]["delta"].get("content") or "" for e in sent
                       if e.data.startswith("{")) == "Hi" * len(events[:-2])
        assert len(_sent_tokens(sent)) <= most


def _responses_guard(wire: WireGuard = DEFAULT) -> EventGuard:
    return EventGuard(wire, wire.check_request("/v1/responses", json.dumps(
        {"model": "m", "input": "hi", "stream": True}).encode()))


def _responses_event(kind: str, **fields: Any) -> Event:
    return Event(kind, json.dumps({"type": kind, "item_id": "m1", "output_index": 0, "content_index": 0, **fields}))


SPLIT_EMAIL = [_token(t) for t in ("jane", ".canary", "@corp", "-example.com")]  # no one string holds it


def test_logprobs_leave_only_as_tokens_of_text_the_guard_passed() -> None:
    """Logprobs that the carry does not send go only where the codec can vouch they spell the text beside them,
    rebuilt as carried tokens are (no alternatives): read one string at a time, tokens could spell a value that
    no single one holds. A Responses ``*.done`` event, a legacy completions chunk: kept when they spell their
    text; emptied when they spell something else. Logprobs no format puts on an event (a chat chunk's top level,
    a Responses refusal or reasoning delta) never leave, on every event of a stream alike."""
    spelling = [_token("Hello", ("Hi",)), _token(".\n")]
    out = _responses_guard().feed(_responses_event("response.output_text.done", text="Hello.\n", logprobs=spelling))
    assert json.loads(out[0].data)["logprobs"] == [{**t, "top_logprobs": []} for t in spelling]
    out = _responses_guard().feed(_responses_event("response.output_text.done", text="Hello.\n",
                                                   logprobs=SPLIT_EMAIL))
    assert json.loads(out[0].data)["logprobs"] == []

    completions = EventGuard(DEFAULT, DEFAULT.check_request("/v1/completions", json.dumps(
        {"model": "m", "prompt": "hi", "stream": True}).encode()))
    legacy = {"tokens": ["Hello", ".\n"], "token_logprobs": [-0.1, -0.2], "top_logprobs": [{"Hi": -3.0}, {"!": -2.0}],
              "text_offset": [0, 5]}
    lying = {**legacy, "tokens": ["jane.canary", "@corp-example.com"]}
    sent = []
    for logprobs in (legacy, lying):
        sent += [c.get("logprobs") for e in completions.feed(Event("", json.dumps(
            {"choices": [{"index": 0, "text": "Hello.\n", "logprobs": logprobs, "finish_reason": None}]})))
            for c in json.loads(e.data)["choices"]]
    assert sent == [{**legacy, "top_logprobs": None}, None]

    chat = _chat_guard()
    for text in ("A\n", "Hello.\n", "Fine.\n"):  # the same rest each time: a memo must not let them by
        event = json.loads(_chunk({"content": text}).data)
        event["logprobs"] = SPLIT_EMAIL
        assert "canary" not in "".join(e.data for e in chat.feed(Event("", json.dumps(event))))
    out = chat.feed(_chunk({}, {"content": [_token(" 4111")], "refusal": None}, finish="stop"))
    assert "4111" not in "".join(e.data for e in out)
    for kind, field in (("response.refusal.delta", "delta"), ("response.reasoning_text.delta", "delta")):
        out = _responses_guard().feed(_responses_event(kind, **{field: "Fine.\n"}, logprobs=SPLIT_EMAIL))
        assert "canary" not in "".join(e.data for e in out)
    out = _responses_guard().feed(_responses_event("response.output_text.delta", delta="Fine.\n",
                                                   logprobs={"content": SPLIT_EMAIL}))
    assert "canary" not in "".join(e.data for e in out)


def test_a_rewrite_in_an_events_rest_empties_its_logprobs_without_failing() -> None:
    """A citation's title holding an email, beside an output text with logprobs: the title is rewritten and the
    logprobs around it emptied after the whole event was read (emptied mid-walk, later paths into them failed)."""
    part = {"type": "output_text", "text": "Hello.\n",  # in the API's order: annotations, then logprobs
            "annotations": [{"type": "url_citation", "title": f"by {EMAIL}", "url": "https://e.example",
                             "start_index": 0, "end_index": 5}],
            "logprobs": [_token("Hello", ("Hi",)), _token(".\n")]}
    guard = _responses_guard(PSEUDONYMS)
    guard.feed(_responses_event("response.output_text.delta", delta="Hello.\n", logprobs=part["logprobs"]))
    out = guard.feed(_responses_event("response.content_part.done", part=part))
    sent = json.loads(out[-1].data)["part"]
    assert EMAIL not in json.dumps(sent) and sent["annotations"][0]["title"].startswith("by <EMAIL_")
    assert sent["logprobs"] == []



def _byte_tokens(text: str, cuts: list[int]) -> list[dict[str, Any]]:
    """``text`` tokenized anywhere in its UTF-8 bytes, as a byte-level tokenizer may: a token that is not whole
    text is written ``bytes:\\xNN...``, as the OpenAI API writes it."""
    raw = text.encode()
    bounds = sorted({c % (len(raw) + 1) for c in cuts} | {0, len(raw)})
    tokens = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        piece = raw[a:b]
        try:
            written = piece.decode()
        except UnicodeDecodeError:
            written = "bytes:" + "".join(f"\\x{x:02x}" for x in piece)
        tokens.append({"token": written, "logprob": -0.5, "bytes": list(piece), "top_logprobs": []})
    return tokens


@settings(max_examples=80, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=120), max_size=40), groups=groups, bursts=bursts,
       text=st.sampled_from(["Nice work \U0001f600 team, 日本語のテキスト and more \u00e9t\u00e9.",
                             "价格是一百元 \U0001f389\U0001f389 done"]))
def test_tokens_that_split_a_character_are_carried(cuts: list[int], groups: list[int], bursts: list[int] | None,
                                                   text: str) -> None:
    """Emoji and CJK text, tokenized inside its characters: every token arrives, in order, and never before the
    bytes it spells were shown (each chunk shows what its tokens' bytes decode to so far, as the API does)."""
    tokens = _byte_tokens(text, cuts)
    bounds = sorted({g % (len(tokens) + 1) for g in groups} | {0, len(tokens)})
    decoder = codecs.getincrementaldecoder("utf-8")()
    events = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        content = decoder.decode(b"".join(bytes(t["bytes"]) for t in tokens[a:b]))
        events.append(_chunk({"content": content}, {"content": tokens[a:b], "refusal": None}))
    events += [_chunk({}, finish="stop"), Event("", "[DONE]")]
    if bursts is None:
        rows = [[event] for event in events]
    else:
        cut = sorted({x % (len(events) + 1) for x in bursts} | {0, len(events)})
        rows = [events[a:b] for a, b in zip(cut, cut[1:], strict=False) if b > a]
    guard, shown, spelled = _chat_guard(), "", b""
    for row in rows:
        sent, error = guard.feed_many(row)
        assert error is None
        for event in sent:
            more, carried = _shown_and_tokens("chat", json.loads(event.data) if event.data.startswith("{") else {})
            shown += more
            spelled += b"".join(bytes(t["bytes"]) for t in carried)
            assert shown.encode().startswith(spelled)
    assert shown == text and spelled == text.encode()
