"""Turning the client's ``audit=`` option into a sink: True, False, a path, or a sink of the caller's own."""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from deepsentinel.audit.events import AuditSink
from deepsentinel.audit.sqlite_store import SQLiteAuditStore
from deepsentinel.errors import ConfigurationError

AuditOption = bool | str | PathLike[str] | AuditSink | None


def resolve_audit_sink(audit: AuditOption, *, key: bytes | None = None) -> AuditSink | None:
    """The sink for an ``audit=`` option; ``None`` means auditing is off.

    ``True`` opens the default per-user store (``default_audit_path()``), a path opens a store there, and
    an object with ``record``/``close`` is used as given. Nothing touches the disk until the first event.
    """
    if audit is None or audit is False:
        return None
    if audit is True:
        return SQLiteAuditStore(key=key)
    if isinstance(audit, (str, PathLike)):
        return SQLiteAuditStore(Path(audit).expanduser(), key=key)
    if callable(getattr(audit, "record", None)) and callable(getattr(audit, "close", None)):
        return audit
    raise ConfigurationError(
        f"audit must be True, False, a path or an audit sink with record() and close(), not {type(audit).__name__}"
    )
