"""JSONL export: one event per line, with its chain position and hashes, for SIEMs and auditors.

Each line is the event's own fields (no raw values exist to export) plus ``seq``, ``prev_hash`` and
``row_hash``, so an auditor can match lines to the verified chain.
"""

from __future__ import annotations

import json
from os import PathLike
from typing import IO, Any

from deepsentinel.audit.store import AuditFilter, AuditStore


def export_jsonl(store: AuditStore, path_or_file: str | PathLike[str] | IO[str], **filters: Any) -> int:
    """Write matching events as JSON lines to a path or an open text file; returns how many were written.

    ``filters`` are those of ``AuditFilter.of`` (``since``, ``until``, ``outcome``, ``entity_type``,
    ``policy``, ``provider``, ``limit``).
    """
    flt = AuditFilter.of(**filters)
    if isinstance(path_or_file, (str, PathLike)):
        with open(path_or_file, "w", encoding="utf-8") as fh:
            return _write(store, flt, fh)
    return _write(store, flt, path_or_file)


def _write(store: AuditStore, flt: AuditFilter, fh: IO[str]) -> int:
    count = 0
    for seq, prev_hash, row_hash, event in store.iter_chain(flt):
        line = {"seq": seq, **event.to_dict(), "prev_hash": prev_hash, "row_hash": row_hash}
        fh.write(json.dumps(line, separators=(",", ":"), ensure_ascii=False))
        fh.write("\n")
        count += 1
    return count
