"""The ``deepsentinel`` command: ``chat``, ``scan``, ``audit``, ``demo``, ``serve`` and ``keys``.

``main`` is the console-script entry point. It runs the Typer app (``cli.root``) without Typer's own error
screens, so every failure ends as one ``deepsentinel: error: ...`` line on stderr: exit code 2 for bad usage,
1 for failures, 130 for Ctrl-C. Tracebacks are never shown (set ``DEEPSENTINEL_DEBUG=1`` to see them while
developing). ``deepsentinel --version`` answers before any command module is imported, so it stays fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from deepsentinel import __version__

PROG = "deepsentinel"
_VERSION_FLAGS = ("--version", "-V")


def _error(message: str) -> None:
    text = " ".join(str(message).split())  # one line, whatever the message held
    print(f"{PROG}: error: {text}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    args = list(argv) if argv is not None else sys.argv[1:]
    if args[:1] and args[0] in _VERSION_FLAGS:  # what the root option does, without loading typer and the SDK
        print(f"{PROG} {__version__}", flush=True)
        return 0
    return _run(args)


def _run(args: list[str]) -> int:
    import sqlite3

    import typer

    from deepsentinel.cli.common import EXIT_FAILURE, EXIT_USAGE, CliError
    from deepsentinel.cli.root import app
    from deepsentinel.errors import DeepSentinelError

    try:  # Typer >= 0.20 vendors Click; older releases depend on it.
        from typer._click.exceptions import ClickException, NoArgsIsHelpError
    except ImportError:  # pragma: no cover - depends on the installed Typer
        from click.exceptions import ClickException, NoArgsIsHelpError  # type: ignore[import-not-found,no-redef,assignment,unused-ignore]

    command = typer.main.get_command(app)
    debug = bool(os.environ.get("DEEPSENTINEL_DEBUG"))
    try:
        result = command.main(args=args, prog_name=PROG, standalone_mode=False)
    except CliError as exc:
        _error(exc.message)
        return exc.code
    except NoArgsIsHelpError as exc:
        # `deepsentinel` or `deepsentinel audit` alone: the help is already on stdout, which is all there is
        # to say. Still a usage error (exit 2), so a script that lost its subcommand does not pass silently.
        return int(exc.exit_code)
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


__all__ = ["PROG", "main"]
