"""What a provider's error status and ``Retry-After`` headers say. Pure. (The SDKs own the retrying.)"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from deepsentinel.errors import ProviderError


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait according to ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date).

    Malformed values are ignored rather than raised: a provider's odd header must never crash a call.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    ms = lower.get("retry-after-ms")
    if ms is not None:
        try:
            value = float(ms) / 1000.0
            if value >= 0:
                return value
        except ValueError:
            pass
    raw = lower.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
        return seconds if seconds >= 0 else None
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    delta = (when - (now or datetime.now(timezone.utc))).total_seconds()
    return max(0.0, delta)


def error_for_status(
    status_code: int,
    headers: Mapping[str, str],
    message: str,
    provider: str,
    error_type: str | None = None,
) -> ProviderError:
    """The DeepSentinel error for an HTTP error status (translated into the caller's wire format later)."""
    return ProviderError(
        message, provider=provider, status_code=status_code, error_type=error_type,
        retry_after=parse_retry_after(headers),
    )
