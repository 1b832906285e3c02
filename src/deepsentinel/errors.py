"""The DeepSentinel exception tree. Every error is also the official SDKs' own type, so it passes through them.

    DeepSentinelError               also an ``openai.OpenAIError`` (in an anthropic client's call, an ``anthropic.AnthropicError``)
    ├── ConfigurationError          bad or missing configuration (unknown provider, missing key, bad file)
    ├── ValidationError             bad input to a call, raised before anything is sent (also a ``ValueError``)
    ├── ComplianceViolationError    a policy blocked a request or a response
    └── ProviderError               the provider failed or could not be reached (``.provider``, ``.status_code``)
        ├── BadRequestError, NotFoundError, ...     the ``openai`` status errors of the same name
        ├── AuthenticationError     401 (an ``openai.AuthenticationError``)
        ├── RateLimitError          429 (an ``openai.RateLimitError``; ``.retry_after`` in seconds)
        ├── InternalServerError     5xx
        ├── ProviderTimeoutError    the call ran out of time (an ``openai.APITimeoutError``, a builtin ``TimeoutError``)
        ├── ProviderConnectionError the connection failed (an ``openai.APIConnectionError``)
        └── StreamDisconnectedError the connection dropped mid-stream (a builtin ``ConnectionError``)

The SDKs re-raise their own error types from a transport unwrapped (anything else becomes a connection error),
which is why the root is an ``openai.OpenAIError``. Errors raised in an anthropic client's call are their
``Anthropic*`` twins (``deepsentinel.anthropic_flavor``): each one of ours and the anthropic error of the same
meaning, so ``except deepsentinel.ComplianceViolationError`` and ``except anthropic.AnthropicError`` both catch
it. The twins live apart because importing the anthropic package costs seconds and tens of megabytes that an
openai-only program should not pay.

Messages and reprs name entity types and positions, never matched text, never a key: provider error text is
redacted at the wire before any of these is built.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import openai

if TYPE_CHECKING:
    from deepsentinel.policy.decision import Violation

Direction = Literal["request", "response"]


class DeepSentinelError(openai.OpenAIError):
    """Root of every error DeepSentinel raises."""

    message: str

    def __init__(self, message: str, *args: Any, **kwargs: Any) -> None:
        # Cooperative: a status error continues into the SDK's own ``__init__`` (response=, body=).
        super().__init__(message, *args, **kwargs)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors cannot be rebuilt from ``args``: restore the attributes instead, so an
        # error crosses a process pool intact.
        return (_rebuild, (type(self), self.args), self.__dict__)


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
        return f"ComplianceViolationError(direction={self.direction!r}, policy={self.policy!r}, violations={types})"


class ProviderError(DeepSentinelError):
    """The LLM provider returned an error or could not be reached.

    ``provider`` names it; ``status_code`` is the HTTP status (``None`` for connection failures). ``str()`` of an
    error answer (a status error, with ``.response``) is the SDK's own (``Error code: 400 - ...``); of any other
    failure, ``[provider] message``.
    """

    provider: str = "unknown"
    status_code: int | None = None
    retry_after: float | None = None  # seconds, when the provider said (Retry-After, retry-after-ms)
    error_type: str | None = None

    def __init__(
        self,
        message: str,
        *args: Any,
        provider: str | None = None,
        status_code: int | None = None,
        error_type: str | None = None,
        retry_after: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, *args, **kwargs)
        for name, value in (("provider", provider), ("status_code", status_code), ("error_type", error_type),
                            ("retry_after", retry_after)):
            if value is not None:
                setattr(self, name, value)

    def __str__(self) -> str:
        if getattr(self, "response", None) is not None:  # an error answer, raised as the SDK's: in its very words
            return super().__str__()
        status = f" {self.status_code}" if self.status_code is not None else ""
        return f"[{self.provider}{status}] {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(provider={self.provider!r}, status_code={self.status_code!r}, message={self.message!r})"


class BadRequestError(ProviderError, openai.BadRequestError):  # type: ignore[misc]  # status_code: int there, int | None here
    """400."""


class AuthenticationError(ProviderError, openai.AuthenticationError):  # type: ignore[misc]  # status_code: int there, int | None here
    """401: the provider rejected the credentials."""


class PermissionDeniedError(ProviderError, openai.PermissionDeniedError):  # type: ignore[misc]  # status_code: int there, int | None here
    """403."""


class NotFoundError(ProviderError, openai.NotFoundError):  # type: ignore[misc]  # status_code: int there, int | None here
    """404: an unknown model or endpoint."""


class ConflictError(ProviderError, openai.ConflictError):  # type: ignore[misc]  # status_code: int there, int | None here
    """409."""


class UnprocessableEntityError(ProviderError, openai.UnprocessableEntityError):  # type: ignore[misc]  # status_code: int there, int | None here
    """422."""


class RateLimitError(ProviderError, openai.RateLimitError):  # type: ignore[misc]  # status_code: int there, int | None here
    """429: the provider is rate limiting; ``retry_after`` is in seconds when the provider said."""


class InternalServerError(ProviderError, openai.InternalServerError):  # type: ignore[misc]  # status_code: int there, int | None here
    """5xx: the provider failed."""


class APIStatusError(ProviderError, openai.APIStatusError):  # type: ignore[misc]  # status_code: int there, int | None here
    """Any other error status."""


class ProviderConnectionError(ProviderError, openai.APIConnectionError, builtins.ConnectionError):
    """The provider could not be reached (refused, reset, DNS) before any response arrived."""

    def __init__(self, message: str = "Connection error.", *, request: Any, provider: str = "unknown") -> None:
        openai.APIError.__init__(self, message, request, body=None)  # their __init__ takes no message
        self.message, self.provider = message, provider


class ProviderTimeoutError(ProviderError, openai.APITimeoutError, builtins.TimeoutError):
    """The call ran out of time: a connect or read timeout, or the whole-call deadline (``timeout``)."""

    def __init__(self, message: str = "Request timed out.", *, request: Any, provider: str = "unknown") -> None:
        openai.APIError.__init__(self, message, request, body=None)  # their __init__ takes no message
        self.message, self.provider = message, provider


class StreamDisconnectedError(ProviderError, openai.APIConnectionError, builtins.ConnectionError):
    """The connection closed while a response was streaming; what was shown before was checked."""

    def __init__(self, message: str = "Connection closed while streaming.", *, request: Any, provider: str = "unknown") -> None:
        openai.APIError.__init__(self, message, request, body=None)  # their __init__ takes no message
        self.message, self.provider = message, provider


class UnreadableResponseError(ProviderError):
    """The provider's answer came in a form the guard cannot read: a content coding it cannot undo (it asks for
    none), or compressed bytes that are broken. Nothing of the answer was shown."""


# The name the tutorial and the upstream docs use; it shadows the builtin only inside this module's users.
TimeoutError = ProviderTimeoutError

OPENAI_STATUS_ERRORS: dict[int, type[ProviderError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status: int, family: Literal["openai", "anthropic"]) -> type[ProviderError]:
    """The error class for an HTTP ``status`` in the family of the client that made the call."""
    if family == "anthropic":
        from deepsentinel.anthropic_flavor import ANTHROPIC_STATUS_ERRORS as table

        return table.get(status) or (table[500] if status >= 500 else table[0])
    return OPENAI_STATUS_ERRORS.get(status) or (InternalServerError if status >= 500 else APIStatusError)


def __getattr__(name: str) -> Any:
    if name == "ANTHROPIC_STATUS_ERRORS":  # imports the anthropic SDK: only when asked for
        from deepsentinel.anthropic_flavor import ANTHROPIC_STATUS_ERRORS

        return ANTHROPIC_STATUS_ERRORS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _rebuild(cls: type[DeepSentinelError], args: tuple[Any, ...]) -> DeepSentinelError:
    """Unpickle: create the error without ``__init__``; pickle then restores its attributes."""
    error = cls.__new__(cls, *args)
    error.args = args
    return error


__all__ = [
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "ComplianceViolationError",
    "ConfigurationError",
    "ConflictError",
    "DeepSentinelError",
    "Direction",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitError",
    "StreamDisconnectedError",
    "UnreadableResponseError",
    "TimeoutError",
    "UnprocessableEntityError",
    "ValidationError",
    "status_error_class",
]
