"""``ComplianceMonitor``: call the caller's functions as compliance events happen.

    monitor = ComplianceMonitor()

    @monitor.on("request_blocked")
    def page_security(event: AuditEvent) -> None: ...

Every hook receives the call's ``AuditEvent`` (types, offsets, policies; never raw values) and runs
synchronously in the thread that finished the call, so keep hooks quick or hand work to a queue. A hook
that raises is logged by name and exception type and skipped: it never breaks the call or other hooks.

Events:
    ``event``               every call
    ``violation_detected``  the call had at least one finding
    ``policy_triggered``    a policy acted on a finding (anonymized or blocked it)
    ``request_blocked``     the call was blocked (request not sent, or response withheld)
    ``stream_terminated``   a stream was cut after its safe prefix
    ``provider_error``      the provider failed
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import overload

from deepsentinel.audit.events import AuditEvent, Outcome

logger = logging.getLogger("deepsentinel.monitor")

Hook = Callable[[AuditEvent], object]

EVENTS = frozenset(
    {"event", "violation_detected", "policy_triggered", "request_blocked", "stream_terminated", "provider_error"}
)
_ACTING = frozenset({"anonymize", "block"})
_BY_OUTCOME = {
    Outcome.BLOCKED: "request_blocked",
    Outcome.STREAM_TERMINATED: "stream_terminated",
    Outcome.PROVIDER_ERROR: "provider_error",
}


def _hook_name(fn: Hook) -> str:
    return getattr(fn, "__qualname__", type(fn).__qualname__)


class ComplianceMonitor:
    """A registry of hooks keyed by event name; also an ``AuditSink`` that dispatches each event."""

    def __init__(self) -> None:
        self._hooks: dict[str, tuple[Hook, ...]] = {name: () for name in EVENTS}
        self._lock = threading.Lock()  # registration only; dispatch reads an immutable tuple
        self.failures = 0

    def __repr__(self) -> str:
        count = sum(len(h) for h in self._hooks.values())
        return f"ComplianceMonitor(hooks={count})"

    @overload
    def on(self, name: str, fn: None = None) -> Callable[[Hook], Hook]: ...

    @overload
    def on(self, name: str, fn: Hook) -> Hook: ...

    def on(self, name: str, fn: Hook | None = None) -> Callable[[Hook], Hook] | Hook:
        """Register ``fn`` for ``name``; without ``fn``, return a decorator. Returns ``fn`` for ``off``."""
        if name not in EVENTS:
            raise ValueError(f"unknown monitor event {name!r}; expected one of {sorted(EVENTS)}")
        if fn is None:
            def decorator(f: Hook) -> Hook:
                self._add(name, f)
                return f
            return decorator
        self._add(name, fn)
        return fn

    def _add(self, name: str, fn: Hook) -> None:
        if not callable(fn):
            raise TypeError("a monitor hook must be callable")
        with self._lock:
            self._hooks[name] = (*self._hooks[name], fn)

    def off(self, name: str, fn: Hook) -> bool:
        """Unregister ``fn`` from ``name``; False if it was not registered."""
        with self._lock:
            hooks = self._hooks.get(name, ())
            if fn not in hooks:
                return False
            index = hooks.index(fn)
            self._hooks[name] = hooks[:index] + hooks[index + 1:]
            return True

    @property
    def deferrable(self) -> bool:
        """Whether its events may be dispatched off the caller's thread: only while no hook is registered."""
        return not any(self._hooks.values())

    def names_for(self, event: AuditEvent) -> list[str]:
        """The monitor events one audit event raises, in dispatch order."""
        names = ["event"]
        if event.findings:
            names.append("violation_detected")
            if any(f.action in _ACTING for f in event.findings):
                names.append("policy_triggered")
        specific = _BY_OUTCOME.get(event.outcome)
        if specific is not None:
            names.append(specific)
        return names

    def record(self, event: AuditEvent) -> None:
        """Dispatch ``event`` to every matching hook; hook failures are logged, never raised."""
        for name in self.names_for(event):
            for fn in self._hooks[name]:
                try:
                    fn(event)
                except Exception as exc:
                    self.failures += 1
                    # Type only: a hook's message might quote whatever it was looking at.
                    logger.warning("monitor hook %s for %r failed (%s)", _hook_name(fn), name, type(exc).__name__)

    def close(self) -> None:
        """Drop every hook."""
        with self._lock:
            self._hooks = {name: () for name in EVENTS}
