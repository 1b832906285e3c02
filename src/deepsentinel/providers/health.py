"""Provider health: take a failing provider out of rotation for a cool-down. Pure state, injected clock.

A provider that fails ``failure_threshold`` times in a row cools down for ``cooldown_seconds``. When the cool-down
ends it is tried again; one more failure sends it straight back (a half-open circuit), one success restores it.
The client records only fallback-worthy failures (``routing.is_fallback_worthy``): a 400 says nothing about
a provider's health.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deepsentinel.providers.routing import Target


@dataclass(frozen=True)
class ProviderHealth:
    """One provider's state: ``cooling_for`` is the seconds left out of rotation (0 when healthy)."""

    provider: str
    healthy: bool
    consecutive_failures: int
    cooling_for: float


@dataclass
class _State:
    failures: int = 0
    until: float | None = None  # monotonic time the cool-down ends; None when never cooled


class HealthTracker:
    """Counts consecutive failures per provider and skips providers that are cooling down.

    Thread-safe (one lock, no I/O under it) so one tracker can serve a sync client used from threads.
    """

    def __init__(
        self,
        cooldown_seconds: float = 30.0,
        failure_threshold: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if cooldown_seconds < 0 or failure_threshold < 1:
            raise ValueError("cooldown_seconds must be >= 0 and failure_threshold >= 1")
        self.cooldown_seconds = cooldown_seconds
        self.failure_threshold = failure_threshold
        self._clock = clock
        self._states: dict[str, _State] = {}
        self._lock = threading.Lock()

    def record_success(self, provider: str) -> None:
        """The provider answered: it is healthy again."""
        if provider not in self._states:  # the common case, read without the lock (a dict lookup is atomic)
            return
        with self._lock:
            self._states.pop(provider, None)

    def record_failure(self, provider: str) -> None:
        """The provider failed in a way that says something about its health."""
        with self._lock:
            state = self._states.setdefault(provider, _State())
            state.failures += 1
            # after a cool-down has run out, one failure is enough to send it back (half-open)
            if state.failures >= self.failure_threshold or state.until is not None:
                state.until = self._clock() + self.cooldown_seconds

    def is_healthy(self, provider: str) -> bool:
        """False while the provider is cooling down."""
        with self._lock:
            return self._cooling_for(provider) == 0.0

    def filter(self, targets: Sequence[Target]) -> list[Target]:
        """``targets`` without the cooling ones, order kept; all of them if every one is cooling down."""
        with self._lock:
            healthy = [t for t in targets if self._cooling_for(t.provider) == 0.0]
        return healthy or list(targets)

    def snapshot(self, providers: Sequence[str]) -> list[ProviderHealth]:
        """The state of each named provider, for ``health_check()`` reports."""
        with self._lock:
            out = []
            for name in providers:
                state = self._states.get(name)
                cooling = self._cooling_for(name)
                out.append(ProviderHealth(name, cooling == 0.0, state.failures if state else 0, cooling))
            return out

    def _cooling_for(self, provider: str) -> float:
        state = self._states.get(provider)
        if state is None or state.until is None:
            return 0.0
        return max(0.0, state.until - self._clock())
