"""Our errors as the anthropic SDK's own, for calls an anthropic client makes. Imported only once one does.

The SDKs re-raise their own error types from a transport and wrap anything else in a connection error, so an
error raised inside an anthropic client's call must be an ``anthropic.AnthropicError``. Importing the anthropic
package costs seconds and tens of megabytes, so the error tree itself stays openai-only (see
``deepsentinel.errors``), and each of our errors has an anthropic twin here: a subclass of it and of the
anthropic class of the same meaning. ``as_anthropic(error)`` gives an error its twin's class in place, keeping
its attributes and traceback.
"""

from __future__ import annotations

from typing import Any

import anthropic

from deepsentinel.errors import (
    ComplianceViolationError,
    ConfigurationError,
    DeepSentinelError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    StreamDisconnectedError,
    UnreadableResponseError,
    ValidationError,
)

__all__ = ["ANTHROPIC_STATUS_ERRORS", "as_anthropic"]


def _twin(name: str, ours: type[DeepSentinelError], theirs: type[anthropic.AnthropicError], doc: str) -> Any:
    cls = type(f"Anthropic{name}", (ours, theirs), {"__doc__": doc, "__module__": __name__})
    globals()[cls.__name__] = cls  # importable by name: the twins pickle like any other error
    return cls


# Most derived first: an error takes the twin of the first of these classes it is an instance of.
_TWINS: tuple[tuple[type[DeepSentinelError], type[DeepSentinelError]], ...] = tuple(
    (ours, _twin(ours.__name__, ours, theirs, f"A ``{ours.__name__}`` raised in an anthropic client's call."))
    for ours, theirs in (
        (ComplianceViolationError, anthropic.AnthropicError),
        (ValidationError, anthropic.AnthropicError),
        (ConfigurationError, anthropic.AnthropicError),
        (ProviderTimeoutError, anthropic.APITimeoutError),
        (StreamDisconnectedError, anthropic.APIConnectionError),
        (ProviderConnectionError, anthropic.APIConnectionError),
        (UnreadableResponseError, anthropic.AnthropicError),
        (ProviderError, anthropic.AnthropicError),
        (DeepSentinelError, anthropic.AnthropicError),
    )
)


def as_anthropic(error: DeepSentinelError) -> DeepSentinelError:
    """``error``, now also an ``anthropic.AnthropicError`` (its class becomes its anthropic twin)."""
    if isinstance(error, anthropic.AnthropicError):
        return error
    for ours, twin in _TWINS:
        if isinstance(error, ours):
            error.__class__ = twin
            break
    return error


def _status_twin(name: str, base: type[anthropic.APIStatusError]) -> type[ProviderError]:
    cls: type[ProviderError] = _twin(name, ProviderError, base, f"An ``anthropic.{name}`` and a ``ProviderError``.")
    return cls


ANTHROPIC_STATUS_ERRORS: dict[int, type[ProviderError]] = {
    400: _status_twin("BadRequestError", anthropic.BadRequestError),
    401: _status_twin("AuthenticationError", anthropic.AuthenticationError),
    403: _status_twin("PermissionDeniedError", anthropic.PermissionDeniedError),
    404: _status_twin("NotFoundError", anthropic.NotFoundError),
    409: _status_twin("ConflictError", anthropic.ConflictError),
    422: _status_twin("UnprocessableEntityError", anthropic.UnprocessableEntityError),
    429: _status_twin("RateLimitError", anthropic.RateLimitError),
    500: _status_twin("InternalServerError", anthropic.InternalServerError),
    529: _status_twin("OverloadedError", anthropic.APIStatusError),
    0: _status_twin("APIStatusError", anthropic.APIStatusError),
}
