"""What the fake server's handlers share: the script, the request log, settings and counters."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Literal

from deepsentinel.testing.replies import Reply, ReplyBook, default_reply_text, split_text
from deepsentinel.testing.request_log import RequestLog

StreamOutcome = Literal["completed", "abandoned"]

KNOWN_MODEL_PREFIXES = ("gpt-", "chatgpt-", "o1", "o3", "o4", "claude-", "text-embedding-", "ft:gpt-")
LISTED_MODELS = (
    "gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o3-mini", "o4-mini",
    "text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002",
    "claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1",
)


@dataclass
class ServerState:
    """Everything the handlers share: the script, the log, the settings and the stop signal."""

    book: ReplyBook = field(default_factory=ReplyBook)
    log: RequestLog = field(default_factory=RequestLog)
    api_key: str | None = None
    extra_models: tuple[str, ...] = ()
    default_reply: Reply | None = None
    stopping: threading.Event = field(default_factory=threading.Event)
    _counter_lock: threading.Lock = field(default_factory=threading.Lock)
    _counter: int = 0
    streams: dict[StreamOutcome, int] = field(default_factory=lambda: {"completed": 0, "abandoned": 0})
    requests_abandoned: int = 0

    def count_stream(self, outcome: StreamOutcome) -> None:
        """Count one SSE response that was ``completed`` or ``abandoned`` by its client."""
        with self._counter_lock:
            self.streams[outcome] += 1

    def count_request_abandoned(self) -> None:
        """Count one request whose client hung up while its answer was still delayed."""
        with self._counter_lock:
            self.requests_abandoned += 1

    def stream_count(self, outcome: StreamOutcome) -> int:
        """How many SSE responses ended with ``outcome``."""
        with self._counter_lock:
            return self.streams[outcome]

    def reset_stream_counts(self) -> None:
        """Zero the stream outcome counts and the abandoned requests."""
        with self._counter_lock:
            self.streams = {"completed": 0, "abandoned": 0}
            self.requests_abandoned = 0

    def next_number(self) -> int:
        """A fresh request number, for ids."""
        with self._counter_lock:
            self._counter += 1
            return self._counter

    def is_known_model(self, model: str) -> bool:
        """Whether ``model`` exists on this server."""
        return model in self.extra_models or model.startswith(KNOWN_MODEL_PREFIXES)

    def listed_models(self) -> list[str]:
        """The models the list endpoints show."""
        return list(LISTED_MODELS) + [m for m in self.extra_models if m not in LISTED_MODELS]

    def reply_for(self, prompt: str, max_tokens: Any = None) -> Reply:
        """The scripted reply, else the default one (cut to ``max_tokens`` word deltas)."""
        scripted = self.book.next_reply(prompt)
        if scripted is not None:
            return scripted
        if self.default_reply is not None:
            return self.default_reply
        chunks = split_text(default_reply_text(prompt))
        if isinstance(max_tokens, int) and 0 < max_tokens < len(chunks):
            return Reply(chunks=chunks[:max_tokens], finish_reason="length")
        return Reply(chunks=chunks)
