"""The ``deepsentinel`` command: ``chat``, ``scan``, ``audit``, ``demo``, ``serve`` and ``keys``.

``main`` is the console-script entry point. It runs the Typer app without Typer's own error screens, so every
failure ends as one ``deepsentinel: error: ...`` line on stderr: exit code 2 for bad usage, 1 for failures,
130 for Ctrl-C. Tracebacks are never shown (set ``DEEPSENTINEL_DEBUG=1`` to see them while developing).
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from deepsentinel import __version__
from deepsentinel.cli.audit import audit_app
from deepsentinel.cli.chat import CHAT_EXAMPLES, chat_command
from deepsentinel.cli.common import EXIT_FAILURE, EXIT_USAGE, CliError
from deepsentinel.cli.demo import DEMO_EXAMPLES, demo_command
from deepsentinel.cli.scan import EXAMPLES as SCAN_EXAMPLES
from deepsentinel.cli.scan import scan_command
from deepsentinel.cli.serve import SERVE_EXAMPLES, keys_app, serve_command
from deepsentinel.errors import DeepSentinelError

try:  # Typer >= 0.20 vendors Click; older releases depend on it.
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - depends on the installed Typer
    from click.exceptions import ClickException  # type: ignore[import-not-found,no-redef,assignment,unused-ignore]

PROG = "deepsentinel"

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


def _error(message: str) -> None:
    text = " ".join(str(message).split())  # one line, whatever the message held
    print(f"{PROG}: error: {text}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    command = typer.main.get_command(app)
    debug = bool(os.environ.get("DEEPSENTINEL_DEBUG"))
    try:
        result = command.main(args=list(argv) if argv is not None else None, prog_name=PROG, standalone_mode=False)
    except CliError as exc:
        _error(exc.message)
        return exc.code
    except ClickException as exc:
        hint = ""
        ctx = getattr(exc, "ctx", None)
        if exc.exit_code == EXIT_USAGE and ctx is not None:
            hint = f" (see '{ctx.command_path} --help')"
        _error(exc.format_message() + hint)
        return int(exc.exit_code)
    except DeepSentinelError as exc:
        if debug:
            raise
        _error(str(exc))
        return EXIT_FAILURE
    except (typer.Abort, KeyboardInterrupt, EOFError):
        print("", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # ``deepsentinel audit export | head``: the reader left; that is not an error worth a message.
        _silence_stdout()
        return EXIT_FAILURE
    except sqlite3.Error as exc:
        if debug:
            raise
        _error(f"audit database error: {exc}")
        return EXIT_FAILURE
    except OSError as exc:
        if debug:
            raise
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        _error(f"{exc.strerror or exc}{where}")
        return EXIT_FAILURE
    except Exception as exc:  # the promise is "never a traceback"; say what broke in one line
        if debug:
            raise
        _error(f"unexpected {type(exc).__name__}: {exc} (set DEEPSENTINEL_DEBUG=1 for details)")
        return EXIT_FAILURE
    return result if isinstance(result, int) else 0


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


__all__ = ["app", "main"]
