"""How an audit event becomes a stored row and back, and the canonical bytes the hash chain covers.

A row is a flat tuple of scalars in ``COLUMNS`` order (``str``, ``int``, ``float`` or ``None``); lists and
records (policies, findings, retention details) are stored as compact JSON text. The chain hash covers every
stored column except ``row_hash`` itself, so editing any column of any row is detectable. Values are
normalised to the column's type *before* hashing, because databases coerce on insert (SQLite stores the
integer ``1`` in a REAL column as ``1.0``) and the hash must match what is read back.

Nothing here ever sees raw text: events carry finding types and offsets, never values.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from deepsentinel.audit import sanitize as clean
from deepsentinel.audit.events import AuditEvent, FindingRecord, Outcome

#: Kinds of chain rows. ``event`` rows are calls; ``prune`` rows record a retention deletion; ``gap`` rows
#: record events the writer could not store (so verification reports the loss instead of "intact").
KIND_EVENT = "event"
KIND_PRUNE = "prune"
KIND_GAP = "gap"

#: Stored columns, in order. ``row_hash`` is last and is not part of the hashed content.
COLUMNS: tuple[str, ...] = (
    "seq", "kind", "request_id", "ts", "outcome", "provider", "model", "operation", "direction",
    "policies", "findings", "risk_score", "streamed", "chunks", "latency_ms", "provider_latency_ms",
    "prompt_tokens", "completion_tokens", "target", "error_type", "content_hash", "anonymized_text",
    "details", "key_id", "prev_hash", "row_hash",
)
HASHED_COLUMNS = COLUMNS[:-1]

_FINDING_FIELDS: tuple[str, ...] = (
    "type", "category", "direction", "location", "start", "end", "confidence", "risk", "action", "policy",
)

Row = tuple[Any, ...]


# One encoder, built once: json.dumps with options constructs a new encoder on every call.
_ENCODE = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=True).encode
# Hashed columns visited in name order, so canonical() gets sorted keys without sorting each row.
_ENCODE_ORDERED = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode
_CANONICAL_ORDER: tuple[tuple[int, str], ...] = tuple(sorted(enumerate(HASHED_COLUMNS), key=lambda p: p[1]))


def _json(value: Any) -> str:
    return _ENCODE(value)


_SHORT = clean.MAX_SHORT
_FINDING_CLEAN: tuple[tuple[str, Any], ...] = tuple(
    (name, clean.integer if name in ("start", "end") else clean.real if name in ("confidence", "risk")
     else lambda v: clean.text(v, _SHORT))
    for name in _FINDING_FIELDS
)


def _items(values: Any) -> list[Any]:
    try:
        return list(values)
    except TypeError:  # not iterable: one item
        return [values]


def findings_json(findings: Sequence[FindingRecord]) -> str:
    """Findings as stored: every field of each record (types, offsets, confidence), no values."""
    return _json([{name: conv(getattr(f, name, None)) for name, conv in _FINDING_CLEAN} for f in _items(findings)])


def _outcome(value: Any) -> str:
    return clean.text(value.value if isinstance(value, Outcome) else value, _SHORT)


def event_row(seq: int, event: AuditEvent, prev_hash: str, key_id: str | None = None) -> Row:
    """The stored row for ``event`` at chain position ``seq``, without its ``row_hash``.

    Every field goes through ``sanitize``, so any event, however malformed, yields a storable row.
    """
    short, real = clean.MAX_SHORT, clean.real
    return (
        int(seq), KIND_EVENT, clean.text(event.request_id, short), real(event.timestamp) or 0.0, _outcome(event.outcome),
        clean.text(event.provider, short), clean.text(event.model, short), clean.text(event.operation, short),
        clean.text(event.direction, short), _json([clean.text(p, short) for p in _items(event.policies)]),
        findings_json(event.findings), real(event.risk_score), int(bool(event.streamed)),
        clean.integer(event.chunks), real(event.latency_ms), real(event.provider_latency_ms),
        clean.opt_int(event.prompt_tokens), clean.opt_int(event.completion_tokens),
        clean.opt_text(event.target, short), clean.opt_text(event.error_type, short),
        clean.opt_text(event.content_hash, short), clean.opt_text(event.anonymized_text), None, key_id, prev_hash,
    )


def _record_row(seq: int, kind: str, request_id: str, timestamp: float, details: dict[str, Any], prev_hash: str,
                key_id: str | None) -> Row:
    row: list[Any] = [None] * len(HASHED_COLUMNS)
    row[0], row[1], row[2], row[3] = int(seq), kind, request_id, float(timestamp)
    row[COLUMNS.index("details")] = _json(details)
    row[-2], row[-1] = key_id, prev_hash
    return tuple(row)


def prune_row(seq: int, request_id: str, timestamp: float, details: dict[str, Any], prev_hash: str,
              key_id: str | None = None) -> Row:
    """The stored row recording a retention deletion, without its ``row_hash``."""
    return _record_row(seq, KIND_PRUNE, request_id, timestamp, details, prev_hash, key_id)


def gap_row(seq: int, request_id: str, timestamp: float, lost: int, reason: str, prev_hash: str,
            key_id: str | None = None) -> Row:
    """The stored row recording ``lost`` events the writer could not store (``reason``: an error type)."""
    details = {"lost_events": int(lost), "reason": clean.text(reason, _SHORT)}
    return _record_row(seq, KIND_GAP, request_id, timestamp, details, prev_hash, key_id)


def canonical(row: Sequence[Any]) -> bytes:
    """Canonical JSON of a row's hashed columns.

    ``None`` columns are left out so that a nullable column added by a later migration does not change the
    hash of rows written before it; setting such a column on an old row still changes the hash.
    """
    if len(row) != len(HASHED_COLUMNS):
        raise ValueError(f"a row has {len(HASHED_COLUMNS)} hashed columns, not {len(row)}")
    content = {name: row[i] for i, name in _CANONICAL_ORDER if row[i] is not None}
    return _ENCODE_ORDERED(content).encode("ascii")


def row_event(row: Sequence[Any]) -> AuditEvent:
    """Rebuild the ``AuditEvent`` an ``event`` row was written from."""
    r = dict(zip(COLUMNS, row, strict=True))
    findings = tuple(
        FindingRecord(**{name: d[name] for name in _FINDING_FIELDS}) for d in json.loads(r["findings"] or "[]")
    )
    return AuditEvent(
        outcome=Outcome(r["outcome"]),
        provider=r["provider"],
        model=r["model"],
        operation=r["operation"],
        direction=r["direction"],
        policies=tuple(json.loads(r["policies"] or "[]")),
        findings=findings,
        risk_score=_read_real(r["risk_score"]),
        streamed=bool(r["streamed"]),
        chunks=r["chunks"],
        latency_ms=_read_real(r["latency_ms"]),
        provider_latency_ms=_read_real(r["provider_latency_ms"]),
        prompt_tokens=r["prompt_tokens"],
        completion_tokens=r["completion_tokens"],
        target=r["target"],
        error_type=r["error_type"],
        content_hash=r["content_hash"],
        anonymized_text=r["anonymized_text"],
        request_id=r["request_id"],
        timestamp=_read_real(r["ts"]),
    )


def _read_real(value: float | None) -> float:
    # NaN is stored as NULL (see ``sanitize.real``); read it back as NaN, the value that was recorded.
    return math.nan if value is None else float(value)


def stored_tags(event: AuditEvent) -> list[tuple[str, str]]:
    """``event_tags`` of the event as ``event_row`` stores it (sanitized), without decoding the row."""
    findings = _items(event.findings)
    types = [clean.text(getattr(f, "type", None), _SHORT) for f in findings]
    policies = [clean.text(p, _SHORT) for p in _items(event.policies)]
    for f in findings:
        policy = clean.text(getattr(f, "policy", None), _SHORT)
        if policy:
            policies.append(policy)
    return [("entity", t) for t in dict.fromkeys(types)] + [("policy", p) for p in dict.fromkeys(policies)]


def row_tags(row: Sequence[Any]) -> list[tuple[str, str]]:
    """The filter-index entries of a stored row (none for prune and gap rows)."""
    return event_tags(row_event(row)) if row[1] == KIND_EVENT else []


def event_tags(event: AuditEvent) -> list[tuple[str, str]]:
    """``(tag, value)`` pairs indexed for filtering: entity types found and policies involved."""
    tags = [("entity", t) for t in dict.fromkeys(f.type for f in event.findings)]
    policies = dict.fromkeys([*event.policies, *(f.policy for f in event.findings if f.policy)])
    tags.extend(("policy", p) for p in policies)
    return tags
