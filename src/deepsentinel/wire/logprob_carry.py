"""LogprobCarry: a streamed text's token logprobs, handed out with their text. Sans-IO.

A stream guard holds back the end of a text until it knows it is not the start of a value, so an event leaves
with less text than it came with. Its token logprobs spell all of it: sent as they came, they would show what
the guard still holds (perhaps a value it is about to hide). Dropped, as before, a streamed answer with
``logprobs=True`` lost them all on plain prose. Carried instead, each token leaves with the event that releases
the last of its text, and none leave once the released text stops matching the tokens (the guard rewrote it).

So every string a carried token holds is released text, which the guard has read: its ``bytes`` must spell its
text (else the carry stops), and its ``top_logprobs`` go out empty. The alternatives the model weighed are not
text anyone was shown, and the one before a value is often the value's own first token.
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
        for token in tokens or ():
            if not _spells_itself(token):
                return self._break([])
            self._pending.append({**token, "top_logprobs": []} if "top_logprobs" in token else token)
        self._unspelled += released
        out: list[Any] = []
        while self._pending:
            text = self._pending[0]["token"]
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

    def stop(self) -> None:
        """Text arrived without its tokens: the rest can no longer be lined up with the text, so none go."""
        self._break([])

    def _break(self, out: list[Any]) -> list[Any]:
        """No more tokens for this text: what matched exactly up to here still goes."""
        self._broken = True
        self._pending.clear()
        return out


def _spells_itself(token: Any) -> bool:
    """Whether a token entry is a text token whose ``bytes`` (when given) are its text's: a partial character
    (``bytes:\\xf0\\x9f``) or bytes that spell something else are not carried."""
    if not isinstance(token, dict) or not isinstance(token.get("token"), str):
        return False
    raw = token.get("bytes")
    return raw is None or (isinstance(raw, list) and raw == list(token["token"].encode("utf-8", "surrogatepass")))
