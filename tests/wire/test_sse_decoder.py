"""The SSE decoder: the same events however the bytes are chunked, whatever the line ends (LF, CRLF, CR)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from deepsentinel.wire.sse import SSEDecoder

names = st.sampled_from(["", "message_start", "content_block_delta", "response.output_text.delta"])
datas = st.lists(st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]), max_size=30),
                 min_size=1, max_size=3)
events = st.lists(st.tuples(names, datas), min_size=1, max_size=12)


def _encode(items: list[tuple[str, list[str]]], ends: list[str]) -> bytes:
    """One line-end style per event (a CR then an empty LF line would read as one CRLF)."""
    out = []
    for n, (name, lines) in enumerate(items):
        end = ends[n % len(ends)]
        out += [field + end for field in ([f"event: {name}"] if name else []) + [f"data: {line}" for line in lines] + [""]]
    return "".join(out).encode()


@settings(max_examples=150, deadline=None)
@given(items=events, ends=st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=1, max_size=4),
       cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=40))
def test_any_chunking_gives_the_events_sent(items: list[tuple[str, list[str]]], ends: list[str], cuts: list[int]) -> None:
    body = _encode(items, ends)
    bounds = sorted({c % (len(body) + 1) for c in cuts} | {0, len(body)})
    decoder = SSEDecoder()
    got = [e for a, b in zip(bounds, bounds[1:], strict=False) for e in decoder.feed(body[a:b])]
    got += decoder.flush()
    assert [(e.event, e.data) for e in got] == [(name, "\n".join(lines)) for name, lines in items]


def test_a_burst_of_many_events_in_one_chunk() -> None:
    body = b"".join(b'data: {"n": %d}\n\n' % i for i in range(5000))
    decoder = SSEDecoder()
    events = decoder.feed(body)
    assert len(events) == 5000 and events[-1].data == '{"n": 4999}' and decoder.pending == 0
    assert b"".join(e.encode() for e in events) == body  # unchanged events leave byte for byte
