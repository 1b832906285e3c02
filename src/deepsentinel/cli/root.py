"""The Typer application behind ``deepsentinel``: root options and the command table.

Importing this module loads every command and its dependencies; ``deepsentinel.cli.app.main`` does so only
after its ``--version`` fast path.
"""

from __future__ import annotations

from typing import Annotated

import typer

from deepsentinel import __version__
from deepsentinel.cli.app import PROG
from deepsentinel.cli.audit import audit_app
from deepsentinel.cli.chat import CHAT_EXAMPLES, chat_command
from deepsentinel.cli.demo import DEMO_EXAMPLES, demo_command
from deepsentinel.cli.scan import EXAMPLES as SCAN_EXAMPLES
from deepsentinel.cli.scan import scan_command
from deepsentinel.cli.serve import SERVE_EXAMPLES, keys_app, serve_command

app = typer.Typer(
    name=PROG,
    help="DeepSentinel: a compliance layer for LLM calls. Chat through it, scan files with it, read its audit trail.",
    epilog="Start here: [bold]deepsentinel demo[/] (no API key needed).",
    rich_markup_mode="rich",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"{PROG} {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", "-V", help="Show the version and exit.", callback=_version, is_eager=True)] = False,
) -> None:
    """DeepSentinel: a compliance layer for LLM calls."""


app.command("chat", epilog=CHAT_EXAMPLES)(chat_command)
app.command("scan", epilog=SCAN_EXAMPLES)(scan_command)
app.add_typer(audit_app, name="audit")
app.command("demo", epilog=DEMO_EXAMPLES)(demo_command)
app.command("serve", epilog=SERVE_EXAMPLES)(serve_command)
app.add_typer(keys_app, name="keys")


__all__ = ["app"]
