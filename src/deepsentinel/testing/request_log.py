"""The fake server's record of every request it received."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it. Headers have lower-case names; ``json`` is None if the body is not JSON.

    The repr shows only method and path: headers carry API keys and bodies carry prompts.
    """

    method: str
    path: str
    headers: Mapping[str, str] = field(repr=False)
    json: Any = field(repr=False)
    body: bytes = field(repr=False)
    query: str = field(default="", repr=False)


class RequestLog:
    """A thread-safe, append-only list of :class:`RecordedRequest`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []

    def append(self, request: RecordedRequest) -> None:
        """Record one request."""
        with self._lock:
            self._items.append(request)

    def snapshot(self) -> list[RecordedRequest]:
        """A copy of the requests so far, oldest first."""
        with self._lock:
            return list(self._items)

    def count(self, path: str | None = None) -> int:
        """How many requests were received, to ``path`` if given."""
        with self._lock:
            if path is None:
                return len(self._items)
            return sum(1 for item in self._items if item.path == path)

    def clear(self) -> None:
        """Forget every request."""
        with self._lock:
            self._items.clear()
