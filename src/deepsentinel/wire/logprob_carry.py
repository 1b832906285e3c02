"""LogprobCarry: a streamed text's token logprobs, handed out with their text. Sans-IO.

A stream guard holds back the end of a text until it knows it is not the start of a value, so an event leaves
with less text than it came with. Its token logprobs spell all of it: sent as they came, they would show what
the guard still holds (perhaps a value it is about to hide). Dropped, as before, a streamed answer with
``logprobs=True`` lost them all on plain prose. Carried instead, each token leaves with the event that releases
the last of its text, and none leave once the released text stops matching the tokens (the guard rewrote it).

So every string a carried token holds is released text, which the guard has read (or, for a token that holds
part of a character, the ``bytes:\\xNN`` form of released bytes). A carried token is rebuilt from what the guard
knows: its text, its logprob, its bytes (only when they spell its text, else the carry stops) and no
``top_logprobs``: the alternatives the model weighed are not text anyone was shown, and the one before a value
is often the value's own first token. Any other field the provider put in a token stays behind, unread.
"""

from __future__ import annotations

from collections import deque
from typing import Any

__all__ = ["LogprobCarry", "spelled_by"]


class LogprobCarry:
    """One streamed text's tokens not yet sent. ``take(tokens, released)`` per event of that text."""

    __slots__ = ("_at", "_broken", "_pending", "_unspelled")

    def __init__(self) -> None:
        # Tokens whose bytes are not all released yet, in order, with those bytes. Matched as UTF-8 bytes, not
        # text: a token may hold part of a character (an emoji, a CJK character), its text then ``bytes:\\x..``.
        self._pending: deque[tuple[dict[str, Any], bytes]] = deque()
        self._unspelled = b""  # released text, from ``_at`` on, that no token sent so far spells
        self._at = 0
        self._broken = False

    def take(self, tokens: list[Any] | None, released: str) -> list[dict[str, Any]]:
        """The tokens to send with an event: this event's ``tokens`` join those held, ``released`` is the text
        the event leaves with. Only whole tokens whose bytes have all been released, in order."""
        if self._broken:
            return []
        for token in tokens or ():
            carried = _carried(token)
            if carried is None:
                return self._break([])
            self._pending.append(carried)
        self._unspelled = self._unspelled[self._at:] + released.encode("utf-8", "surrogatepass")
        self._at = 0
        out: list[dict[str, Any]] = []
        while self._pending:
            token, spelled = self._pending[0]
            if self._unspelled.startswith(spelled, self._at):
                self._at += len(spelled)
                out.append(token)
                self._pending.popleft()
            elif spelled.startswith(self._unspelled[self._at:]):
                break  # the rest of its bytes are still held
            else:
                return self._break(out)  # released text that is not the tokens' text: rewritten
        if self._at < len(self._unspelled) and not self._pending:
            return self._break(out)  # more text released than the tokens spell: rewritten
        return out

    def stop(self) -> None:
        """Text arrived without its tokens: the rest can no longer be lined up with the text, so none go."""
        self._break([])

    def _break(self, out: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """No more tokens for this text: what matched exactly up to here still goes."""
        self._broken = True
        self._pending.clear()
        return out


def _carried(token: Any) -> tuple[dict[str, Any], bytes] | None:
    """The token as it may leave, with the bytes it spells; ``None`` when it cannot be carried: not a token with
    a numeric logprob, or a text that is neither its ``bytes`` as UTF-8 nor their ``bytes:\\xNN`` form."""
    if not isinstance(token, dict):
        return None
    text, logprob, raw = token.get("token"), token.get("logprob"), token.get("bytes")
    if not isinstance(text, str) or isinstance(logprob, bool) or not isinstance(logprob, int | float):
        return None
    encoded = text.encode("utf-8", "surrogatepass")
    if raw is None:
        spelled = encoded
    elif isinstance(raw, list) and all(type(b) is int and 0 <= b < 256 for b in raw):
        spelled = bytes(raw)
        if spelled != encoded and text.lower() != _escaped(spelled):
            return None
    else:
        return None
    carried: dict[str, Any] = {"token": text, "logprob": logprob}
    if "bytes" in token:
        carried["bytes"] = None if raw is None else list(spelled)
    carried["top_logprobs"] = []
    return carried, spelled


def _escaped(raw: bytes) -> str:
    """How the OpenAI API writes a token that is not whole UTF-8 text: ``bytes:\\xf0\\x9f``."""
    return "bytes:" + "".join(f"\\x{b:02x}" for b in raw)


def spelled_by(tokens: Any, text: str) -> list[dict[str, Any]] | None:
    """``tokens`` (a whole text's token entries) rebuilt as carried tokens are, when they spell exactly ``text``;
    else ``None``."""
    if not isinstance(tokens, list):
        return None
    carried = [_carried(token) for token in tokens]
    if any(c is None for c in carried):
        return None
    whole = [c for c in carried if c is not None]
    if b"".join(spelled for _, spelled in whole) != text.encode("utf-8", "surrogatepass"):
        return None
    return [token for token, _ in whole]
