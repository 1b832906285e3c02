"""Turning the client's ``audit=`` option into a sink: True, False, a path, a URL, or a sink of the caller's own."""

from __future__ import annotations

from collections.abc import Callable
from os import PathLike
from pathlib import Path

from deepsentinel.audit.events import AuditSink
from deepsentinel.audit.paths import is_postgres_url
from deepsentinel.audit.sqlite_store import SQLiteAuditStore
from deepsentinel.errors import ConfigurationError

AuditOption = bool | str | PathLike[str] | AuditSink | None


def resolve_audit_sink(
    audit: AuditOption,
    *,
    key: bytes | None = None,
    durable: bool = False,
    url: str | None = None,
    on_lost: Callable[[int], None] | None = None,
) -> AuditSink | None:
    """The sink for an ``audit=`` option; ``None`` means auditing is off.

    ``True`` opens the PostgreSQL store at ``url`` when one is given (``DEEPSENTINEL_AUDIT_URL``), else the
    default per-user SQLite store (``default_audit_path()``); a ``postgresql://`` string opens that
    database, any other string or path a SQLite file there; an object with ``record``/``close`` is used
    as given. ``durable``: ``record`` returns only once the event is committed. ``on_lost(count)`` hears
    of events the store could not write (for a metric). Nothing touches the disk or network until the
    first event.
    """
    if audit is None or audit is False:
        return None
    if audit is True and url:
        audit = url
    if isinstance(audit, str) and is_postgres_url(audit):
        from deepsentinel.audit.pg_store import PostgresAuditStore  # psycopg loads only when used

        return PostgresAuditStore(audit, key=key, durable=durable, on_lost=on_lost)
    if audit is True:
        return SQLiteAuditStore(key=key, durable=durable, on_lost=on_lost)
    if isinstance(audit, (str, PathLike)):
        return SQLiteAuditStore(Path(audit).expanduser(), key=key, durable=durable, on_lost=on_lost)
    if callable(getattr(audit, "record", None)) and callable(getattr(audit, "close", None)):
        return audit
    raise ConfigurationError(
        "audit must be True, False, a path, a postgresql:// URL or an audit sink with record() and close(), "
        f"not {type(audit).__name__}"
    )
