"""The rest of a streamed event already read whole and found clean, so the next event like it is not read again."""

from __future__ import annotations

from typing import Any


class RestMemo:
    """The rest of the last event read whole and found clean: everything but its streamed texts and padding.

    A chat stream repeats its id, model and fingerprint in every chunk; a chunk whose rest equals the remembered
    one (a dict comparison, in C) holds no text that was not already read whole and passed, so it is not read
    again. A stream whose rest changes with every event (Responses' sequence numbers) stops asking after a few
    misses in a row.
    """

    def __init__(self, padding: frozenset[str]) -> None:
        self.padding = padding
        self.seen: Any = None
        self.misses = 0

    def known(self, payload: Any, handled: set[tuple[Any, ...]]) -> bool:
        if self.seen is None or self.misses >= _MEMO_MISSES or not isinstance(payload, dict):
            return False
        saved: list[tuple[Any, Any, Any]] = []
        try:
            self._blank(payload, handled, saved)
            same = bool(payload == self.seen)
        finally:
            for parent, key, value in saved:  # in place: the event keeps its keys' order
                parent[key] = value
        self.misses = 0 if same else self.misses + 1
        return same

    def remember(self, fresh: Any, handled: set[tuple[Any, ...]]) -> None:
        """``fresh``: the event parsed again (a copy nobody else holds), its rest as just read."""
        if isinstance(fresh, dict) and self.misses < _MEMO_MISSES:
            self._blank(fresh, handled, [])
            self.seen = fresh

    def _blank(self, payload: dict[str, Any], handled: set[tuple[Any, ...]], saved: list[tuple[Any, Any, Any]]) -> None:
        """Blank the streamed texts and the padding in place, noting each value in ``saved`` as it goes."""
        for path in handled:
            parent = payload
            for key in path[:-1]:
                parent = parent[key]
            saved.append((parent, path[-1], parent[path[-1]]))
            parent[path[-1]] = ""
        for key in self.padding:
            if key in payload:
                saved.append((payload, key, payload[key]))
                payload[key] = ""


_MEMO_MISSES = 4  # a chat stream misses twice (the role chunk, the first text chunk), then hits to its end


__all__ = ["RestMemo"]
