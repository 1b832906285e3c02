"""What every command shares: the one-line error, consoles on the right stream, and flag parsing helpers.

Commands raise ``CliError`` (or let a ``DeepSentinelError`` through); ``app.main`` turns either into a single
``deepsentinel: error: ...`` line on stderr and an exit code, never a traceback.
"""

from __future__ import annotations

import os
import re
import sys
from datetime import datetime, timedelta, timezone
from enum import Enum

from rich.console import Console

from deepsentinel.detection.findings import Severity

#: Exit codes: 0 success, 1 failure (or findings at the --fail-on level), 2 bad usage.
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A failure the user can act on; ``app.main`` prints its message as one line and exits ``code``."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class UsageError(CliError):
    """The flags make no sense together (exit code 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_USAGE)


def stdout_console() -> Console:
    """A console on the current ``sys.stdout`` (built per call, so redirected streams are honoured)."""
    # Piped output (CI logs, files) is not folded at 80 columns: tables stay one row per finding.
    width = None if sys.stdout.isatty() else 160
    return Console(file=sys.stdout, highlight=False, soft_wrap=True, width=width)


def stderr_console() -> Console:
    """A console on the current ``sys.stderr`` for notes, progress and warnings."""
    return Console(file=sys.stderr, highlight=False, soft_wrap=True)


#: The SDK's own variable for the audit key (``SentinelConfig.audit_key``): the CLI reads and writes trails
#: under it, so ``audit verify`` checks what ``chat`` and ``demo`` wrote.
ENV_AUDIT_KEY = "DEEPSENTINEL_AUDIT_KEY"


def audit_key_from_env() -> bytes | None:
    """The audit key from ``$DEEPSENTINEL_AUDIT_KEY`` (encoded as the SDK encodes it), or None."""
    key = os.environ.get(ENV_AUDIT_KEY)
    return key.encode() if key else None


class SeverityLevel(str, Enum):
    """A ``--fail-on`` threshold; ``none`` never fails."""

    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"
    none = "none"

    def threshold(self) -> float | None:
        """The minimum ``Severity`` weight that fails, or None for ``none``."""
        if self is SeverityLevel.none:
            return None
        return float(Severity[self.name.upper()].value)


def severity_name(severity: Severity) -> str:
    """``Severity.HIGH`` -> ``"high"``."""
    return severity.name.lower()


_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_time(value: str | None, *, flag: str, now: datetime | None = None) -> datetime | None:
    """A ``--since``/``--until`` value: relative (``30m``, ``24h``, ``7d``, ``2w``) or ISO 8601 (UTC if naive)."""
    if value is None:
        return None
    now = now or datetime.now(timezone.utc)
    rel = _RELATIVE.match(value)
    if rel:
        try:
            return now - timedelta(seconds=float(rel.group(1)) * _UNIT_SECONDS[rel.group(2)])
        except OverflowError:
            raise UsageError(f"{flag}: {value!r} reaches before the year 1") from None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{flag}: expected a date (2026-01-31), a time (2026-01-31T12:00) or 7d/24h/30m, not {value!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


__all__ = [
    "ENV_AUDIT_KEY", "EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "CliError", "audit_key_from_env", "SeverityLevel", "UsageError", "parse_time",
    "severity_name", "stderr_console", "stdout_console",
]
