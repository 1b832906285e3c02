"""ComplianceMonitor: hooks per compliance event, decorator form, off(), and hooks that raise."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from deepsentinel.audit import AuditEvent, Outcome
from deepsentinel.metrics import ComplianceMonitor
from tests.audit_factory import finding, make_event, secret_text


def _recorder(monitor: ComplianceMonitor) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {}
    for name in ("event", "violation_detected", "policy_triggered", "request_blocked", "stream_terminated",
                 "provider_error"):
        def hook(e: AuditEvent, name: str = name) -> None:
            seen.setdefault(name, []).append(e.outcome.value)
        monitor.on(name, hook)
    return seen


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (make_event(Outcome.ALLOWED), ["event"]),
        (make_event(Outcome.ALLOWED, findings=(finding(action="log"),)), ["event", "violation_detected"]),
        (make_event(Outcome.ANONYMIZED, findings=(finding(action="anonymize"),)),
         ["event", "violation_detected", "policy_triggered"]),
        (make_event(Outcome.BLOCKED, findings=(finding(),)),
         ["event", "violation_detected", "policy_triggered", "request_blocked"]),
        (make_event(Outcome.STREAM_TERMINATED, findings=(finding(),)),
         ["event", "violation_detected", "policy_triggered", "stream_terminated"]),
        (make_event(Outcome.PROVIDER_ERROR, error_type="RateLimitError"), ["event", "provider_error"]),
    ],
    ids=["allowed", "logged", "anonymized", "blocked", "terminated", "provider-error"],
)
def test_each_outcome_fires_exactly_its_hooks(event: AuditEvent, expected: list[str]) -> None:
    """Hooks fire once each for the events that apply, and not otherwise."""
    monitor = ComplianceMonitor()
    seen = _recorder(monitor)
    monitor.record(event)
    assert sorted(seen) == sorted(expected)
    assert all(len(v) == 1 for v in seen.values())


def test_decorator_form_and_off() -> None:
    """on() works as a decorator; off() removes exactly that hook and reports whether it was there."""
    monitor = ComplianceMonitor()
    calls: list[str] = []

    @monitor.on("request_blocked")
    def blocked(e: AuditEvent) -> None:
        calls.append(e.request_id)

    monitor.record(make_event(Outcome.BLOCKED, request_id="r1"))
    assert monitor.off("request_blocked", blocked) is True
    assert monitor.off("request_blocked", blocked) is False
    monitor.record(make_event(Outcome.BLOCKED, request_id="r2"))
    assert calls == ["r1"]


def test_unknown_event_names_and_non_callables_are_rejected() -> None:
    """Typos fail at registration, not silently at dispatch."""
    monitor = ComplianceMonitor()
    with pytest.raises(ValueError, match="unknown monitor event"):
        monitor.on("violation", print)
    with pytest.raises(TypeError):
        monitor.on("event", "not callable")  # type: ignore[call-overload]


def test_a_raising_hook_is_logged_and_the_others_still_run(caplog: pytest.LogCaptureFixture) -> None:
    """A failing hook never propagates; later hooks run; the log names the hook, not the message."""
    monitor = ComplianceMonitor()
    text = secret_text()
    after: list[Callable[[AuditEvent], None]] = []

    def explode(e: AuditEvent) -> None:
        raise RuntimeError("leaked " + text)

    monitor.on("violation_detected", explode)
    monitor.on("violation_detected", after.append)
    monitor.record(make_event(Outcome.BLOCKED, findings=(finding(),)))
    assert len(after) == 1 and monitor.failures == 1
    assert "explode" in caplog.text and "RuntimeError" in caplog.text
    assert text not in caplog.text


def test_close_drops_all_hooks() -> None:
    """After close() nothing fires."""
    monitor = ComplianceMonitor()
    seen = _recorder(monitor)
    monitor.close()
    monitor.record(make_event(Outcome.BLOCKED, findings=(finding(),)))
    assert seen == {}
