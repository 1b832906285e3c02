"""Building the gateway from configuration, and running it under uvicorn.

``create_app()`` reads everything from the environment (the SDK's configuration, ``DEEPSENTINEL_CONFIG``,
``DEEPSENTINEL_GATEWAY_*``), so each uvicorn worker process builds the same gateway. ``serve()`` checks the
settings once, then runs uvicorn: SIGTERM stops accepting connections, lets in-flight calls (streams
included) finish for up to ``drain_seconds``, then cancels what is left and exits.

uvicorn runs with uvloop and httptools when installed (the ``gateway`` extra), without its access log (every
call is in the audit trail and the metrics; ``access_log=True`` brings it back) and without proxy-header
rewriting (the gateway does not use the client's address).

With several workers, each is its own process behind one port, so a scrape of ``/metrics`` reaches one of
them at random. ``serve()`` then puts prometheus_client in multiprocess mode: each worker writes its counters
to files in ``PROMETHEUS_MULTIPROC_DIR`` (a fresh temporary directory, removed at exit, unless one is set) and
every worker's ``/metrics`` answers with the sum over all of them.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from deepsentinel.audit.paths import is_postgres_url
from deepsentinel.errors import ConfigurationError
from deepsentinel.gateway.app import Gateway, GatewaySettings
from deepsentinel.gateway.auth import CACHE_SECONDS, Authenticator
from deepsentinel.gateway.keys import ENV_KEYS, KeyStore, default_keys_location, parse_env_keys
from deepsentinel.gateway.ratelimit import limiter_for
from deepsentinel.sentinel import Sentinel

ENV_NO_AUTH = "DEEPSENTINEL_GATEWAY_NO_AUTH"
ENV_RATE_LIMIT = "DEEPSENTINEL_GATEWAY_RATE_LIMIT"
ENV_REDIS_URL = "DEEPSENTINEL_REDIS_URL"
ENV_KEY_CACHE = "DEEPSENTINEL_GATEWAY_KEY_CACHE_SECONDS"
ENV_MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own name for it


def key_store(environ: Mapping[str, str]) -> KeyStore | None:
    """The key database, when there is one (a SQLite file is not created just by starting the gateway)."""
    location = default_keys_location(environ)
    if is_postgres_url(location) or Path(location).expanduser().exists():
        return KeyStore(location)
    return None


def authenticator(environ: Mapping[str, str], *, no_auth: bool) -> Authenticator | None:
    """The client-key check; raises ``ConfigurationError`` when no key is configured and auth is on."""
    if no_auth:
        return None
    cache = _int(environ.get(ENV_KEY_CACHE), ENV_KEY_CACHE, "seconds", default=int(CACHE_SECONDS))
    auth = Authenticator(parse_env_keys(environ.get(ENV_KEYS)), key_store(environ), cache_seconds=cache)
    if auth.empty:
        raise ConfigurationError(
            f"no client key configured: set {ENV_KEYS}=name=key,... or run 'deepsentinel keys create NAME' "
            "(or pass --no-auth on a loopback address)"
        )
    return auth


def create_app(environ: Mapping[str, str] | None = None, sentinel: Sentinel | None = None) -> Gateway:
    """The gateway as configured by ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    settings = GatewaySettings(
        auth=authenticator(env, no_auth=env.get(ENV_NO_AUTH) == "1"),
        limiter=limiter_for(env.get(ENV_REDIS_URL) or None),
        rate_limit=_int(env.get(ENV_RATE_LIMIT), ENV_RATE_LIMIT, "requests per minute"),
    )
    return Gateway(sentinel if sentinel is not None else Sentinel(environ=env), settings)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(host: str, port: int, *, workers: int = 1, drain_seconds: int = 30, log_level: str = "info",
          access_log: bool = False) -> None:
    """Run the gateway (blocking). Configuration comes from the environment, checked before any worker starts."""
    import uvicorn  # the server is needed only here

    if os.environ.get(ENV_NO_AUTH) == "1" and not is_loopback(host):
        raise ConfigurationError("--no-auth is allowed only on a loopback address (127.0.0.1, ::1, localhost)")
    authenticator(os.environ, no_auth=os.environ.get(ENV_NO_AUTH) == "1")  # refuse to start without keys
    Sentinel()  # a configuration error shows here, once, not in every worker
    metrics_dir = None
    if workers > 1 and not os.environ.get(ENV_MULTIPROC):
        # Workers are spawned interpreters: they import prometheus_client with this set, so write to files.
        metrics_dir = os.environ[ENV_MULTIPROC] = tempfile.mkdtemp(prefix="deepsentinel-metrics-")
    try:
        uvicorn.run(
            "deepsentinel.gateway.server:create_app", factory=True, host=host, port=port, workers=workers,
            timeout_graceful_shutdown=drain_seconds, server_header=False, log_level=log_level, lifespan="on",
            access_log=access_log, proxy_headers=False,
        )
    finally:
        if metrics_dir is not None:
            del os.environ[ENV_MULTIPROC]
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _int(raw: str | None, name: str, unit: str, default: int = 0) -> int:
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number of {unit}") from None


__all__ = ["ENV_MULTIPROC", "create_app", "is_loopback", "serve"]
