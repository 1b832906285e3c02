"""The opt-in vault: remembers which placeholder stands for which original value, for one conversation.

Anonymization with the ``placeholder`` (or ``hash``) strategy replaces ``jane@example.com`` with ``<EMAIL_1>``
before the prompt leaves. When the model echoes ``<EMAIL_1>`` back, the vault restores the original *for the
caller*; the provider only ever sees the placeholder. The vault lives in memory only, is never persisted and
its repr never shows a value.

>>> vault = Vault()
>>> anonymizer = Anonymizer("placeholder", vault=vault)      # doctest: +SKIP
>>> vault.deanonymize("Write to <EMAIL_1>")                   # doctest: +SKIP
'Write to jane@example.com'
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import threading
from collections.abc import Iterable

# What anonymization tokens look like: ``<EMAIL_1>`` (placeholder) and ``<EMAIL_ADDRESS:3f2a9c1b>`` (hash).
TOKEN_PATTERN = re.compile(r"<[A-Z][A-Z0-9_]*(?:_\d+|:[0-9a-f]+)>")
_TOKEN_BODY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:abcdef")
# Longest token we ever hold back for; longer "partial tokens" cannot be tokens.
MAX_TOKEN_LENGTH = 64


def partial_token_start(text: str) -> int:
    """Index where a possibly unfinished token starts at the end of ``text``, or ``len(text)`` if none.

    ``"see <EMA"`` -> 4: the tail ``<EMA`` may still become ``<EMAIL_1>``, so a stream holds it back.
    """
    lt = text.rfind("<", max(0, len(text) - MAX_TOKEN_LENGTH))
    if lt == -1:
        return len(text)
    tail = text[lt + 1 :]
    if all(ch in _TOKEN_BODY_CHARS for ch in tail) and (not tail or "A" <= tail[0] <= "Z"):
        return lt
    return len(text)


# Entries kept by a book or a vault before the oldest are forgotten (a long-lived client must not grow forever).
MAX_ENTRIES = 65_536


class PlaceholderBook:
    """Numbers placeholders per label (``<EMAIL_1>``, ``<EMAIL_2>``) so one value always gets one placeholder.

    Values are keyed by a keyed digest, so the book itself keeps no original value. Past ``max_entries`` the
    oldest values are forgotten: seen again, they get a new number (numbers are never reused). Thread-safe:
    one client's book serves every thread, and two values must never share a number.
    """

    __slots__ = ("_key", "_assigned", "_counters", "_lock", "max_entries")

    def __init__(self, key: bytes | None = None, max_entries: int = MAX_ENTRIES) -> None:
        self._key = key if key is not None else os.urandom(32)
        self._assigned: dict[bytes, str] = {}
        self._counters: dict[str, int] = {}
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def assign(self, label: str, value: str) -> str:
        """The placeholder for ``value`` under ``label``; the same value always gets the same one."""
        digest = hmac.new(self._key, f"{label}\x00{value}".encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
        with self._lock:
            token = self._assigned.get(digest)
            if token is None:
                n = self._counters.get(label, 0) + 1
                self._counters[label] = n
                token = f"<{label}_{n}>"
                self._assigned[digest] = token
                if len(self._assigned) > self.max_entries:
                    del self._assigned[next(iter(self._assigned))]
        return token

    def __len__(self) -> int:
        return len(self._assigned)

    def __repr__(self) -> str:
        return f"PlaceholderBook(entries={len(self._assigned)})"


class Vault:
    """In-memory map between anonymization tokens and original values, for one conversation or client.

    Use one vault per conversation: placeholders are numbered per vault, so ``<EMAIL_1>`` means the same
    person on every turn. Nothing here is written anywhere; drop the vault (or call ``clear()``) to forget.
    Past ``max_entries`` the oldest tokens are forgotten and stay tokens if the model echoes them.
    """

    __slots__ = ("book", "_originals", "_lock", "max_entries")

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.book = PlaceholderBook(max_entries=max_entries)
        self._originals: dict[str, str] = {}
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def remember(self, token: str, original: str) -> None:
        """Record that ``token`` stands for ``original`` (called by the anonymizer)."""
        with self._lock:
            self._originals[token] = original
            if len(self._originals) > self.max_entries:
                del self._originals[next(iter(self._originals))]

    def original(self, token: str) -> str | None:
        """The value behind ``token``, or ``None`` if this vault did not issue it."""
        return self._originals.get(token)

    def deanonymize(self, text: str) -> str:
        """Replace every token this vault issued with its original value; unknown tokens stay as they are."""
        if not self._originals or "<" not in text:
            return text
        return TOKEN_PATTERN.sub(lambda m: self._originals.get(m.group(0), m.group(0)), text)

    def deanonymizer(self) -> Deanonymizer:
        """A streaming restorer bound to this vault (see ``Deanonymizer``)."""
        return Deanonymizer(self)

    def scoped(self, texts: Iterable[str]) -> Vault:
        """A vault that restores only the tokens appearing in ``texts`` (the messages one call sent).

        One client may serve many conversations; an answer must never get back a value from another one, even
        when a prompt-injected model writes that conversation's placeholder.
        """
        tokens = {t for text in texts for t in TOKEN_PATTERN.findall(text)}
        view = Vault(self.max_entries)
        with self._lock:
            view._originals = {t: self._originals[t] for t in tokens if t in self._originals}
        return view

    def clear(self) -> None:
        """Forget every value and restart numbering."""
        self.book = PlaceholderBook(max_entries=self.max_entries)
        self._originals.clear()

    def __len__(self) -> int:
        return len(self._originals)

    def __repr__(self) -> str:  # never the values
        return f"Vault(entries={len(self._originals)})"


class Deanonymizer:
    """Restores tokens in a stream of text pieces, even when a token arrives split across pieces.

    ``feed(piece)`` returns the text that is final now; only a possible partial token (``<``, ``<EMA``,
    ``<EMAIL_``...) is held back, never more than ``MAX_TOKEN_LENGTH`` characters. ``flush()`` returns the rest.
    """

    __slots__ = ("vault", "_tail")

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self._tail = ""

    def feed(self, piece: str) -> str:
        text = self._tail + piece if self._tail else piece
        if "<" not in text:
            self._tail = ""
            return text
        cut = partial_token_start(text)
        self._tail = text[cut:]
        return self.vault.deanonymize(text[:cut])

    def flush(self) -> str:
        text, self._tail = self._tail, ""
        return self.vault.deanonymize(text)

    @property
    def held(self) -> int:
        """Characters currently held back."""
        return len(self._tail)

    def __repr__(self) -> str:
        return f"Deanonymizer(held={len(self._tail)})"


__all__ = ["MAX_ENTRIES", "MAX_TOKEN_LENGTH", "TOKEN_PATTERN", "Deanonymizer", "PlaceholderBook", "Vault", "partial_token_start"]
