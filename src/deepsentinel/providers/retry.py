"""When to retry a failed provider call and how long to wait. Pure: the transport does the sleeping."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from deepsentinel.errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    StreamDisconnectedError,
)

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
# A Retry-After beyond this is the provider telling us to go away; we surface the error instead of hanging.
MAX_HONOURED_WAIT = 60.0


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


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by ``max_delay``; ``Retry-After`` wins when given."""

    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 8.0

    def should_retry(self, error: ProviderError, attempt: int, content_delivered: bool) -> bool:
        """``attempt`` counts from 0. Nothing is retried once a stream has yielded content."""
        if content_delivered or attempt >= self.max_retries:
            return False
        if isinstance(error, (ProviderConnectionError, ProviderTimeoutError, StreamDisconnectedError)):
            return True  # nothing reached the caller yet (checked above), so trying again is safe
        if error.retry_after is not None and error.retry_after > MAX_HONOURED_WAIT:
            return False
        return isinstance(error, RateLimitError) or error.status_code in RETRYABLE_STATUS

    def delay(self, error: ProviderError, attempt: int, rng: random.Random | None = None) -> float:
        if error.retry_after is not None:  # Retry-After (429, 503, 529...) wins over our own backoff
            return min(error.retry_after, MAX_HONOURED_WAIT)
        cap = min(self.max_delay, self.base_delay * (2**attempt))
        return (rng or random).uniform(cap / 2, cap)
