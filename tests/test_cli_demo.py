"""``deepsentinel demo`` end to end, and what every command shares: --version, --help, python -m."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from deepsentinel import __version__
from tests.cli_runner import run_cli


def test_demo_walks_through_every_step_without_leaking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo exits 0, shows each step, never prints the SSN or the card, and leaves no files behind."""
    monkeypatch.chdir(tmp_path)
    result = run_cli(["demo", "--delay", "0"])
    assert result.code == 0, result.err
    out = result.out
    for step in range(1, 6):
        assert f"Step {step}/5" in out
    assert "assistant> A compliance layer checks every prompt" in out  # (a) a safe streamed answer
    assert "blocked before sending" in out and "US_SSN" in out  # (b)
    assert "Requests the server received for it: 0" in out
    assert "h***@*******.com" in out and "0132" in out and "help@example.com" not in out  # (c) masked
    assert "assistant> Sure. The card on file is" in out and "response stopped" in out  # (d) cut
    assert "4 call(s): allowed 1, anonymized 1, blocked 1, stream_terminated 1" in out  # (e) report
    # The day table counts what the block rate counts, and says so: blocked 1 + cut 1 = 2.
    header, row = next((line, out.splitlines()[i + 2]) for i, line in enumerate(out.splitlines()) if "┃ calls ┃" in line)
    assert "blocked or cut" in header and row.split("│")[2].strip() == "2"
    assert "chain: intact" in out
    assert "123-45-6789" not in out and "4111" not in out and "1111 1111" not in out
    assert list(tmp_path.iterdir()) == []


def test_demo_keeps_its_trail_with_db(tmp_path: Path) -> None:
    """With --db the audit trail stays, readable by the audit commands."""
    db = tmp_path / "demo.sqlite3"
    assert run_cli(["demo", "--delay", "0", "--db", str(db)]).code == 0
    events = json.loads(run_cli(["audit", "list", "--db", str(db), "-f", "json"]).out)
    assert [e["outcome"] for e in events] == ["allowed", "blocked", "anonymized", "stream_terminated"]
    assert run_cli(["audit", "verify", "--db", str(db)]).code == 0


def test_version() -> None:
    """--version prints the package version."""
    result = run_cli(["--version"])
    assert result.code == 0 and result.out.strip() == f"deepsentinel {__version__}"


@pytest.mark.parametrize(
    "command",
    [[], ["chat"], ["scan"], ["demo"], ["audit"], ["audit", "list"], ["audit", "report"], ["audit", "verify"],
     ["audit", "export"], ["audit", "prune"]],
)
def test_every_command_has_help_with_examples(command: list[str]) -> None:
    """--help works everywhere and shows at least one example invocation."""
    result = run_cli([*command, "--help"])
    assert result.code == 0
    assert "Usage:" in result.out
    assert "deepsentinel" in result.out and ("Example" in result.out or "Start here" in result.out)


@pytest.mark.parametrize("command", [[], ["audit"]])
def test_no_command_prints_help_and_no_empty_error(command: list[str]) -> None:
    """`deepsentinel` alone prints its help on stdout and nothing on stderr (exit 2: no command was run)."""
    result = run_cli(command)
    assert result.code == 2 and "Usage:" in result.out and result.err == ""


@pytest.mark.parametrize(
    "command",
    [["chat"], ["scan"], ["demo"], ["audit", "list"], ["audit", "report"], ["audit", "verify"], ["audit", "export"],
     ["audit", "prune"]],
)
def test_help_text_loses_no_words_to_markup(command: list[str]) -> None:
    """Option help never ends in a dangling ' .': bracketed text is shown, not eaten as a rich markup tag."""
    out = run_cli([*command, "--help"]).out
    options = out[out.index("╭─ Options"):]
    options = " ".join(options[: options.index("╰")].replace("│", " ").split())
    assert re.search(r"\w \.(\s|$)", options) is None, options


def test_no_arguments_shows_help_and_unknown_command_is_usage_error() -> None:
    """No command prints the help; an unknown one is a one-line usage error with exit 2."""
    assert "chat" in run_cli([]).out
    result = run_cli(["frobnicate"])
    assert result.code == 2 and result.err.count("\n") == 1 and "No such command 'frobnicate'" in result.err


def test_python_dash_m_runs_the_same_command_line() -> None:
    """`python -m deepsentinel` is the same program (checked in a real subprocess)."""
    proc = subprocess.run([sys.executable, "-m", "deepsentinel", "--version"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and proc.stdout.strip() == f"deepsentinel {__version__}"
    bad = subprocess.run([sys.executable, "-m", "deepsentinel", "scan", "--nope"], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
