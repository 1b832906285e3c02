"""``SentinelAnthropic`` and ``AsyncSentinelAnthropic``: the anthropic clients with the wire guard in their transport.

Kept apart from ``deepsentinel.clients`` so that a program using only openai never imports the anthropic
package (seconds and tens of megabytes). Errors raised in these clients' calls are anthropic errors too
(``deepsentinel.anthropic_flavor``), so the SDK passes them through instead of wrapping and retrying them.
"""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2

from deepsentinel.anthropic_flavor import as_anthropic, sdk_status_class
from deepsentinel.clients import Family, _AsyncGuarded, _Guarded, _official, _settings
from deepsentinel.errors import DeepSentinelError, ProviderError

__all__ = ["AsyncSentinelAnthropic", "SentinelAnthropic"]


class _AnthropicGuarded(_Guarded):
    __slots__ = ()
    _family: Family = "anthropic"
    _connection_errors = (anthropic.APIConnectionError,)
    _timeout_errors = (anthropic.APITimeoutError,)

    @staticmethod
    def _flavor(error: DeepSentinelError) -> DeepSentinelError:
        return as_anthropic(error)

    def _status_class(self, err_msg: str, body: object, response: httpx2.Response) -> type[ProviderError]:
        return sdk_status_class(self, err_msg, body, response)


class _AsyncAnthropicGuarded(_AnthropicGuarded, _AsyncGuarded):
    __slots__ = ()


def guard_bases(cls: type) -> tuple[type, ...]:
    """The guard mixin for a (sync or async) anthropic client class, for ``protect()``."""
    return (_AsyncAnthropicGuarded,) if issubclass(cls, anthropic.AsyncAnthropic) else (_AnthropicGuarded,)


class SentinelAnthropic(_AnthropicGuarded, anthropic.Anthropic):  # type: ignore[misc]  # anthropic marks the error factory final
    """An ``anthropic.Anthropic`` with the same guard: ``messages.create``, ``messages.stream``, tools..."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        sentinel, kwargs = _settings(args, kwargs, "anthropic")
        assert sentinel is not None
        self._sentinel = sentinel
        super().__init__(**_official(sentinel, kwargs, "anthropic", sync=True, sdk_timeout=anthropic.DEFAULT_TIMEOUT,
                                     sdk_limits=anthropic.DEFAULT_CONNECTION_LIMITS))

    def close(self) -> None:
        super().close()
        self._sentinel.close()


class AsyncSentinelAnthropic(_AsyncAnthropicGuarded, anthropic.AsyncAnthropic):  # type: ignore[misc]
    """The asyncio twin of ``SentinelAnthropic``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        sentinel, kwargs = _settings(args, kwargs, "anthropic")
        assert sentinel is not None
        self._sentinel = sentinel
        super().__init__(**_official(sentinel, kwargs, "anthropic", sync=False, sdk_timeout=anthropic.DEFAULT_TIMEOUT,
                                     sdk_limits=anthropic.DEFAULT_CONNECTION_LIMITS))

    async def close(self) -> None:
        await super().close()
        self._sentinel.close()
