"""Run the ``deepsentinel`` command line in-process with its own stdin, stdout and stderr, for the CLI tests."""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from deepsentinel.cli.app import main


@dataclass(frozen=True)
class CliResult:
    """What one run printed and returned."""

    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


def run_cli(args: Sequence[str], stdin: str | bytes = "") -> CliResult:
    """Call ``main(args)`` with piped (non-TTY) streams; never raises SystemExit."""
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    streams = (sys.stdin, sys.stdout, sys.stderr)
    out, err = io.BytesIO(), io.BytesIO()
    fake_in = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    fake_out = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    fake_err = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
    sys.stdin, sys.stdout, sys.stderr = fake_in, fake_out, fake_err
    try:
        code = main(list(args))
    finally:
        sys.stdin, sys.stdout, sys.stderr = streams
        for wrapper in (fake_in, fake_out, fake_err):
            wrapper.flush()
            wrapper.detach()  # keep the buffers readable: closing a wrapper would close them
    return CliResult(code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8"))
