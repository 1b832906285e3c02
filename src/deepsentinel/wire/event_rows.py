"""A row of streamed events that carry nothing but text pieces: how ``EventGuard.feed_many`` guards them together
(one scan per text for the whole row) and gives the released text back to the events it came from. Also the
JSON path helpers an event's texts are read and written with. Sans-IO.
"""

from __future__ import annotations

from typing import Any

from deepsentinel.wire.codec import Key
from deepsentinel.wire.json_io import loads
from deepsentinel.wire.sse import Event


class RowItem:
    """An event that carries nothing but text pieces, waiting in a row for its keys' guards. ``payload`` is
    ``None`` for an event read by its shape (parsed only if its text changes); ``shown``: some of its text is
    released."""

    __slots__ = ("changed", "event", "payload", "pieces", "shown")

    def __init__(self, event: Event, payload: dict[str, Any] | None, pieces: list[tuple[Key, tuple[Any, ...], str]]) -> None:
        self.event, self.payload, self.pieces = event, payload, pieces
        self.changed = self.shown = False

    def doc(self) -> dict[str, Any]:
        if self.payload is None:
            self.payload = parse_event(self.event)
        return self.payload


def share_released(released: str, before: str, pieces: list[tuple[RowItem, tuple[Any, ...], str]]) -> RowItem:
    """Give the text a guard released for a row back to the row's events: each event the part that arrived
    with it (the text held from earlier rows goes with the first). Text the guard rewrote (anonymized, or a
    restored vault token) no longer lines up with what arrived, so all of it goes with the first event.
    Returns the event where the released text stops (where a cut falls; the first event when not aligned)."""
    whole = before + "".join(text for _, _, text in pieces)
    aligned = whole.startswith(released)
    cut, start, end = len(released), 0, len(before)
    stops_in: RowItem | None = None
    for n, (item, path, text) in enumerate(pieces):
        end += len(text)
        if aligned:
            stop = max(start, min(end, cut))
            piece, start = released[start:stop], stop
            if stops_in is None and end > cut:
                stops_in = item
        else:
            piece = released if n == 0 else ""
        if piece != text:
            set_text(item.doc(), path, piece)
            item.changed = True
        if piece:
            item.shown = True
    if not aligned:
        return pieces[0][0]
    return stops_in if stops_in is not None else pieces[-1][0]


def parse_event(event: Event) -> Any:
    """An event's JSON payload, or ``None`` when it holds none (``[DONE]``, a malformed chunk)."""
    try:
        return loads(event.data) if event.data and event.data[0] in "{[" else None
    except (ValueError, RecursionError):
        return None


def text_at(doc: Any, path: tuple[Any, ...]) -> str:
    """The text at ``path`` in a parsed payload."""
    for key in path:
        doc = doc[key]
    return str(doc)


def set_text(doc: Any, path: tuple[Any, ...], value: str) -> None:
    """Put ``value`` at ``path`` in a parsed payload."""
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


__all__ = ["RowItem", "parse_event", "set_text", "share_released", "text_at"]
