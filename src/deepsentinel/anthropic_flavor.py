"""Our errors as the anthropic SDK's own, for calls an anthropic client makes. Imported only once one does.

The SDKs re-raise their own error types from a transport and wrap anything else in a connection error, so an
error raised inside an anthropic client's call must be an ``anthropic.AnthropicError``. Importing the anthropic
package costs seconds and tens of megabytes, so the error tree itself stays openai-only (see
``deepsentinel.errors``), and each of our errors has an anthropic twin here: a subclass of it and of the
anthropic class of the same meaning. ``as_anthropic(error)`` gives an error its twin's class in place, keeping
its attributes and traceback.
"""

from __future__ import annotations

import threading
from typing import Any

import anthropic
import httpx2

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

__all__ = ["ANTHROPIC_STATUS_ERRORS", "as_anthropic", "sdk_status_class", "status_twin"]


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


def status_twin(theirs: type[anthropic.APIStatusError]) -> type[ProviderError]:
    """The ``ProviderError`` twin of one of the anthropic SDK's status errors, made once per class. The SDK picks
    the class (by status and by the error's code, from a table that grows with every release); we take its pick."""
    with _MAKING:  # one class per name: an instance of a twin that lost a race would not pickle
        found = globals().get(f"Anthropic{theirs.__name__}")
        if isinstance(found, type) and issubclass(found, theirs) and issubclass(found, ProviderError):
            return found
        cls: type[ProviderError] = _twin(theirs.__name__, ProviderError, theirs,
                                         f"An ``anthropic.{theirs.__name__}`` and a ``ProviderError``.")
        return cls


_MAKING = threading.Lock()


def sdk_status_class(client: Any, err_msg: str, body: object, response: httpx2.Response) -> type[ProviderError]:
    """The twin of the class the anthropic SDK raises for this error answer (``client``: the anthropic client, sync or
    async: their factories are one function)."""
    theirs = anthropic.Anthropic._make_status_error(client, err_msg, body=body, response=response)
    return status_twin(type(theirs))


def __getattr__(name: str) -> Any:
    # A twin made in another process, being unpickled here: made again from the SDK's class of that name.
    if name.startswith("Anthropic"):
        wanted = name.removeprefix("Anthropic")
        # Exported at the package's top, or only in the SDK's table of error classes (most code-specific ones).
        table = getattr(getattr(anthropic, "_error_classes", None), "ERROR_CLASSES", {})
        for theirs in (getattr(anthropic, wanted, None), *table.values()):
            if isinstance(theirs, type) and issubclass(theirs, anthropic.APIStatusError) and theirs.__name__ == wanted:
                return status_twin(theirs)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _sdk_class(name: str) -> type[anthropic.APIStatusError]:
    """``anthropic.<name>``, or the generic status error in an SDK release without it."""
    found = getattr(anthropic, name, None)
    return found if isinstance(found, type) and issubclass(found, anthropic.APIStatusError) else anthropic.APIStatusError


#: The twins of the SDK's classes by status alone (0: any other status); the clients take the SDK's own pick.
ANTHROPIC_STATUS_ERRORS: dict[int, type[ProviderError]] = {
    status: status_twin(_sdk_class(name)) for status, name in (
        (400, "BadRequestError"), (401, "AuthenticationError"), (402, "PaymentRequiredError"),
        (403, "PermissionDeniedError"), (404, "NotFoundError"), (408, "RequestTimeoutError"),
        (409, "ConflictError"), (413, "ContentTooLargeError"), (422, "UnprocessableEntityError"),
        (429, "RateLimitError"), (500, "InternalServerError"), (501, "HTTPNotImplementedError"),
        (503, "ServiceUnavailableError"), (504, "GatewayTimeoutError"), (529, "OverloadedError"),
        (0, "APIStatusError"),
    )
}
