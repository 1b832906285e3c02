"""``deepsentinel chat``: an interactive, streamed chat through the compliance layer.

Works with piped input too (``echo hi | deepsentinel chat``): then a provider failure ends the run with exit
code 1, where an interactive session reports it and carries on.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from deepsentinel.audit import SQLiteAuditStore
from deepsentinel.cli.audit import require_audit_database
from deepsentinel.cli.chat_provider import choose_provider, endpoint_for, explain
from deepsentinel.cli.chat_session import ChatSession
from deepsentinel.cli.common import CliError, UsageError, stdout_console
from deepsentinel.cli.policies import describe_policy, load_policies
from deepsentinel.clients import SentinelClient
from deepsentinel.config import SentinelConfig
from deepsentinel.errors import (
    ComplianceViolationError,
    ConfigurationError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
)
from deepsentinel.policy.decision import Violation

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_ANTHROPIC_MODEL = "claude-3-5-haiku-latest"
HELP_TEXT = (
    "/stats   messages, tokens, time to first token, tokens per second\n"
    "/policy  the active compliance policies\n"
    "/reset   start a new conversation\n"
    "/exit    leave (also /quit or Ctrl-D); Ctrl-C cancels the current answer"
)
CHAT_EXAMPLES = """
[bold]Examples[/]

  deepsentinel chat\n
  deepsentinel chat --model gpt-4o --policy strict\n
  deepsentinel chat --provider anthropic --model claude-3-5-haiku-latest\n
  deepsentinel chat --base-url http://localhost:11434/v1 --model llama3.2   [dim]# Ollama, no key[/]\n
  echo "Summarise GDPR in one line" | deepsentinel chat
"""


def chat_command(
    provider: Annotated[str | None, typer.Option("--provider", help="openai, anthropic, or a provider named in --config (default: anthropic for claude-* models, else openai).", show_default=False)] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help=f"Model name (default: $DEEPSENTINEL_MODEL, else {DEFAULT_MODEL}; {DEFAULT_ANTHROPIC_MODEL} for anthropic).", show_default=False)] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="An OpenAI-compatible (or Anthropic) endpoint, e.g. http://localhost:11434/v1.", show_default=False)] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", help="Provider key (default: $OPENAI_API_KEY, or $ANTHROPIC_API_KEY for anthropic).", show_default=False)] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="A deepsentinel YAML/JSON config file.", envvar="DEEPSENTINEL_CONFIG", show_default=False)] = None,
    policy: Annotated[list[str] | None, typer.Option("--policy", "-p", help="Preset name or YAML/JSON policy file (repeatable).", show_default=False)] = None,
    system: Annotated[str | None, typer.Option("--system", "-s", help="A system prompt.", show_default=False)] = None,
    db: Annotated[Path | None, typer.Option("--db", help="Write the audit trail here instead of the default path.", show_default=False)] = None,
    no_audit: Annotated[bool, typer.Option("--no-audit", help="Do not write an audit trail.")] = False,
) -> None:
    """Chat with a model through DeepSentinel: prompts are checked before they leave, answers as they stream."""
    loaded = SentinelConfig.from_file(config) if config is not None else None
    wanted = model or os.environ.get("DEEPSENTINEL_MODEL")
    name = choose_provider(provider, wanted, loaded)
    chosen = wanted or (DEFAULT_ANTHROPIC_MODEL if name == "anthropic" else DEFAULT_MODEL)
    client = _build_client(name, base_url, api_key, loaded, policy or [], db, no_audit)
    endpoint = endpoint_for(name, base_url, loaded)
    interactive = sys.stdin is not None and sys.stdin.isatty()
    if interactive:
        _enable_ctrl_c()
    with client:
        # The provider is passed on every call, so the requests go where the banner says.
        session = ChatSession(client, chosen, provider=name, system=system)
        console = stdout_console()
        policies = ", ".join(p.name for p in client.policies)
        console.print(f"[bold]DeepSentinel chat[/] · {escape(chosen)} via {escape(name)} · "
                      f"policies: {escape(policies)} · /help for commands")
        code = _repl(session, console, interactive, endpoint)
    if code:
        raise typer.Exit(code)


def _enable_ctrl_c() -> None:
    """Make Ctrl-C raise KeyboardInterrupt even when SIGINT was inherited as ignored.

    Python leaves SIGINT ignored if it started that way (a program launched in the background by a
    non-interactive shell, some process supervisors); the chat's Ctrl-C would then do nothing at all.
    """
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _build_client(
    name: str, base_url: str | None, api_key: str | None, config: SentinelConfig | None,
    policy_specs: list[str], db: Path | None, no_audit: bool,
) -> SentinelClient:
    if name not in ("openai", "anthropic") and (base_url or api_key):
        raise UsageError(f"--base-url and --api-key apply to openai or anthropic; set them for {name!r} in --config")
    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise UsageError(f"--base-url must start with http:// or https://, not {base_url!r}")
    if config is None and name not in ("openai", "anthropic"):
        raise UsageError(f"--provider: unknown provider {name!r}; use openai or anthropic, or define it in --config")
    if config is None:
        _require_key(name, api_key, base_url)
    kwargs: dict[str, object] = {"config": config}
    if name == "anthropic":
        kwargs.update(anthropic_api_key=api_key, anthropic_base_url=base_url)
    else:
        kwargs.update(openai_api_key=api_key, base_url=base_url)
    policies = load_policies(policy_specs)
    if policies:
        kwargs["compliance_policies"] = policies
    if no_audit:
        kwargs["audit"] = False
    elif db is not None:
        # A path, so the client opens the store under its audit key (config or $DEEPSENTINEL_AUDIT_KEY).
        kwargs["audit"] = str(db.expanduser())
    try:
        client = SentinelClient(**kwargs)
    except ConfigurationError as exc:
        raise CliError(explain(exc, None, unreachable=False)) from exc
    try:
        store = client.audit.store
    except ConfigurationError:  # --no-audit
        store = None
    if isinstance(store, SQLiteAuditStore) and store.path.exists():
        try:  # fail now, not by dropping every event of the session in the background
            require_audit_database(store.path, allow_empty=True)
        except (CliError, sqlite3.DatabaseError) as exc:
            client.close()
            raise CliError(f"{store.path} is not a DeepSentinel audit database") from exc
    return client


def _require_key(provider: str, api_key: str | None, base_url: str | None) -> None:
    """Fail at start, not at the first message, when the official endpoint would need a key we lack."""
    env_key, env_url = ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL") if provider == "anthropic" else ("OPENAI_API_KEY", "OPENAI_BASE_URL")
    if api_key or base_url or os.environ.get(env_key) or os.environ.get(env_url):
        return
    local = " (a local OpenAI-compatible server needs only --base-url, e.g. http://localhost:11434/v1)"
    raise CliError(f"no API key for {provider}: pass --api-key or set {env_key}" + (local if provider == "openai" else ""))


def _read(console: Console, interactive: bool) -> str | None:
    """The next line of input, or None at end of input."""
    if interactive:
        try:
            return input("you> ")  # input() owns the prompt, so line editing redraws it correctly
        except EOFError:
            console.print()
            return None
    line = sys.stdin.readline()
    return None if line == "" else line.rstrip("\n")


def _repl(session: ChatSession, console: Console, interactive: bool, endpoint: str | None) -> int:
    while True:
        try:
            line = _read(console, interactive)
        except KeyboardInterrupt:
            console.print("\n[dim](Ctrl-C cancels an answer; /exit or Ctrl-D leaves)[/]")
            continue
        if line is None:
            return 0
        text = line.strip()
        if not text:
            continue
        if text.startswith("/"):
            if _command(text, session, console):
                return 0
            continue
        try:
            _turn(session, console, text)
        except KeyboardInterrupt:  # Ctrl-C before the first chunk (while connecting): same as during one
            console.print("[dim]⏹ answer cancelled[/]")
        except ProviderError as exc:
            unreachable = isinstance(exc, (ProviderConnectionError, ProviderTimeoutError))
            message = explain(exc, endpoint, unreachable=unreachable)
            if not interactive:  # piped: the error ends the run, said once, on stderr
                raise CliError(message) from exc
            console.print(f"[bold red]provider error[/] {escape(message)}")  # a server's text: not markup
        except ConfigurationError as exc:
            raise CliError(explain(exc, None, unreachable=False)) from exc


def _turn(session: ChatSession, console: Console, text: str) -> None:
    started = False

    def show(piece: str) -> None:
        nonlocal started
        if not started:  # the label appears with the first text, so errors get a line of their own
            console.print("[bold green]assistant>[/] ", end="")
            started = True
        console.print(piece, end="", markup=False, highlight=False)
        console.file.flush()

    try:
        turn = session.ask(text, show)
    except ComplianceViolationError as exc:
        console.print(f"[bold red]⛔ blocked before sending[/] (policy {escape(exc.policy or 'default')}): "
                      f"{_where(exc.violations, 'your message')}. Nothing was sent, and the message was not kept.")
        return
    except BaseException:
        if started:
            console.print()
        raise
    if started:
        console.print()
    if turn.status == "cut" and turn.error is not None:
        console.print(f"[bold yellow]⚠ response stopped[/] (policy {escape(turn.error.policy or 'default')}): "
                      f"{_where(turn.error.violations, 'the answer')}. The rest of the answer was withheld.")
    elif turn.status == "cancelled":
        console.print("[dim]⏹ answer cancelled[/]")
    elif not started:
        console.print("[bold green]assistant>[/] [dim](empty answer)[/]")


def _where(violations: list[Violation], part: str) -> str:
    types = list(dict.fromkeys(v.type for v in violations))
    return escape(", ".join(types) or "sensitive data") + f" in {part}"


def _command(text: str, session: ChatSession, console: Console) -> bool:
    """Run a slash command; True means leave."""
    name = text.split()[0].lower()
    if name in ("/exit", "/quit", "/q"):
        return True
    if name == "/reset":
        session.reset()
        console.print("[dim]conversation cleared[/]")
    elif name == "/stats":
        _print_stats(session, console)
    elif name == "/policy":
        _print_policies(session, console)
    elif name in ("/help", "/?"):
        console.print(HELP_TEXT, markup=False)
    else:
        console.print(f"unknown command {name}; /help lists them", markup=False)
    return False


def _print_stats(session: ChatSession, console: Console) -> None:
    s = session.stats

    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v * 1000:.0f} ms"

    tps = s.tokens_per_second
    estimate = " (estimated)" if s.estimated and s.tokens else ""
    console.print(
        f"messages: {s.messages} · tokens: {s.tokens}{estimate} · time to first token: {ms(s.last_first_token_s)} "
        f"(mean {ms(s.mean_first_token_s)}) · tokens/s: {'-' if tps is None else f'{tps:.1f}'} · "
        f"blocked: {s.blocked} · cut: {s.cut} · cancelled: {s.cancelled} · history: {len(session.history)} message(s)"
    )


def _print_policies(session: ChatSession, console: Console) -> None:
    """One row per setting, one column per policy: narrow terminals stay readable."""
    described = [describe_policy(p) for p in session.client.policies]
    table = Table(show_edge=False, header_style="bold", title="active policies (the strictest action wins)")
    table.add_column("setting", style="dim", no_wrap=True)
    for d in described:
        table.add_column(escape(d["name"]), overflow="fold")
    for key in described[0]:
        if key != "name":
            table.add_row(key, *(escape(d[key]) for d in described))
    console.print(table)


__all__ = ["CHAT_EXAMPLES", "chat_command"]
