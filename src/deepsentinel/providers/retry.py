"""What a provider's error status and ``Retry-After`` headers say. Pure. (The SDKs own the retrying.)"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from deepsentinel.errors import ProviderError

_INFINITY = frozenset({"inf", "+inf", "infinity", "+infinity"})  # spelled out: no wait named, unlike an overflow


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait according to ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date), read as the
    openai SDK reads them.

    Malformed values are ignored rather than raised: a provider's odd header must never crash a call. A number
    that names no wait (``inf`` or ``nan`` spelled out, a negative one) gives ``None``: the openai SDK backs off
    as it would without it. A number too large for a float (``1e999``) is an excessive wait, ``inf``, which the
    openai SDK does not retry, nor does a stream's reopen (any wait past two minutes). (The anthropic SDK waits
    out any positive value, capped at about 50 days; a reopen follows the openai SDK's rule for both.)
    """
    lower = {k.lower(): v for k, v in headers.items()}
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = lower.get(name)
        if raw is None:
            continue
        try:
            value = float(raw)
        except ValueError:
            continue  # not a number: the next header, or an HTTP date
        if value == math.inf and raw.strip().lower() not in _INFINITY:
            return math.inf
        return max(0.0, value / scale) if 0 <= value < math.inf else None  # max: no "-0.0 seconds"
    raw = lower.get("retry-after")
    if raw is None:
        return None
    try:
        when = parsedate_to_datetime(raw.strip())
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
