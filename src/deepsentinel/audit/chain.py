"""The hash chain: each row's hash covers the previous row's hash and the row's own content.

``row_hash = SHA-256(prev_hash || canonical(row))``, or HMAC-SHA256 under the audit key when one is
configured (then nobody without the key can forge a consistent chain after an edit). The first row links to
``GENESIS``; after a retention prune the chain restarts from an anchor recorded in the prune row itself.

Each row stores the id of the key it was hashed under (``key_id``, a public HMAC fingerprint). Verification
checks the content of rows whose key it was given and only the links of the others, and reports those as
written under another key: a key mismatch (or a rotation) is never reported as tampering.

Verification is backend-independent: a store feeds rows in chain order to ``ChainVerifier``.
A chain can prove that no row was edited, removed from the middle or reordered. Removing the *newest* rows
leaves a shorter valid chain, so keep ``ChainVerification.head_hash`` somewhere else (a ticket, a report) if
truncation matters to you.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from deepsentinel.audit.codec import COLUMNS, KIND_GAP, canonical

GENESIS = "0" * 64

_SEQ = COLUMNS.index("seq")
_PREV = COLUMNS.index("prev_hash")
_HASH = COLUMNS.index("row_hash")
_KEY = COLUMNS.index("key_id")
_KIND = COLUMNS.index("kind")
_DETAILS = COLUMNS.index("details")


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


#: ``ChainVerification.status`` values.
INTACT, BROKEN, OTHER_KEY, GAP = "intact", "broken", "other_key", "gap"


@dataclass(frozen=True, slots=True)
class KeyRows:
    """Rows written under an audit key that verification was not given: linked, but not content-checked."""

    key_id: str
    rows: int
    first_seq: int
    last_seq: int


@dataclass(frozen=True, slots=True)
class ChainVerification:
    """The result of checking an audit chain.

    ``status`` says what kind of result this is: ``intact``; ``broken`` (a row altered, missing or out of
    order: ``first_bad_row`` names it); ``other_key`` (rows written under an audit key that was not given;
    ``other_keys`` says which and where, ``first_bad_row`` is the first such row: a key mismatch, never
    reported as tampering, though a row whose key id was edited lands here too); ``gap`` (the chain
    is intact but records events the writer could not store: ``lost_events``, first at ``first_bad_row``).
    ``head_seq``/``head_hash`` identify the newest row checked (record them elsewhere to detect a later
    truncation).
    """

    ok: bool
    checked: int
    first_bad_row: int | None = None
    reason: str = ""
    head_seq: int | None = None
    head_hash: str | None = None
    status: str = INTACT
    lost_events: int = 0
    other_keys: tuple[KeyRows, ...] = ()

    def __bool__(self) -> bool:
        return self.ok


class ChainVerifier:
    """Checks rows fed in ascending ``seq`` order against the expected start of the chain.

    ``keys`` are the audit keys to check content with (``None`` stands for an unkeyed chain). Each row names
    the key id it was written under; a row whose key is not among ``keys`` is checked for its place and its
    link only, and reported under ``other_keys``. Rows from before key ids were stored (``key_id`` NULL)
    count as written under ``legacy_key_id``, the id the store recorded when it was created.
    """

    def __init__(self, keys: Sequence[bytes | None], *, legacy_key_id: str | None = None, start_seq: int = 1,
                 start_hash: str = GENESIS) -> None:
        self._keys = {key_id(k): k for k in keys}
        self._legacy = legacy_key_id if legacy_key_id is not None else next(iter(self._keys), "unkeyed")
        self._expected_seq = start_seq
        self._expected_prev = start_hash
        self.checked = 0
        self.failure: ChainVerification | None = None
        self._other: dict[str, list[int]] = {}  # key id -> [rows, first seq, last seq]
        self._lost = 0
        self._first_gap: int | None = None

    def _fail(self, seq: int, reason: str) -> bool:
        self.failure = ChainVerification(False, self.checked, seq, reason, status=BROKEN)
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
        kid = row[_KEY] or self._legacy
        if kid in self._keys:
            if row_hash(row[_PREV], row, self._keys[kid]) != row[_HASH]:
                return self._fail(seq, f"row {seq} was altered: its content does not match its row_hash")
        else:
            entry = self._other.setdefault(kid, [0, seq, seq])
            entry[0] += 1
            entry[2] = seq
        if row[_KIND] == KIND_GAP:
            self._lost += _lost_events(row[_DETAILS])
            self._first_gap = seq if self._first_gap is None else self._first_gap
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
        head = (self._expected_seq - 1, self._expected_prev)
        if self._other:
            others = tuple(KeyRows(k, n, first, last) for k, (n, first, last) in self._other.items())
            where = "; ".join(f"rows {o.first_seq}-{o.last_seq} ({o.rows} row(s), key id {o.key_id})" for o in others)
            reason = (f"the audit key differs from the one these rows were written with: {where}. Their content "
                      "was not checked (their links were); this is a key mismatch, not evidence of tampering: "
                      "verify with that key too")
            first = min(o.first_seq for o in others)
            return ChainVerification(False, self.checked, first, reason, *head, status=OTHER_KEY,
                                     lost_events=self._lost, other_keys=others)
        if self._lost:
            reason = (f"the chain is intact, but {self._lost} event(s) were lost: the writer could not store "
                      f"them (first gap recorded at row {self._first_gap})")
            return ChainVerification(False, self.checked, self._first_gap, reason, *head, status=GAP,
                                     lost_events=self._lost)
        return ChainVerification(True, self.checked, None, "ok", *head)


def _lost_events(details: str | None) -> int:
    try:
        return int(json.loads(details or "{}")["lost_events"])
    except (TypeError, ValueError, KeyError):
        return 1  # a mangled gap row still stands for at least one lost event
