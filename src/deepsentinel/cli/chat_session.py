"""The state of one ``deepsentinel chat`` conversation: history, streaming one answer, and statistics.

The session decides what the history keeps when a turn goes wrong: a blocked prompt is dropped (it never left
the process and must not be re-sent with the next message), a cancelled or failed turn is dropped, and a
response cut by the guard keeps only the safe prefix the user saw.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from deepsentinel.clients import SentinelClient
from deepsentinel.errors import ComplianceViolationError, ProviderError

TurnStatus = Literal["ok", "cut", "cancelled"]


@dataclass(frozen=True, slots=True)
class TurnResult:
    """How one answer ended: its visible text, token count, and timings in seconds."""

    status: TurnStatus
    text: str
    tokens: int
    first_token_s: float | None
    total_s: float
    usage_reported: bool
    error: ComplianceViolationError | None = None


@dataclass
class ChatStats:
    """Running totals for ``/stats``: answered messages, tokens, time to first token, generation speed."""

    messages: int = 0
    tokens: int = 0
    blocked: int = 0
    cut: int = 0
    cancelled: int = 0
    first_token_times: list[float] = field(default_factory=list)
    generation_seconds: float = 0.0
    estimated: bool = False

    def add(self, turn: TurnResult) -> None:
        if turn.status == "cancelled":
            self.cancelled += 1
            return
        self.messages += 1
        self.cut += turn.status == "cut"
        self.tokens += turn.tokens
        self.estimated |= not turn.usage_reported
        if turn.first_token_s is not None:
            self.first_token_times.append(turn.first_token_s)
            self.generation_seconds += max(turn.total_s - turn.first_token_s, 0.0)

    @property
    def last_first_token_s(self) -> float | None:
        return self.first_token_times[-1] if self.first_token_times else None

    @property
    def mean_first_token_s(self) -> float | None:
        times = self.first_token_times
        return sum(times) / len(times) if times else None

    @property
    def tokens_per_second(self) -> float | None:
        """Completion tokens over the time spent generating them (after each first token)."""
        return self.tokens / self.generation_seconds if self.generation_seconds > 0 else None


class ChatSession:
    """One conversation with one model through a ``SentinelClient``."""

    def __init__(
        self, client: SentinelClient, model: str, *, provider: str | None = None, system: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.client = client
        self.model = model
        self.provider = provider
        self.system = system
        self.params = dict(params or {})
        self.stats = ChatStats()
        self.history: list[dict[str, str]] = []
        self._ask_usage = True
        self.reset()

    def reset(self) -> None:
        """Forget the conversation (the system prompt stays); statistics are kept."""
        self.history = [{"role": "system", "content": self.system}] if self.system else []

    def ask(self, text: str, on_text: Callable[[str], None]) -> TurnResult:
        """Send ``text`` and stream the answer into ``on_text``.

        Raises ``ComplianceViolationError`` (direction "request") when the prompt is blocked, and
        ``ProviderError`` when the provider fails; in both cases the history is as before the call.
        A response cut by the guard is returned as status "cut" with the error attached.
        """
        self.history.append({"role": "user", "content": text})
        try:
            turn = self._stream(on_text)
        except ComplianceViolationError as exc:
            self.history.pop()
            if exc.direction == "request":
                self.stats.blocked += 1
            raise
        except BaseException:
            self.history.pop()
            raise
        if turn.status == "cancelled" or (turn.status == "cut" and not turn.text):
            self.history.pop()
        else:
            self.history.append({"role": "assistant", "content": turn.text})
        self.stats.add(turn)
        return turn

    def _open(self) -> Any:
        kwargs: dict[str, Any] = {"model": self.model, "messages": list(self.history), "stream": True, **self.params}
        if self.provider:
            kwargs["provider"] = self.provider
        if self._ask_usage:
            kwargs["stream_options"] = {"include_usage": True}
        try:
            return self.client.chat.completions.create(**kwargs)
        except ProviderError as exc:
            # Some OpenAI-compatible servers reject stream_options; ask once more without it, and remember.
            if not (self._ask_usage and exc.status_code in (400, 422)):
                raise
            self._ask_usage = False
            kwargs.pop("stream_options")
            return self.client.chat.completions.create(**kwargs)

    def _stream(self, on_text: Callable[[str], None]) -> TurnResult:
        started = time.perf_counter()
        stream = self._open()
        parts: list[str] = []
        pieces = 0
        first: float | None = None
        usage_tokens: int | None = None
        status: TurnStatus = "ok"
        error: ComplianceViolationError | None = None
        try:
            for chunk in stream:
                if chunk.usage is not None:
                    usage_tokens = chunk.usage.completion_tokens
                if not chunk.choices:
                    continue
                content = chunk.choices[0].delta.content
                if content:
                    if first is None:
                        first = time.perf_counter() - started
                    pieces += 1
                    parts.append(content)
                    on_text(content)
        except ComplianceViolationError as exc:
            if exc.direction != "response":
                raise
            status, error = "cut", exc
        except KeyboardInterrupt:
            status = "cancelled"
        finally:
            stream.close()
        return TurnResult(
            status, "".join(parts), usage_tokens if usage_tokens is not None else pieces, first,
            time.perf_counter() - started, usage_tokens is not None, error,
        )


__all__ = ["ChatSession", "ChatStats", "TurnResult", "TurnStatus"]
