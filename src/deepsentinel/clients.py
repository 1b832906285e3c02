"""The clients: the official ``openai`` and ``anthropic`` clients, with the wire guard in their transport.

>>> from deepsentinel import SentinelClient
>>> client = SentinelClient(openai_api_key="sk-...")          # an openai.OpenAI: every method is theirs
>>> client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])

``SentinelClient`` and ``AsyncSentinelClient`` subclass ``openai.OpenAI`` / ``AsyncOpenAI``;
``SentinelAnthropic`` and ``AsyncSentinelAnthropic`` (``deepsentinel.anthropic_clients``, imported only when used:
the anthropic package is slow to import) subclass the anthropic clients. They adapt only the SDKs' seams: the constructor (our settings, a guarded ``http_client``), ``request()`` (one audit event per call across
the SDK's retries), the status-error factory (our error types) and ``chat.completions.create`` (``provider=``
and ``fallbacks=``, handed to the transport out of band). ``protect(obj)`` guards a client you already have.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from functools import cache, cached_property
from typing import Any, Literal

import httpx2
import openai
from openai.resources.chat import AsyncChat, AsyncCompletions, Chat, Completions

from deepsentinel.audit.log import AuditLog
from deepsentinel.audit.store import AuditStore
from deepsentinel.calls import CallRecord
from deepsentinel.config import SentinelConfig
from deepsentinel.errors import (
    ConfigurationError,
    DeepSentinelError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    ValidationError,
    status_error_class,
)
from deepsentinel.http_clients import explicit_timeout, guard_http_client, new_http_client, sentinel_of
from deepsentinel.metrics.collector import MetricsCollector
from deepsentinel.metrics.monitor import ComplianceMonitor
from deepsentinel.policy.policy import CompliancePolicy
from deepsentinel.providers.retry import parse_retry_after
from deepsentinel.providers.routing import Target
from deepsentinel.sentinel import Sentinel
from deepsentinel.transport import PROVIDER_EXTENSION
from deepsentinel.wire.exchange import FALLBACKS_HEADER, PLACEHOLDER_KEY, PROVIDER_HEADER
from deepsentinel.wire.scope import CallScope, current_scope

Family = Literal["openai", "anthropic"]


class _Guarded:
    """What every guarded client adds to the official one: the call scope, our errors, our introspection."""

    __slots__ = ()  # no layout of its own, so protect() can give an existing client this class
    _sentinel: Sentinel
    _family: Family = "openai"
    # The SDK's own connection and timeout errors (the anthropic clients name theirs).
    _connection_errors: tuple[type[Exception], ...] = (openai.APIConnectionError,)
    _timeout_errors: tuple[type[Exception], ...] = (openai.APITimeoutError,)

    @staticmethod
    def _flavor(error: DeepSentinelError) -> DeepSentinelError:
        """Our error as this SDK's own (the anthropic clients make it an ``anthropic.AnthropicError``)."""
        return error

    def request(self, *args: Any, **kwargs: Any) -> Any:
        with CallScope(max_retries=self._max_retries_for(args, kwargs), deadline=_outer_deadline()):
            try:
                return super().request(*args, **kwargs)  # type: ignore[misc]
            except self._connection_errors as exc:
                raise self._flavor(connection_error(exc, self._family, self._timeout_errors)) from exc
            except RecursionError:  # the SDK could not even encode the body: refused, and recorded
                raise self._too_deep() from None

    def _max_retries_for(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int | None:
        """The retries the SDK allows this call (``request(cast_to, options, ...)``): a stream that breaks before
        any of it was shown is reopened within the same budget."""
        options = kwargs.get("options", args[1] if len(args) > 1 else None)
        budget = getattr(options, "get_max_retries", None)
        retries = budget(self.max_retries) if callable(budget) else getattr(self, "max_retries", None)  # type: ignore[attr-defined]
        return retries if isinstance(retries, int) else None

    def _too_deep(self) -> DeepSentinelError:
        error = ValidationError("the request is nested too deeply to check or send")
        CallRecord(self._sentinel.sink, self._sentinel.guard.key, "unknown", self._family, "").finish_with_error(error)
        return self._flavor(error)

    def _status_class(self, err_msg: str, body: object, response: httpx2.Response) -> type[ProviderError]:
        """The error class for an error answer: ours of the openai SDK's (the anthropic clients take their SDK's)."""
        return status_error_class(response.status_code, "openai")

    def _make_status_error(self, err_msg: str, *, body: object, response: httpx2.Response) -> Any:
        data = body.get("error", body) if self._family == "openai" and isinstance(body, Mapping) else body
        error = self._status_class(err_msg, data, response)(err_msg, response=response, body=data)
        error.provider = str(response.extensions.get(PROVIDER_EXTENSION, self._family))
        error.retry_after = parse_retry_after(response.headers)
        return error

    @property
    def user_agent(self) -> str:
        """The official client's own (``OpenAI/Python 2.x``), named after the class the user chose, not ours: a
        provider or proxy that reads it sees the SDK it knows."""
        return f"{_official_name(type(self))}/Python {self._version}"  # type: ignore[attr-defined]

    def copy(self, *args: Any, **kwargs: Any) -> Any:
        """The official ``copy()``/``with_options()``, keeping this client's guard, policies and audit trail,
        whatever ``http_client`` the copy is given."""
        http_client = kwargs.get("http_client")
        if http_client is not None and sentinel_of(http_client) is None:
            kwargs["http_client"] = guard_http_client(http_client, self._sentinel)
        elif http_client is None:
            kwargs["http_client"] = self._client  # type: ignore[attr-defined]
        copied = super().copy(*args, **kwargs)  # type: ignore[misc]
        copied._sentinel = self._sentinel
        return copied

    with_options = copy

    # WebSocket APIs (Realtime, Responses over WebSocket, Live) do not go through httpx, so not through the guard.
    # Each asks the client for its query parameters before it connects: refused there, nothing is sent.
    def _websocket_query_params(self, *args: Any, **kwargs: Any) -> Any:
        raise self._flavor(ConfigurationError(
            "this API runs over a WebSocket, which DeepSentinel does not guard: nothing was sent. Use its HTTP "
            "form (streamed or not), or a plain client if the traffic may go unchecked."))

    _websocket_query_params_fallback = _websocket_query_params
    _configure_realtime = _websocket_query_params  # AzureOpenAI's Realtime builds its URL here instead

    @property
    def config(self) -> SentinelConfig:
        """The DeepSentinel settings this client runs with."""
        return self._sentinel.config

    @property
    def policies(self) -> tuple[CompliancePolicy, ...]:
        return self._sentinel.policies

    @property
    def audit(self) -> AuditLog:
        """The audit trail of this client's store: ``list``, ``report``, ``verify``, ``prune``, ``export_jsonl``."""
        store = self._sentinel.store
        if not isinstance(store, AuditStore):
            raise ConfigurationError("this client has no queryable audit store (audit=False or a custom sink)")
        store.flush()
        return AuditLog(store)

    @property
    def metrics(self) -> MetricsCollector:
        """Counters and latency histograms; ``snapshot()`` for humans, ``to_prometheus()`` for scrapers."""
        self._sentinel.settle()
        return self._sentinel.metrics

    @property
    def monitor(self) -> ComplianceMonitor:
        """Real-time hooks: ``client.monitor.on("violation_detected", fn)``."""
        return self._sentinel.monitor


class _AsyncGuarded(_Guarded):
    __slots__ = ()

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        with CallScope(max_retries=self._max_retries_for(args, kwargs), deadline=_outer_deadline()):
            try:
                return await super().request(*args, **kwargs)
            except self._connection_errors as exc:
                raise self._flavor(connection_error(exc, self._family, self._timeout_errors)) from exc
            except RecursionError:  # the SDK could not even encode the body: refused, and recorded
                raise self._too_deep() from None


def connection_error(exc: Any, family: Family, timeout_errors: tuple[type[Exception], ...]) -> DeepSentinelError:
    """The SDK's connection or timeout error as ours, naming the host and the reason (never a key)."""
    if isinstance(exc, DeepSentinelError):
        return exc
    request = exc.request
    host = request.url.host + (f":{request.url.port}" if request.url.port else "")
    cause = exc.__cause__
    if isinstance(exc, timeout_errors):
        what = "no free connection in the pool" if isinstance(cause, httpx2.PoolTimeout) else "timed out"
        return ProviderTimeoutError(f"{what} talking to {host}", request=request, provider=family)
    reason = (str(cause) or type(cause).__name__) if cause is not None else "connection failed"
    return ProviderConnectionError(f"could not reach {host}: {reason}", request=request, provider=family)


def _routing(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Move ``provider=`` and ``fallbacks=`` out of a create() call into headers the transport removes."""
    provider, fallbacks = kwargs.pop("provider", None), kwargs.pop("fallbacks", None)
    if provider is None and fallbacks is None:
        return kwargs
    headers = dict(kwargs.get("extra_headers") or {})
    if provider is not None:
        if not isinstance(provider, str):
            raise ValidationError("provider must be a provider name")
        headers[PROVIDER_HEADER] = provider
    if fallbacks is not None:
        if not isinstance(fallbacks, list | tuple) or not all(isinstance(f, str | Target) for f in fallbacks):
            raise ValidationError("fallbacks must be a list of 'provider/model' strings or Targets")
        headers[FALLBACKS_HEADER] = json.dumps([str(f) for f in fallbacks])
    kwargs["extra_headers"] = headers
    return kwargs


class SentinelCompletions(Completions):
    """``chat.completions``: every official parameter, plus ``provider=`` and ``fallbacks=``."""

    def create(self, **kwargs: Any) -> Any:
        return super().create(**_routing(kwargs))


class AsyncSentinelCompletions(AsyncCompletions):
    async def create(self, **kwargs: Any) -> Any:
        return await super().create(**_routing(kwargs))


class SentinelChat(Chat):
    @cached_property
    def completions(self) -> SentinelCompletions:
        return SentinelCompletions(self._client)


class AsyncSentinelChat(AsyncChat):
    @cached_property
    def completions(self) -> AsyncSentinelCompletions:
        return AsyncSentinelCompletions(self._client)


class _OpenAIRouting:
    __slots__ = ()

    @cached_property
    def chat(self) -> SentinelChat:
        return SentinelChat(self)  # type: ignore[arg-type]


class _AsyncOpenAIRouting:
    __slots__ = ()

    @cached_property
    def chat(self) -> AsyncSentinelChat:
        return AsyncSentinelChat(self)  # type: ignore[arg-type]


_OURS = ("sentinel_api_key", "openai_api_key", "anthropic_api_key", "compliance_policies", "config", "audit",
         "openai_base_url", "anthropic_base_url")


def _settings(positional: tuple[Any, ...], kwargs: dict[str, Any], family: Family) -> tuple[Sentinel | None, dict[str, Any]]:
    """Split constructor arguments into DeepSentinel's (a ``Sentinel``) and the official client's."""
    names = ("sentinel_api_key", "openai_api_key", "anthropic_api_key")
    if len(positional) > len(names):
        raise TypeError(f"at most {len(names)} positional arguments ({', '.join(names)})")
    ours = dict(zip(names, positional, strict=False))
    for name in _OURS:
        if name in kwargs:
            ours[name] = kwargs.pop(name)
    http_client = kwargs.get("http_client")
    existing = sentinel_of(http_client)
    if existing is not None:  # copy()/with_options(): the same guard, the same audit trail
        return existing, kwargs
    # The official ``api_key``/``base_url`` are this client's provider's key and URL. A callable key (the openai
    # SDK asks it for a fresh key per request) stays the SDK's alone: the guard reads the key each request carries.
    if isinstance(kwargs.get("api_key"), str):
        ours.setdefault(f"{family}_api_key", kwargs["api_key"])
    if isinstance(kwargs.get("base_url"), str):
        ours.setdefault(f"{family}_base_url", kwargs["base_url"])
    return Sentinel(**ours), kwargs


def _official(sentinel: Sentinel, kwargs: dict[str, Any], family: Family, sync: bool,
              sdk_timeout: httpx2.Timeout = openai.DEFAULT_TIMEOUT,
              sdk_limits: httpx2.Limits = openai.DEFAULT_CONNECTION_LIMITS) -> dict[str, Any]:
    """The official client's arguments: ours filled in where the user gave none. Timeouts and the pool stay the
    SDK's defaults (``sdk_timeout``, ``sdk_limits``) unless ``timeout=`` or ``PerformanceConfig`` sets them."""
    config, perf = sentinel.config, sentinel.performance
    key = getattr(config, f"{family}_api_key")
    if kwargs.get("api_key") is None and key is not None:
        kwargs["api_key"] = key.get_secret_value()
    if kwargs.get("base_url") is None and getattr(config, f"{family}_base_url"):
        kwargs["base_url"] = getattr(config, f"{family}_base_url")
    if "timeout" not in kwargs and (timeout := explicit_timeout(perf, sdk_timeout)) is not None:
        kwargs["timeout"] = timeout
    kwargs.setdefault("max_retries", perf.max_retries)
    http_client = kwargs.get("http_client")
    if sentinel_of(http_client) is None:
        kwargs["http_client"] = guard_http_client(http_client, sentinel) if http_client is not None else new_http_client(sentinel, sync, sdk_timeout, sdk_limits)
    return kwargs


class SentinelClient(_OpenAIRouting, _Guarded, openai.OpenAI):
    """An ``openai.OpenAI`` that checks every prompt before it leaves and every answer before it is shown.

    Takes the official arguments (``api_key``, ``base_url``, ``organization``, ``timeout``, ``max_retries``,
    ``default_headers``, ``http_client``...) and DeepSentinel's (``sentinel_api_key``, ``openai_api_key``,
    ``anthropic_api_key``, ``compliance_policies``, ``config``, ``audit``). Keys and URLs fall back to
    ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``ANTHROPIC_API_KEY``, ``ANTHROPIC_BASE_URL`` and ``DEEPSENTINEL_*``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        sentinel, kwargs = _settings(args, kwargs, "openai")
        assert sentinel is not None
        self._sentinel = sentinel
        kwargs = _official(sentinel, kwargs, "openai", sync=True)
        if kwargs.get("api_key") is None and not os.environ.get("OPENAI_API_KEY"):
            kwargs["_enforce_credentials"] = False  # Anthropic-only: OpenAI calls say which key is missing
            kwargs["api_key"] = PLACEHOLDER_KEY
            sentinel.missing_keys.add("openai")
        super().__init__(**kwargs)

    def close(self) -> None:
        """Release pooled connections and flush the audit trail; safe to call twice."""
        super().close()
        self._sentinel.close()


class AsyncSentinelClient(_AsyncOpenAIRouting, _AsyncGuarded, openai.AsyncOpenAI):
    """The asyncio twin of ``SentinelClient``: an ``openai.AsyncOpenAI``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        sentinel, kwargs = _settings(args, kwargs, "openai")
        assert sentinel is not None
        self._sentinel = sentinel
        kwargs = _official(sentinel, kwargs, "openai", sync=False)
        if kwargs.get("api_key") is None and not os.environ.get("OPENAI_API_KEY"):
            kwargs["_enforce_credentials"] = False
            kwargs["api_key"] = PLACEHOLDER_KEY
            sentinel.missing_keys.add("openai")
        super().__init__(**kwargs)

    async def close(self) -> None:
        """Release pooled connections and flush the audit trail; safe to call twice."""
        await super().close()
        self._sentinel.close()


def _outer_deadline() -> float | None:
    """The deadline of a ``call_scope(timeout)`` the call runs in: it bounds all of the call's attempts together."""
    outer = current_scope()
    return outer.deadline if outer is not None else None


def protect(obj: Any, **settings: Any) -> Any:
    """Guard a client you already have; ``settings`` are DeepSentinel's (``compliance_policies``, ``config``...).

    * an ``openai.OpenAI``/``AsyncOpenAI``/``AzureOpenAI`` or an anthropic client: a protected copy of it, of a
      subclass of its own class (``isinstance`` checks keep passing);
    * an ``httpx2.Client``/``AsyncClient``: a guarded client sharing its connection pool, for
      ``ChatOpenAI(http_client=...)``, LiteLLM or any OpenAI-compatible SDK. Each HTTP request is then one
      audited call (there is no SDK call around it to group retries).
    """
    unknown = set(settings) - set(_OURS)
    if unknown:
        raise TypeError(f"protect() got unexpected settings: {', '.join(sorted(unknown))}")
    if isinstance(obj, (httpx2.Client, httpx2.AsyncClient)):
        return guard_http_client(obj, Sentinel(**settings))
    family = _family_of(obj)
    if family is None:
        raise TypeError(f"protect() takes an openai or anthropic client or an httpx2 client, not {type(obj).__name__}")
    if sentinel_of(obj._client) is not None:
        return obj  # already guarded
    key = getattr(obj, "api_key", None)
    if isinstance(key, str) and key:
        settings.setdefault(f"{family}_api_key", key)
    settings.setdefault(f"{family}_base_url", str(obj.base_url))
    sentinel = Sentinel(**settings)
    copy = obj.copy(http_client=guard_http_client(obj._client, sentinel))
    cls = _protected_class(type(obj), family)  # type: ignore[arg-type]
    protected = cls.__new__(cls)
    protected.__dict__.update(copy.__dict__)  # the copy's state, under a subclass of its own class
    protected._sentinel = sentinel
    return protected


def _family_of(obj: Any) -> Family | None:
    if isinstance(obj, (openai.OpenAI, openai.AsyncOpenAI)):
        return "openai"
    anthropic = sys.modules.get("anthropic")  # an anthropic client exists only once the package is imported
    if anthropic is not None and isinstance(obj, (anthropic.Anthropic, anthropic.AsyncAnthropic)):
        return "anthropic"
    return None


def _official_name(cls: type) -> str:
    """The first class a guarded client's class derives from that is not ours: the official client, or the
    user's own subclass of it that ``protect()`` was given."""
    name = _OFFICIAL_NAMES.get(cls)
    if name is None:
        name = _OFFICIAL_NAMES[cls] = next(c.__name__ for c in cls.__mro__ if not c.__module__.startswith("deepsentinel."))
    return name


_OFFICIAL_NAMES: dict[type, str] = {}  # per guarded class: the SDK asks for its User-Agent on every request


@cache
def _protected_class(cls: Any, family: Family) -> Any:
    if family == "anthropic":
        from deepsentinel.anthropic_clients import guard_bases

        bases = guard_bases(cls)
    elif issubclass(cls, openai.AsyncOpenAI):
        bases = (_AsyncOpenAIRouting, _AsyncGuarded)
    else:
        bases = (_OpenAIRouting, _Guarded)
    name = f"Protected{cls.__name__}"
    return type(name, (*bases, cls), {"_family": family, "__module__": __name__})


__all__ = ["AsyncSentinelClient", "SentinelClient", "guard_http_client", "protect"]
