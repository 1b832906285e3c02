"""``deepsentinel serve`` and ``deepsentinel keys``: run the gateway, manage its client keys."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from deepsentinel.cli.common import CliError, UsageError, stdout_console
from deepsentinel.gateway.keys import KeyStore, default_keys_location

SERVE_EXAMPLES = """Examples:

  export OPENAI_API_KEY=sk-... ANTHROPIC_API_KEY=sk-ant-...
  deepsentinel keys create team-a                       # prints the client key once
  deepsentinel serve --host 0.0.0.0 --port 8080 --workers 4
  DEEPSENTINEL_GATEWAY_KEYS=dev=devkey-123456 deepsentinel serve
  deepsentinel serve --no-auth                          # loopback only
"""


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    config: Annotated[str | None, typer.Option("--config", help="A deepsentinel.yaml/.json config file.")] = None,
    no_auth: Annotated[bool, typer.Option("--no-auth", help="Accept calls without a client key (loopback only).")] = False,
    rate_limit: Annotated[int | None, typer.Option(help="Default requests per minute per key (0: none).")] = None,
    drain_seconds: Annotated[int, typer.Option(min=0, help="On SIGTERM, how long in-flight calls may finish.")] = 30,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
    access_log: Annotated[bool, typer.Option("--access-log", help="Log every request (uvicorn's access log).")] = False,
) -> None:
    """Run the compliance gateway: OpenAI and Anthropic APIs, every call through the wire guard."""
    try:
        from deepsentinel.gateway.server import ENV_NO_AUTH, ENV_RATE_LIMIT, serve
    except ModuleNotFoundError as exc:  # the server's packages come with the gateway extra
        raise CliError(f"deepsentinel serve needs the gateway extra ({exc.name} is not installed): "
                       "pip install 'deepsentinel-sdk[gateway]'") from None

    # Workers are separate processes that build the gateway from the environment: settings travel there.
    if config is not None:
        if not os.path.exists(config):
            raise UsageError(f"config file not found: {config}")
        os.environ["DEEPSENTINEL_CONFIG"] = os.path.abspath(config)
    if no_auth:
        os.environ[ENV_NO_AUTH] = "1"
    if rate_limit is not None:
        os.environ[ENV_RATE_LIMIT] = str(rate_limit)
    serve(host, port, workers=workers, drain_seconds=drain_seconds, log_level=log_level, access_log=access_log)


keys_app = typer.Typer(help="Manage the gateway's client keys (stored hashed; SQLite or PostgreSQL).",
                       no_args_is_help=True)


def _store() -> KeyStore:
    return KeyStore(default_keys_location(os.environ))


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="A name for the client (team, service).")],
    policy: Annotated[list[str] | None, typer.Option("--policy", help="A policy for its calls (preset or configured name); repeat.")] = None,
    model: Annotated[list[str] | None, typer.Option("--model", help="A model it may use (default: any); repeat.")] = None,
    rate_limit: Annotated[int | None, typer.Option(help="Requests per minute (default: the gateway's).")] = None,
) -> None:
    """Create a key and print it (shown only this once)."""
    from deepsentinel.policy.presets import preset
    from deepsentinel.sentinel import Sentinel

    configured = {p.name for p in Sentinel(audit=False).policies}
    for p in policy or ():
        if p not in configured:
            preset(p)  # raises ConfigurationError naming the presets
    store = _store()
    key = store.create(name, policies=tuple(policy or ()), models=tuple(model or ()), rate_limit=rate_limit)
    typer.echo(key)


@keys_app.command("list")
def keys_list() -> None:
    """List keys: name, policies, models, rate limit, status (never the key)."""
    store = _store()
    table = Table("name", "policies", "models", "rate limit", "status")
    for k in store.list():
        table.add_row(k.name, ", ".join(k.policies) or "(gateway's)", ", ".join(k.models) or "any",
                      str(k.rate_limit) if k.rate_limit is not None else "default", "revoked" if k.revoked else "active")
    stdout_console().print(table)


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument(help="The key's name.")]) -> None:
    """Revoke a key (every gateway node stops accepting it within seconds)."""
    store = _store()
    if not store.revoke(name):
        raise CliError(f"no active key named {name!r}")
    typer.echo(f"revoked {name}")


__all__ = ["SERVE_EXAMPLES", "keys_app", "serve_command"]
