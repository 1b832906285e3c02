"""The audit trail: one hash-chained event per call, never a raw value.

``AuditEvent`` and the sink protocol live in ``events``; ``SQLiteAuditStore`` writes them off the request
path (``PostgresAuditStore``, in ``audit.pg_store``, shares one trail between processes and nodes; it is
imported on demand so psycopg loads only when used); ``AuditLog`` lists, reports on, verifies, prunes and
exports them.
"""

from deepsentinel.audit.chain import ChainVerification, KeyRows
from deepsentinel.audit.composite import CompositeSink
from deepsentinel.audit.errors import AuditWriteError
from deepsentinel.audit.events import AuditEvent, AuditSink, FindingRecord, MemorySink, Outcome, content_hash
from deepsentinel.audit.export import export_jsonl
from deepsentinel.audit.log import AuditLog
from deepsentinel.audit.paths import default_audit_path
from deepsentinel.audit.report import ComplianceReport, DayTrend
from deepsentinel.audit.resolve import resolve_audit_sink
from deepsentinel.audit.sqlite_store import SQLiteAuditStore
from deepsentinel.audit.store import AuditFilter, AuditStore

__all__ = [
    "AuditEvent",
    "AuditFilter",
    "AuditLog",
    "AuditSink",
    "AuditStore",
    "AuditWriteError",
    "ChainVerification",
    "ComplianceReport",
    "CompositeSink",
    "DayTrend",
    "FindingRecord",
    "KeyRows",
    "MemorySink",
    "Outcome",
    "SQLiteAuditStore",
    "content_hash",
    "default_audit_path",
    "export_jsonl",
    "resolve_audit_sink",
]
