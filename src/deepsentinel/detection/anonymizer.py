"""Anonymization: replace exactly the characters of each finding, with one of four strategies.

* ``mask``: ``4111 1111 1111 1111`` -> ``**** **** **** 1111`` (separators kept, last four of long numbers kept);  (deepsentinel: allow)
* ``redact``: ``[CREDIT_CARD]``;
* ``hash``: ``<EMAIL_ADDRESS:3f2a9c1b>``, a keyed HMAC-SHA256, stable for one key (never md5);
* ``placeholder``: ``<EMAIL_1>``; one value gets one placeholder for the whole conversation.

With a ``Vault`` the hash and placeholder tokens are reversible for the caller (see ``vault.py``).

>>> anonymizer = Anonymizer("redact")
>>> anonymizer.anonymize("card 4111 1111 1111 1111", engine.scan(...).findings).text  # doctest: +SKIP  # deepsentinel: allow
'card [CREDIT_CARD]'
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from deepsentinel.detection.vault import PlaceholderBook, Vault

StrategyName = Literal["mask", "redact", "hash", "placeholder"]

# Short labels for placeholders, so models see ``<EMAIL_1>`` rather than ``<EMAIL_ADDRESS_1>``.
PLACEHOLDER_LABELS: dict[str, str] = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "US_SSN": "SSN",
    "IP_ADDRESS": "IP",
}
# Publicly known token prefixes that say which service a secret is for, but nothing secret.
_SECRET_PREFIX = re.compile(r"^(?:gh[pousr]_|glpat-|xox[abpors]-|sk-(?:proj-|ant-)?|sk_live_|rk_live_|AKIA|ASIA)")


class Span(Protocol):
    """Anything with a type and offsets: a ``Finding`` or a ``Violation``."""

    @property
    def type(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


class Strategy(Protocol):
    """Turns one sensitive value into its replacement."""

    name: str
    reversible: bool

    def replace(self, value: str, entity_type: str) -> str: ...


class MaskStrategy:
    """Stars over letters and digits; separators stay, so the shape of the value remains readable.

    Numbers with at least nine digits keep their last four (cards, SSNs, accounts: what support staff need);
    emails keep the first letter and the top-level domain; secrets keep their public prefix (``ghp_``).
    """

    name = "mask"
    reversible = False

    def __init__(self, char: str = "*") -> None:
        self.char = char

    def replace(self, value: str, entity_type: str) -> str:
        if "@" in value and entity_type.startswith("EMAIL"):
            return self._email(value)
        prefix = _SECRET_PREFIX.match(value)
        keep_from = prefix.end() if prefix else 0
        digits = sum(ch.isdigit() for ch in value)
        keep_digits = 4 if digits >= 9 and prefix is None else 0
        out = list(value)
        seen = 0
        for i in range(len(value) - 1, keep_from - 1, -1):
            ch = value[i]
            if ch.isdigit() and seen < keep_digits:
                seen += 1
            elif ch.isalnum():
                out[i] = self.char
        return "".join(out)

    def _email(self, value: str) -> str:
        local, _, domain = value.rpartition("@")
        tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
        masked_local = local[:1] + self.char * max(len(local) - 1, 0)
        masked_domain = self.char * max(len(domain) - len(tld) - 1, 0) + ("." + tld if tld else "")
        return f"{masked_local}@{masked_domain}"


class RedactStrategy:
    """``[CREDIT_CARD]``: the type only."""

    name = "redact"
    reversible = False

    def replace(self, value: str, entity_type: str) -> str:
        return f"[{entity_type}]"


class HashStrategy:
    """``<EMAIL_ADDRESS:3f2a9c1b>``: HMAC-SHA256 of the value under a key; equal values give equal tokens.

    Without a key a random one is drawn, so tokens are stable for this strategy object only; pass a key to
    make them stable across processes (for joining records, never for recovering values).
    """

    name = "hash"
    reversible = True

    def __init__(self, key: bytes | None = None, digest_chars: int = 8) -> None:
        self._key = key if key is not None else os.urandom(32)
        self.digest_chars = digest_chars

    def replace(self, value: str, entity_type: str) -> str:
        mac = hmac.new(self._key, f"{entity_type}\x00{value}".encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        return f"<{entity_type}:{mac[: self.digest_chars]}>"

    def __repr__(self) -> str:  # the key stays out
        return f"HashStrategy(digest_chars={self.digest_chars})"


class PlaceholderStrategy:
    """``<EMAIL_1>``: numbered per type; the same value keeps its number (see ``PlaceholderBook``)."""

    name = "placeholder"
    reversible = True

    def __init__(self, book: PlaceholderBook | None = None) -> None:
        self.book = book if book is not None else PlaceholderBook()

    def replace(self, value: str, entity_type: str) -> str:
        return self.book.assign(PLACEHOLDER_LABELS.get(entity_type, entity_type), value)


@dataclass(frozen=True, slots=True)
class Replacement:
    """One replaced span: where it was in the original text and what stands there now (never the value)."""

    type: str
    start: int
    end: int
    replacement: str


@dataclass(frozen=True, slots=True)
class AnonymizedText:
    """The anonymized text and what was replaced, in order."""

    text: str
    replacements: tuple[Replacement, ...] = ()


def make_strategy(name: str, key: bytes | None = None, vault: Vault | None = None) -> Strategy:
    """The strategy called ``name``; placeholders share the vault's numbering when a vault is given."""
    if name == "mask":
        return MaskStrategy()
    if name == "redact":
        return RedactStrategy()
    if name == "hash":
        return HashStrategy(key)
    if name == "placeholder":
        return PlaceholderStrategy(vault.book if vault is not None else PlaceholderBook(key))
    raise ValueError(f"unknown anonymization strategy {name!r}; use mask, redact, hash or placeholder")


class Anonymizer:
    """Replaces spans of a text with a strategy; with a ``vault``, remembers tokens so they can be restored.

    Keep one anonymizer (or one vault) per conversation so placeholders stay consistent across turns.
    """

    def __init__(
        self, strategy: StrategyName | Strategy = "placeholder", key: bytes | None = None, vault: Vault | None = None
    ) -> None:
        self.strategy: Strategy = make_strategy(strategy, key, vault) if isinstance(strategy, str) else strategy
        self.vault = vault

    def replace(self, value: str, entity_type: str, *, remember: bool = True) -> str:
        """The replacement for one value, recorded in the vault when the strategy is reversible.

        Guards of model output pass ``remember=False``: a value the *model* produced and a policy hid must
        never become restorable later, even if the model echoes its token on a later turn.
        """
        token = self.strategy.replace(value, entity_type)
        if remember and self.vault is not None and self.strategy.reversible:
            self.vault.remember(token, value)
        return token

    def anonymize(self, text: str, spans: Iterable[Span], *, remember: bool = True) -> AnonymizedText:
        """Replace exactly the characters ``text[span.start:span.end]`` of each span.

        Overlapping spans are merged (the earlier span's type names the union), so no character of either
        leaks; spans outside the text are clipped.
        """
        merged = _merge(spans, len(text))
        if not merged:
            return AnonymizedText(text)
        parts: list[str] = []
        replacements: list[Replacement] = []
        pos = 0
        for entity_type, start, end in merged:
            token = self.replace(text[start:end], entity_type, remember=remember)
            parts.append(text[pos:start])
            parts.append(token)
            replacements.append(Replacement(entity_type, start, end, token))
            pos = end
        parts.append(text[pos:])
        return AnonymizedText("".join(parts), tuple(replacements))

    def __repr__(self) -> str:
        return f"Anonymizer(strategy={self.strategy.name!r}, vault={self.vault!r})"


def _merge(spans: Iterable[Span], length: int) -> list[tuple[str, int, int]]:
    ordered = sorted(
        ((s.type, max(0, s.start), min(length, s.end)) for s in spans), key=lambda t: (t[1], -t[2])
    )
    merged: list[tuple[str, int, int]] = []
    for entity_type, start, end in ordered:
        if end <= start:
            continue
        if merged and start < merged[-1][2]:
            prev_type, prev_start, prev_end = merged[-1]
            merged[-1] = (prev_type, prev_start, max(prev_end, end))
        else:
            merged.append((entity_type, start, end))
    return merged


__all__ = [
    "AnonymizedText", "Anonymizer", "HashStrategy", "MaskStrategy", "PlaceholderStrategy", "RedactStrategy",
    "Replacement", "Span", "Strategy", "StrategyName", "Vault", "make_strategy",
]
