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
from collections.abc import Sequence
from typing import Any

from deepsentinel.audit.events import AuditEvent, FindingRecord, Outcome

#: Kinds of chain rows. ``event`` rows are calls; ``prune`` rows record a retention deletion.
KIND_EVENT = "event"
KIND_PRUNE = "prune"

#: Stored columns, in order. ``row_hash`` is last and is not part of the hashed content.
COLUMNS: tuple[str, ...] = (
    "seq", "kind", "request_id", "ts", "outcome", "provider", "model", "operation", "direction",
    "policies", "findings", "risk_score", "streamed", "chunks", "latency_ms", "provider_latency_ms",
    "prompt_tokens", "completion_tokens", "target", "error_type", "content_hash", "anonymized_text",
    "details", "prev_hash", "row_hash",
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


def _float(value: float | int) -> float:
    return float(value)


def _opt_int(value: int | None) -> int | None:
    return None if value is None else int(value)


def findings_json(findings: Sequence[FindingRecord]) -> str:
    """Findings as stored: every field of each record (types, offsets, confidence), no values."""
    return _json([{name: getattr(f, name) for name in _FINDING_FIELDS} for f in findings])


def event_row(seq: int, event: AuditEvent, prev_hash: str) -> Row:
    """The stored row for ``event`` at chain position ``seq``, without its ``row_hash``."""
    return (
        int(seq), KIND_EVENT, str(event.request_id), _float(event.timestamp), event.outcome.value,
        str(event.provider), str(event.model), str(event.operation), str(event.direction),
        _json(list(event.policies)), findings_json(event.findings), _float(event.risk_score),
        int(bool(event.streamed)), int(event.chunks), _float(event.latency_ms),
        _float(event.provider_latency_ms), _opt_int(event.prompt_tokens), _opt_int(event.completion_tokens),
        event.target, event.error_type, event.content_hash, event.anonymized_text, None, prev_hash,
    )


def prune_row(seq: int, request_id: str, timestamp: float, details: dict[str, Any], prev_hash: str) -> Row:
    """The stored row recording a retention deletion, without its ``row_hash``."""
    row: list[Any] = [None] * len(HASHED_COLUMNS)
    row[0], row[1], row[2], row[3] = int(seq), KIND_PRUNE, request_id, _float(timestamp)
    row[COLUMNS.index("details")] = _json(details)
    row[-1] = prev_hash
    return tuple(row)


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
        risk_score=r["risk_score"],
        streamed=bool(r["streamed"]),
        chunks=r["chunks"],
        latency_ms=r["latency_ms"],
        provider_latency_ms=r["provider_latency_ms"],
        prompt_tokens=r["prompt_tokens"],
        completion_tokens=r["completion_tokens"],
        target=r["target"],
        error_type=r["error_type"],
        content_hash=r["content_hash"],
        anonymized_text=r["anonymized_text"],
        request_id=r["request_id"],
        timestamp=r["ts"],
    )


def event_tags(event: AuditEvent) -> list[tuple[str, str]]:
    """``(tag, value)`` pairs indexed for filtering: entity types found and policies involved."""
    tags = [("entity", t) for t in dict.fromkeys(f.type for f in event.findings)]
    policies = dict.fromkeys([*event.policies, *(f.policy for f in event.findings if f.policy)])
    tags.extend(("policy", p) for p in policies)
    return tags
