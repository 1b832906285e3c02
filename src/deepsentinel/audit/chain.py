"""The hash chain: each row's hash covers the previous row's hash and the row's own content.

``row_hash = SHA-256(prev_hash || canonical(row))``, or HMAC-SHA256 under the audit key when one is
configured (then nobody without the key can forge a consistent chain after an edit). The first row links to
``GENESIS``; after a retention prune the chain restarts from an anchor recorded in the prune row itself.

Verification is backend-independent: a store feeds rows in chain order to ``ChainVerifier``.
A chain can prove that no row was edited, removed from the middle or reordered. Removing the *newest* rows
leaves a shorter valid chain, so keep ``ChainVerification.head_hash`` somewhere else (a ticket, a report) if
truncation matters to you.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from deepsentinel.audit.codec import COLUMNS, canonical

GENESIS = "0" * 64

_SEQ = COLUMNS.index("seq")
_PREV = COLUMNS.index("prev_hash")
_HASH = COLUMNS.index("row_hash")


@functools.lru_cache(maxsize=8)
def _keyed(key: bytes) -> hmac.HMAC:
    # A prepared HMAC to copy: setting up the key's inner and outer pads once, not per row.
    return hmac.new(key, digestmod=hashlib.sha256)


def row_hash(prev_hash: str, row: Sequence[Any], key: bytes | None) -> str:
    """Hash of one row (``row`` holds the hashed columns; a trailing ``row_hash`` is ignored)."""
    data = prev_hash.encode("ascii") + canonical(row[:_HASH])
    if key is None:
        return hashlib.sha256(data).hexdigest()
    mac = _keyed(key).copy()
    mac.update(data)
    return mac.hexdigest()


def key_id(key: bytes | None) -> str:
    """A public fingerprint of the audit key, stored so that verifying with the wrong key says so."""
    if key is None:
        return "unkeyed"
    return hmac.new(key, b"deepsentinel-audit-key-id", hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class ChainVerification:
    """The result of checking an audit chain.

    ``first_bad_row`` is the chain position (``seq``) of the first row that fails, or of the first missing
    row; ``head_seq``/``head_hash`` identify the newest row checked (record them elsewhere to detect a
    later truncation).
    """

    ok: bool
    checked: int
    first_bad_row: int | None = None
    reason: str = ""
    head_seq: int | None = None
    head_hash: str | None = None

    def __bool__(self) -> bool:
        return self.ok


class ChainVerifier:
    """Checks rows fed in ascending ``seq`` order against the expected start of the chain."""

    def __init__(self, key: bytes | None, *, start_seq: int = 1, start_hash: str = GENESIS) -> None:
        self._key = key
        self._expected_seq = start_seq
        self._expected_prev = start_hash
        self.checked = 0
        self.failure: ChainVerification | None = None

    def _fail(self, seq: int, reason: str) -> bool:
        self.failure = ChainVerification(False, self.checked, seq, reason)
        return False

    def feed(self, row: Sequence[Any]) -> bool:
        """Check one row; returns False (and sets ``failure``) at the first problem."""
        seq = row[_SEQ]
        if seq != self._expected_seq:
            if seq > self._expected_seq:
                missing = self._expected_seq
                return self._fail(missing, f"row {missing} is missing: row {seq} follows row {missing - 1}")
            return self._fail(seq, f"row {seq} is out of order: expected row {self._expected_seq}")
        if row[_PREV] != self._expected_prev:
            return self._fail(seq, f"row {seq} does not link to row {seq - 1} (prev_hash differs)")
        if row_hash(row[_PREV], row, self._key) != row[_HASH]:
            return self._fail(seq, f"row {seq} was altered: its content does not match its row_hash")
        self.checked += 1
        self._expected_seq = seq + 1
        self._expected_prev = row[_HASH]
        return True

    def result(self) -> ChainVerification:
        """The verdict once every row has been fed."""
        if self.failure is not None:
            return self.failure
        if self.checked == 0:
            return ChainVerification(True, 0, reason="empty chain")
        return ChainVerification(True, self.checked, None, "ok", self._expected_seq - 1, self._expected_prev)
