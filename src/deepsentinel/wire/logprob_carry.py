"""LogprobCarry: a streamed text's token logprobs, handed out with their text. Sans-IO.

A stream guard holds back the end of a text until it knows it is not the start of a value, so an event leaves
with less text than it came with. Its token logprobs spell all of it: sent as they came, they would show what
the guard still holds (perhaps a value it is about to hide). Dropped, as before, a streamed answer with
``logprobs=True`` lost them all on plain prose. Carried instead, each token leaves with the event that releases
the last of its text, and none leave once the released text stops matching the tokens (the guard rewrote it).
"""

from __future__ import annotations

from collections import deque
from typing import Any

__all__ = ["LogprobCarry"]


class LogprobCarry:
    """One streamed text's tokens not yet sent. ``take(tokens, released)`` per event of that text."""

    __slots__ = ("_broken", "_pending", "_unspelled")

    def __init__(self) -> None:
        self._pending: deque[Any] = deque()  # tokens whose text is not all released yet, in order
        self._unspelled = ""  # released text that no token sent so far spells: the start of the next one
        self._broken = False

    def take(self, tokens: list[Any] | None, released: str) -> list[Any]:
        """The tokens to send with an event: this event's ``tokens`` join those held, ``released`` is the text
        the event leaves with. Only whole tokens whose text has all been released, in order."""
        if self._broken:
            return []
        if tokens:
            self._pending.extend(tokens)
        self._unspelled += released
        out: list[Any] = []
        while self._pending:
            token = self._pending[0]
            text = token.get("token") if isinstance(token, dict) else None
            if not isinstance(text, str):
                return self._break(out)
            if self._unspelled.startswith(text):
                self._unspelled = self._unspelled[len(text):]
                out.append(self._pending.popleft())
            elif text.startswith(self._unspelled):
                break  # the rest of its text is still held
            else:
                return self._break(out)  # released text that is not the tokens' text: rewritten
        if self._unspelled and not self._pending:
            return self._break(out)  # more text released than the tokens spell: rewritten
        return out

    def _break(self, out: list[Any]) -> list[Any]:
        """No more tokens for this text: what matched exactly up to here still goes."""
        self._broken = True
        self._pending.clear()
        return out
