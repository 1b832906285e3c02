"""EventShape: the last clean text event, as text around holes, so the next one is read without parsing. Sans-IO.

Nearly every event of a stream is the one before it with another piece of text (and, from OpenAI, other
random padding): ``{"id":"chatcmpl-…","choices":[{"index":0,"delta":{"content":"`` *piece* ``"},…}]}``.
Once such an event has been parsed and everything in it but its text found clean, its data is kept as
literals around holes (the text's string, the padding's). An event that is those literals with plain strings
in the holes, no quote, backslash or control character inside them, parses to the same document with other
strings in the holes: its rest is the rest already read, and its text is the first hole, as written.
Anything else (an escape, a new field, another choice) does not match and is parsed as before.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

from deepsentinel.wire.json_io import loads
from deepsentinel.wire.sse import Event
from deepsentinel.wire.texts import Path, TextRef

_CONTROL = re.compile(r"[\x00-\x1f]")
_MARK = "\x7fds-hole-{}\x7f"
_MOST_PLACES = 4  # places tried per hole, and ways tried in all


class EventShape:
    """An event's data split around its holes (its text's and its padding's). ``match`` reads the text."""

    __slots__ = ("literals", "name", "text_at")

    def __init__(self, name: str, literals: tuple[str, ...], text_at: int) -> None:
        self.name, self.literals, self.text_at = name, literals, text_at

    @classmethod
    def of(cls, event: Event, payload: Any, text: Path, padding: Sequence[Path]) -> EventShape | None:
        """The shape of ``event`` (parsed: ``payload``) with holes at ``text`` and ``padding``, or ``None`` when
        a hole's string is written escaped or cannot be told apart from another string of the event."""
        holes = [text, *padding]
        places: list[list[tuple[int, int, Path]]] = []
        for path in holes:
            value, key = TextRef(path).get(payload), path[-1]
            if not _plain(value) or not isinstance(key, str):
                return None
            # The value as written right after a key of its name (the parse below proves which one is its own).
            found: list[int] = []
            for head in (f'"{key}":"', f'"{key}": "'):
                at = event.data.find(f'{head}{value}"')
                while at >= 0 and len(found) < _MOST_PLACES:
                    found.append(at + len(head))
                    at = event.data.find(f'{head}{value}"', at + 1)
            places.append([(start, start + len(value), path) for start in found])
        for spans in itertools.islice(itertools.product(*places), _MOST_PLACES):
            shape = cls._proven(event, payload, sorted(spans, key=lambda span: span[0]), text)
            if shape is not None:
                return shape
        return None

    @classmethod
    def _proven(cls, event: Event, payload: Any, spans: list[tuple[int, int, Path]], text: Path) -> EventShape | None:
        """The shape with holes at ``spans``, if parsing proves each hole is its path's string and only that."""
        if any(a[1] > b[0] for a, b in zip(spans, spans[1:], strict=False)):
            return None
        literals = _split(event.data, spans)
        marks = [_MARK.format(n) for n in range(len(spans))]
        try:
            doc = loads(literals[0] + "".join(m + lit for m, lit in zip(marks, literals[1:], strict=True)))
            for mark, (_, _, path) in zip(marks, spans, strict=True):
                ref = TextRef(path)
                if ref.get(doc) != mark:
                    return None
                ref.set(doc, ref.get(payload))
        except (ValueError, KeyError, IndexError, TypeError):
            return None
        if doc != payload:
            return None
        return cls(event.event, literals, [path for _, _, path in spans].index(text))

    def match(self, event: Event) -> str | None:
        """The text in its hole when ``event`` has this shape, else ``None``."""
        data, literals = event.data, self.literals
        if event.event != self.name or not data.startswith(literals[0]):
            return None
        pos, text = len(literals[0]), None
        for n, literal in enumerate(literals[1:]):
            end = data.find('"', pos)  # a hole ends at its first quote: the next literal must start there
            if end < 0 or not data.startswith(literal, end):
                return None
            value = data[pos:end]
            if not _plain(value):
                return None
            if n == self.text_at:
                text = value
            pos = end + len(literal)
        return text if pos == len(data) else None


def _plain(value: str) -> bool:
    """Whether ``value`` is written as it is inside a JSON string: no quote (a hole ends at its first), no
    backslash (an escape), no control character (invalid unescaped). ``str.isprintable`` clears nearly every
    text at C speed; the search settles the rest."""
    return '"' not in value and "\\" not in value and (value.isprintable() or not _CONTROL.search(value))


def _split(data: str, spans: list[tuple[int, int, Path]]) -> tuple[str, ...]:
    out, pos = [], 0
    for start, end, _ in spans:
        out.append(data[pos:start])
        pos = end
    out.append(data[pos:])
    return tuple(out)


__all__ = ["EventShape"]
