"""Audit errors: ``AuditWriteError`` when a durable store could not commit an event before returning."""

from __future__ import annotations

from deepsentinel.errors import DeepSentinelError


class AuditWriteError(DeepSentinelError):
    """A durable audit store could not commit the event (the loss is logged and recorded as a gap)."""


__all__ = ["AuditWriteError"]
