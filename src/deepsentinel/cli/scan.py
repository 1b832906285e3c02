"""``deepsentinel scan``: find sensitive data in files, trees and stdin; fail CI when it matters."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path, PurePath
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from deepsentinel import __version__
from deepsentinel.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    SeverityLevel,
    UsageError,
    stderr_console,
    stdout_console,
)
from deepsentinel.cli.policies import load_policies
from deepsentinel.cli.scan_inputs import (
    BINARY,
    STDIN_NAME,
    Skipped,
    Source,
    discover,
    read_source,
    write_text,
)
from deepsentinel.cli.scan_report import (
    FileFinding,
    allowed,
    locate_findings,
    render_json,
    render_jsonl,
    render_sarif,
    render_table,
    summarise,
)
from deepsentinel.detection.anonymizer import Anonymizer
from deepsentinel.detection.engine import DetectionEngine, default_engine
from deepsentinel.policy.policy import DEFAULT_POLICY, CompliancePolicy, evaluate_policies

_PROGRESS_BYTES = 1024 * 1024
_PROGRESS_FILES = 50


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    sarif = "sarif"


class StrategyChoice(str, Enum):
    mask = "mask"
    redact = "redact"
    hash = "hash"
    placeholder = "placeholder"


EXAMPLES = """
[bold]Examples[/]

  deepsentinel scan src/ docs/ --exclude '*.lock'\n
  git diff --cached | deepsentinel scan --fail-on medium\n
  deepsentinel scan . --format sarif > deepsentinel.sarif\n
  deepsentinel scan logs/ --anonymize --output redacted/\n
  cat export.csv | deepsentinel scan --anonymize --strategy mask > clean.csv
"""


def scan_command(
    paths: Annotated[list[str] | None, typer.Argument(help="Files or directories to scan; '-' (or nothing, with piped input) reads stdin.", show_default=False)] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="Report format.")] = OutputFormat.table,
    policy: Annotated[list[str] | None, typer.Option("--policy", "-p", "--preset", help="Preset name or YAML/JSON policy file (repeatable).", show_default=False)] = None,
    fail_on: Annotated[SeverityLevel, typer.Option("--fail-on", help="Exit 1 when a finding has at least this severity.")] = SeverityLevel.high,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", "-e", help="Glob of paths to skip (repeatable), e.g. '*.min.js' or 'tests/fixtures/*'.", show_default=False)] = None,
    no_default_ignores: Annotated[bool, typer.Option("--no-default-ignores", help="Also descend into .git, .venv, node_modules and caches.")] = False,
    anonymize: Annotated[bool, typer.Option("--anonymize", help="Write the text with every finding replaced (stdout for stdin; files need --output or --in-place).")] = False,
    strategy: Annotated[StrategyChoice, typer.Option("--strategy", help="How --anonymize replaces values.")] = StrategyChoice.redact,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Directory for anonymized copies (paths mirrored).", show_default=False)] = None,
    in_place: Annotated[bool, typer.Option("--in-place", help="Overwrite files that have findings with their anonymized text.")] = False,
    max_size: Annotated[float, typer.Option("--max-size", help="Skip files larger than this many MiB.", min=0.001, max=1e9)] = 10.0,
) -> None:
    """Scan files, directories or stdin for PII, PHI, payment data and secrets.

    Values are always shown masked. The exit code is 1 when a finding reaches --fail-on (default: high),
    so the command works as a pre-commit hook or a CI step. It is 1 too when a file named on the command line
    (or stdin) could not be scanned: binary, or larger than --max-size. A line holding the marker
    `deepsentinel: allow` (or below `deepsentinel: allow-next-line`) is left out of the report.
    """
    if (output is not None or in_place) and not anonymize:
        raise UsageError("--output and --in-place only apply with --anonymize")
    if output is not None and in_place:
        raise UsageError("use either --output DIR or --in-place, not both")
    targets = list(paths or [])
    if not targets:
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError("nothing to scan: give files or directories, or pipe text on stdin (see --help)")
        targets = [STDIN_NAME]
    if targets.count(STDIN_NAME) > 1:
        raise UsageError("stdin ('-') can be scanned only once")
    has_files = any(t != STDIN_NAME for t in targets)
    if anonymize and has_files and output is None and not in_place:
        raise UsageError("--anonymize on files needs --output DIR or --in-place")

    policies = load_policies(policy or []) or [DEFAULT_POLICY]
    engine = _engine(policies)
    sources = discover(targets, exclude or [], use_default_ignores=not no_default_ignores)
    anonymizer = Anonymizer(strategy.value) if anonymize else None
    # When anonymized text goes to stdout, the report moves to stderr so the two never mix.
    text_to_stdout = anonymize and STDIN_NAME in targets
    report_stream = sys.stderr if text_to_stdout else sys.stdout

    findings: list[FileFinding] = []
    skipped: list[Skipped] = []
    scanned = 0
    notes = stderr_console()
    with _progress(sources) as progress:
        task = progress.add_task("scanning", total=sum(s.size for s in sources) or None) if progress else None
        for source in sources:
            text = read_source(source, int(max_size * 1024 * 1024))
            if progress is not None and task is not None:
                progress.update(task, advance=source.size, description=_short(source.display))
            if isinstance(text, Skipped):
                skipped.append(text)
                continue
            scanned += 1
            result = engine.scan(text)
            violations = allowed(text, evaluate_policies(policies, result).violations)
            found = locate_findings(source.display, text, result, violations)
            findings.extend(found)
            if anonymizer is not None:
                _write_anonymized(source, text, anonymizer.anonymize(text, violations).text,
                                  bool(found), output, in_place)

    threshold = fail_on.threshold()
    findings_fail = threshold is not None and any(f.severity_weight >= threshold for f in findings)
    summary = summarise(findings, scanned, skipped, findings_fail, fail_on.value)
    for s in skipped:
        if s.explicit:  # the user asked for this input: not scanning it is a failure, with its reason
            notes.print(f"deepsentinel: error: not scanned: {s.display}: {s.reason}", markup=False, highlight=False)
        elif s.reason != BINARY:  # binaries met in a tree are expected: counted, not listed
            notes.print(f"[dim]skipped {escape(s.display)}: {escape(s.reason)}[/]")
    if output_format is OutputFormat.table:
        console = stdout_console() if report_stream is sys.stdout else notes
        render_table(console, findings, summary)
    elif output_format is OutputFormat.json:
        render_json(report_stream, findings, summary)
    elif output_format is OutputFormat.jsonl:
        render_jsonl(report_stream, findings)
    else:
        render_sarif(report_stream, findings, __version__)
    raise typer.Exit(EXIT_FAILURE if summary.failed else EXIT_OK)


def _engine(policies: list[CompliancePolicy]) -> DetectionEngine:
    custom: dict[str, str] = {}
    for p in policies:
        custom.update(p.custom_patterns)
    engine = default_engine()
    if custom:
        with_custom = getattr(engine, "with_custom_patterns", None)
        if with_custom is None:
            raise UsageError("this detection engine does not support custom_patterns yet")
        engine = with_custom(custom)
    return engine


def _write_anonymized(
    source: Source, original: str, text: str, changed: bool, output: Path | None, in_place: bool
) -> None:
    if source.path is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    elif in_place:
        if changed and text != original:
            write_text(source.path, text)
    elif output is not None:
        write_text(output / _mirrored(source.path), text)


def _mirrored(path: Path) -> Path:
    """A path under the output directory: relative parts kept, anchors and '..' dropped."""
    parts = [p for p in PurePath(path).parts if p not in ("..", ".") and p != PurePath(path).anchor]
    return Path(*parts) if parts else Path(path.name)


def _short(name: str, width: int = 40) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1):]


class _NoProgress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _progress(sources: list[Source]) -> Progress | _NoProgress:
    """A transient progress bar on stderr, only for a terminal that can redraw it, and only for large input.

    ``TERM=dumb`` (Emacs shells, some CI consoles) cannot move the cursor: a bar there would print a line per
    refresh, so it gets none, as a pipe does.
    """
    console = stderr_console()
    large = sum(s.size for s in sources) > _PROGRESS_BYTES or len(sources) > _PROGRESS_FILES
    if not (console.is_terminal and not console.is_dumb_terminal and large):
        return _NoProgress()
    return Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(), console=console, transient=True,
    )
