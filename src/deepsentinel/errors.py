"""The DeepSentinel exception tree.

    DeepSentinelError
    ├── ConfigurationError          bad or missing configuration (unknown provider, missing key, bad file)
    ├── ValidationError             bad input to a call, raised before anything is sent
    ├── ComplianceViolationError    a policy blocked a request or a response
    └── ProviderError               the provider failed or could not be reached
        ├── AuthenticationError     401 / 403
        ├── RateLimitError          429 (carries ``retry_after`` in seconds)
        ├── ProviderTimeoutError    connect or read timeout (also a builtin ``TimeoutError``)
        ├── ProviderConnectionError the connection failed before a response arrived
        └── StreamDisconnectedError the connection dropped mid-stream (also a builtin ``ConnectionError``)

Messages and reprs name entity types and positions, never matched text, never a key.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from deepsentinel.policy.decision import Violation

Direction = Literal["request", "response"]


class DeepSentinelError(Exception):
    """Root of every error DeepSentinel raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(DeepSentinelError):
    """The configuration is invalid or incomplete; the message names what is missing."""


class ValidationError(DeepSentinelError, ValueError):
    """A call's arguments are invalid; raised before any network request."""


class ComplianceViolationError(DeepSentinelError):
    """A compliance policy blocked a request (nothing was sent) or a response (nothing more is shown)."""

    def __init__(
        self,
        message: str,
        *,
        violations: Sequence[Violation] = (),
        direction: Direction = "request",
        policy: str | None = None,
    ) -> None:
        super().__init__(message)
        self.violations: list[Violation] = list(violations)
        self.direction: Direction = direction
        self.policy = policy

    def __repr__(self) -> str:
        types = sorted({v.type for v in self.violations})
        return (
            f"ComplianceViolationError(direction={self.direction!r}, policy={self.policy!r}, "
            f"violations={types})"
        )


class ProviderError(DeepSentinelError):
    """The LLM provider returned an error or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status_code: int | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.status_code = status_code
        self.error_type = error_type
        self.request_id = request_id
        self.retry_after = retry_after  # seconds, when the provider said (Retry-After on a 503 or 529 too)

    def __reduce__(self) -> tuple[Any, ...]:
        # ``provider`` is keyword-only, so the default (``cls(*args)``) cannot rebuild the error: a worker
        # process (ProcessPoolExecutor, multiprocessing) raising one would break its pool on the way back.
        return (_rebuild, (type(self), self.args), self.__dict__)

    def __str__(self) -> str:
        status = f" {self.status_code}" if self.status_code is not None else ""
        return f"[{self.provider}{status}] {self.message}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(provider={self.provider!r}, status_code={self.status_code!r}, "
            f"message={self.message!r})"
        )


class AuthenticationError(ProviderError):
    """The provider rejected the credentials (401 or 403)."""


class RateLimitError(ProviderError):
    """The provider is rate limiting (429); ``retry_after`` is in seconds when the provider said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ProviderTimeoutError(ProviderError, builtins.TimeoutError):
    """Connecting to, or reading from, the provider took longer than the configured timeout."""


class ProviderConnectionError(ProviderError, builtins.ConnectionError):
    """The provider could not be reached (refused, reset, DNS) before any response arrived."""


class StreamDisconnectedError(ProviderError, builtins.ConnectionError):
    """The connection closed while a response was streaming; what was yielded before was safe."""


def _rebuild(cls: type[ProviderError], args: tuple[Any, ...]) -> ProviderError:
    """Unpickle a ``ProviderError``: create it without ``__init__``; pickle then restores its attributes."""
    error = cls.__new__(cls, *args)
    error.args = args  # OSError subclasses (timeouts, disconnects) set args in __init__, which is skipped here
    return error


# The name the issue tracker and the upstream docs use; it shadows the builtin only inside this module's users.
TimeoutError = ProviderTimeoutError

__all__ = [
    "AuthenticationError",
    "ComplianceViolationError",
    "ConfigurationError",
    "DeepSentinelError",
    "Direction",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitError",
    "StreamDisconnectedError",
    "TimeoutError",
    "ValidationError",
]
