"""Which provider and endpoint ``deepsentinel chat`` talks to, and how a failure to reach it is explained.

The chat decides the provider once, before the first message, and passes it on every call: the banner, the
key check and the requests then always name the same provider (a ``claude-*`` model goes to Anthropic, as
the SDK would route it, and ``--api-key``/``--base-url`` apply to it).
"""

from __future__ import annotations

import os
import re
import socket
from urllib.parse import urlsplit

from deepsentinel.config import SentinelConfig
from deepsentinel.errors import ProviderError

DEFAULT_ENDPOINTS = {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com"}
ENV_BASE_URL = {"openai": "OPENAI_BASE_URL", "anthropic": "ANTHROPIC_BASE_URL"}
_PROBE_TIMEOUT_S = 3.0
# The SDK names its own keyword arguments; on the command line the same setting is a flag.
_SDK_KEY_HINT = re.compile(r"pass (?:openai|anthropic)_api_key=")


def choose_provider(flag: str | None, model: str | None, config: SentinelConfig | None) -> str:
    """``--provider``; else the provider a model alias in the config belongs to; else Anthropic for a
    ``claude-*`` model; else the configured default (``$DEEPSENTINEL_DEFAULT_PROVIDER``, then openai)."""
    if flag:
        return flag
    if config is not None and model:
        owner = next((p.name for p in config.providers if model in p.model_aliases), None)
        if owner is not None:
            return owner
    if model and model.strip().lower().startswith("claude-"):
        return "anthropic"
    if config is not None:
        return config.default_provider
    return os.environ.get("DEEPSENTINEL_DEFAULT_PROVIDER") or "openai"


def endpoint_for(provider: str, base_url: str | None, config: SentinelConfig | None) -> str | None:
    """The base URL the chat's requests go to, as the user configured it (None if unknown)."""
    if base_url:
        return base_url
    if config is not None:
        entry = config.provider(provider)
        if entry is not None:
            return entry.base_url or DEFAULT_ENDPOINTS.get(entry.kind)
        configured = {"openai": config.openai_base_url, "anthropic": config.anthropic_base_url}.get(provider)
        if configured:
            return configured
    env = ENV_BASE_URL.get(provider)
    return (os.environ.get(env) if env else None) or DEFAULT_ENDPOINTS.get(provider)


def shown_url(url: str) -> str:
    """``scheme://host:port/path`` of a URL: user info and query strings may hold credentials."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def connection_reason(error: BaseException, url: str | None) -> str | None:
    """Why ``url`` could not be reached: the low-level cause if the error carries one, else a fresh probe.

    The probe resolves the host and opens (then closes) one TCP connection, as ``curl`` would, so the message
    can say "Connection refused" or "cannot resolve host" instead of only an exception's class name.
    """
    cause = _os_cause(error)
    if cause is not None:
        return cause
    if not url:
        return None
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "invalid port in the URL"
    try:
        socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"cannot resolve host {parts.hostname} ({exc.strerror})"
    try:
        with socket.create_connection((parts.hostname, port), timeout=_PROBE_TIMEOUT_S):
            return None  # reachable now: the failure was transient or above TCP; say nothing we do not know
    except TimeoutError:
        return f"no answer within {_PROBE_TIMEOUT_S:g} s"
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def _os_cause(error: BaseException) -> str | None:
    seen: set[int] = set()
    current: BaseException | None = error.__cause__ or error.__context__
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        current = current.__cause__ or current.__context__
    return None


def explain(error: BaseException, url: str | None, *, unreachable: bool) -> str:
    """One line for a provider error: its message, plus the endpoint and the reason when it was unreachable."""
    text = " ".join(str(error).split())
    if isinstance(error, ProviderError) and getattr(error, "response", None) is not None:  # the SDK's words name no provider
        text = f"[{error.provider} {error.status_code}] {text}"
    text = _SDK_KEY_HINT.sub("pass --api-key", text)
    if not unreachable:
        return text
    where = shown_url(url) if url else "the provider"
    reason = connection_reason(error, url)
    return f"{text} ({where}: {reason})" if reason else f"{text} ({where})"


__all__ = ["DEFAULT_ENDPOINTS", "choose_provider", "connection_reason", "endpoint_for", "explain", "shown_url"]
