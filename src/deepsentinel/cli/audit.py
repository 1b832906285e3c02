"""``deepsentinel audit``: list, report on, verify, export and prune the audit trail without writing code."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from contextlib import closing
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.markup import escape
from rich.table import Table

from deepsentinel.audit import (
    AuditEvent,
    AuditFilter,
    AuditLog,
    ChainVerification,
    ComplianceReport,
    default_audit_path,
)
from deepsentinel.audit.chain import GAP, OTHER_KEY
from deepsentinel.audit.paths import ENV_AUDIT_URL, is_postgres_url
from deepsentinel.cli.audit_html import report_html
from deepsentinel.cli.common import (
    ENV_AUDIT_KEY,
    EXIT_FAILURE,
    CliError,
    audit_key_from_env,
    parse_time,
    stderr_console,
    stdout_console,
)

audit_app = typer.Typer(
    help="Read the audit trail: list calls, build a compliance report, verify the hash chain, export, prune.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    epilog=(
        "[bold]Examples[/]\n\n  deepsentinel audit list --outcome blocked --since 7d\n\n"
        "  deepsentinel audit report --html report.html\n\n  deepsentinel audit verify --db ./audit.sqlite3"
    ),
)

DbOption = Annotated[str | None, typer.Option(
    "--db", help="Audit database: a SQLite file or a postgresql:// URL (default: $DEEPSENTINEL_AUDIT_URL, "
    "then $DEEPSENTINEL_AUDIT_PATH, then the per-user data directory).",
    show_default=False,
)]
#: Earlier audit keys, comma-separated, for a trail written under several keys (rotation).
ENV_AUDIT_OLD_KEYS = "DEEPSENTINEL_AUDIT_OLD_KEYS"
SinceOption = Annotated[str | None, typer.Option("--since", help="Only events at or after: 2026-01-31, 2026-01-31T12:00, 7d, 24h, 30m.", show_default=False)]
UntilOption = Annotated[str | None, typer.Option("--until", help="Only events before this time (same forms as --since).", show_default=False)]


class OutcomeChoice(str, Enum):
    allowed = "allowed"
    anonymized = "anonymized"
    blocked = "blocked"
    stream_terminated = "stream_terminated"
    provider_error = "provider_error"


class ListFormat(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"


class ReportFormat(str, Enum):
    table = "table"
    json = "json"


def _old_keys() -> tuple[bytes, ...]:
    return tuple(k.strip().encode() for k in os.environ.get(ENV_AUDIT_OLD_KEYS, "").split(",") if k.strip())


def _open(db: str | None) -> AuditLog:
    """The log at ``db`` (or the default), under ``$DEEPSENTINEL_AUDIT_KEY`` as the SDK writes it.

    A missing file is an error, never silently created; a file that is not an audit trail is refused before
    the store would migrate it (another application's database must not gain our tables).
    """
    target = db or os.environ.get(ENV_AUDIT_URL) or None
    if target is not None and is_postgres_url(target):
        from deepsentinel.audit.pg_store import PostgresAuditStore

        store = PostgresAuditStore(target, key=audit_key_from_env(), create=False)
        try:
            store.check_schema()
        except Exception:
            store.close()
            raise
        return AuditLog(store, other_keys=_old_keys(), owns_store=True)
    path = (Path(target) if target else default_audit_path()).expanduser()
    if not path.is_file():
        raise CliError(f"no audit database at {path} (use --db, or set DEEPSENTINEL_AUDIT_PATH)")
    require_audit_database(path)
    return AuditLog(path, key=audit_key_from_env(), other_keys=_old_keys())


def require_audit_database(path: Path, *, allow_empty: bool = False) -> None:
    """Raise ``CliError`` unless ``path`` holds an audit trail (or, with ``allow_empty``, nothing yet).

    A plain read that changes nothing in the file: another application's database must not gain our tables,
    and a writer must not find out only after its events were dropped.
    """
    if allow_empty and path.is_file() and path.stat().st_size == 0:
        return
    with closing(sqlite3.connect(path)) as conn:  # a file that is not SQLite at all raises sqlite3.DatabaseError
        names = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"schema_version", "audit_events"} <= names and not (allow_empty and not names):
        raise CliError(f"{path} is not a DeepSentinel audit database")


def _filters(since: str | None, until: str | None) -> dict[str, datetime | None]:
    return {"since": parse_time(since, flag="--since"), "until": parse_time(until, flag="--until")}


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _findings(event: AuditEvent) -> str:
    counts = event.finding_counts()
    return ", ".join(f"{t}×{n}" if n > 1 else t for t, n in counts.items()) or "-"


_OUTCOME_STYLE = {"allowed": "green", "anonymized": "yellow", "blocked": "bold red",
                  "stream_terminated": "red", "provider_error": "magenta"}


@audit_app.command("list", epilog="[bold]Examples[/]\n\n  deepsentinel audit list --limit 20\n\n  deepsentinel audit list --outcome blocked --type US_SSN --since 24h --format json")
def list_command(
    db: DbOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    outcome: Annotated[OutcomeChoice | None, typer.Option("--outcome", help="Only this outcome.", show_default=False)] = None,
    entity_type: Annotated[str | None, typer.Option("--type", help="Only events with this entity type (e.g. US_SSN).", show_default=False)] = None,
    policy: Annotated[str | None, typer.Option("--policy", help="Only events involving this policy.", show_default=False)] = None,
    provider: Annotated[str | None, typer.Option("--provider", help="Only this provider.", show_default=False)] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Show at most the newest N events (0: all).", min=0)] = 50,
    output_format: Annotated[ListFormat, typer.Option("--format", "-f", help="Output format.")] = ListFormat.table,
) -> None:
    """List audited calls, oldest first, with their outcome and the types found (never values)."""
    flt = AuditFilter.of(
        **_filters(since, until), outcome=outcome.value if outcome else None, entity_type=entity_type,
        policy=policy, provider=provider, limit=limit or None, newest_first=True,
    )
    with _open(db) as log:
        rows = list(reversed(list(log.store.iter_chain(flt))))
    if output_format is not ListFormat.table:
        for seq, _prev, row_hash, event in rows:
            line = {"seq": seq, **event.to_dict(), "row_hash": row_hash}
            if output_format is ListFormat.jsonl:
                sys.stdout.write(json.dumps(line, separators=(",", ":")) + "\n")
        if output_format is ListFormat.json:
            sys.stdout.write(json.dumps([{"seq": s, **e.to_dict(), "row_hash": h} for s, _p, h, e in rows], indent=2) + "\n")
        return
    console = stdout_console()
    if not rows:
        console.print("no audit events match")
        return
    table = Table(show_edge=False, header_style="bold")
    for name in ("seq", "time (UTC)", "outcome", "provider", "model", "dir.", "findings", "policies", "ms"):
        table.add_column(name, overflow="fold", justify="right" if name in ("seq", "ms") else "left")
    for seq, _prev, _hash, e in rows:
        style = _OUTCOME_STYLE.get(e.outcome.value, "")
        table.add_row(
            str(seq), _when(e.timestamp), f"[{style}]{e.outcome.value}[/]", escape(e.provider), escape(e.model),
            e.direction, escape(_findings(e)), escape(", ".join(e.policies)) or "-", f"{e.latency_ms:.0f}",
        )
    console.print(table)
    console.print(f"{len(rows)} event(s)" + (f" (newest {limit}; use --limit 0 for all)" if limit and len(rows) == limit else ""))


@audit_app.command("report", epilog="[bold]Examples[/]\n\n  deepsentinel audit report --since 30d\n\n  deepsentinel audit report --format json\n\n  deepsentinel audit report --html compliance.html --verify")
def report_command(
    db: DbOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    output_format: Annotated[ReportFormat, typer.Option("--format", "-f", help="Output format.")] = ReportFormat.table,
    html: Annotated[Path | None, typer.Option("--html", help="Also write a self-contained HTML report (with a chart) to this file.", show_default=False)] = None,
    verify: Annotated[bool, typer.Option("--verify", help="Also verify the hash chain and include the result.")] = False,
) -> None:
    """Totals for a period: outcomes, block rate, violations by type, policy, category and day."""
    times = _filters(since, until)
    with _open(db) as log:
        report = log.report(times["since"], times["until"], verify_chain=verify)
    if html is not None:
        try:
            html.write_text(report_html(report), encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot write {html}: {exc.strerror or exc}") from exc
        stderr_console().print(f"wrote {html}", markup=False)
    if output_format is ReportFormat.json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        print_report(report)
    if report.chain is not None and not report.chain.ok:  # the report is written; the exit code still tells CI
        _chain_broken(report.chain)


def print_report(report: ComplianceReport) -> None:
    """The report as rich tables on stdout (also used by ``deepsentinel demo``)."""
    console = stdout_console()
    outcomes = ", ".join(f"{k} {v}" for k, v in report.outcomes.items() if v) or "none"
    console.print(f"[bold]{report.total}[/] call(s): {outcomes}")
    console.print(f"block rate {report.block_rate:.1%}; {report.calls_with_violations} call(s) with findings")
    for title, counts in (("by type", report.violations_by_type), ("by policy", report.violations_by_policy),
                          ("by category", report.violations_by_category)):
        if counts:
            console.print(f"findings {title}: " + ", ".join(f"{escape(k)} {v}" for k, v in counts.items()))
    if report.days:
        table = Table(show_edge=False, header_style="bold", title=None)
        for name in ("day", "calls", "blocked", "anonymized", "provider errors", "findings"):
            table.add_column(name, justify="left" if name == "day" else "right")
        for d in report.days:
            table.add_row(d.day, str(d.total), str(d.blocked), str(d.anonymized), str(d.provider_errors), str(d.violations))
        console.print(table)
    if report.chain is not None:
        c = report.chain
        verdict = {OTHER_KEY: "NOT VERIFIED (another audit key)", GAP: "GAP"}.get(c.status, "BROKEN")
        console.print(f"chain: {'[green]intact[/]' if c.ok else f'[bold red]{verdict}[/]'} ({c.checked} row(s) checked)"
                      + ("" if c.ok else f": {escape(c.reason)}"))


@audit_app.command("verify", epilog="[bold]Example[/]\n\n  deepsentinel audit verify --db audit.sqlite3 && echo intact")
def verify_command(db: DbOption = None) -> None:
    """Check the hash chain; exits 1 and names the first altered or missing row when it is broken."""
    with _open(db) as log:
        result = log.verify()
    if result.ok:
        head = f"; head row {result.head_seq}, hash {result.head_hash[:16]}…" if result.head_hash else ""
        stdout_console().print(f"[green]audit chain intact[/]: {result.checked} row(s) checked{head}")
        return
    _chain_broken(result)


def _chain_broken(result: ChainVerification) -> NoReturn:
    if result.status == OTHER_KEY:
        raise CliError(f"audit chain not verified: {result.reason} (set {ENV_AUDIT_KEY} to that key, and "
                       f"{ENV_AUDIT_OLD_KEYS} to earlier keys)", EXIT_FAILURE)
    if result.status == GAP:
        raise CliError(f"audit chain has a gap: {result.reason}", EXIT_FAILURE)
    where = f" at row {result.first_bad_row}" if result.first_bad_row is not None else ""
    raise CliError(f"audit chain broken{where}: {result.reason}", EXIT_FAILURE)


@audit_app.command("export", epilog="[bold]Examples[/]\n\n  deepsentinel audit export > audit.jsonl\n\n  deepsentinel audit export --since 30d --outcome blocked --output blocked.jsonl")
def export_command(
    db: DbOption = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.", show_default=False)] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    outcome: Annotated[OutcomeChoice | None, typer.Option("--outcome", help="Only this outcome.", show_default=False)] = None,
    entity_type: Annotated[str | None, typer.Option("--type", help="Only events with this entity type.", show_default=False)] = None,
    policy: Annotated[str | None, typer.Option("--policy", help="Only events involving this policy.", show_default=False)] = None,
    provider: Annotated[str | None, typer.Option("--provider", help="Only this provider.", show_default=False)] = None,
) -> None:
    """Export events as JSON lines (with seq, prev_hash and row_hash) for a SIEM or an auditor."""
    filters = {**_filters(since, until), "outcome": outcome.value if outcome else None, "entity_type": entity_type,
               "policy": policy, "provider": provider}
    with _open(db) as log:
        if output is None:
            count = log.export_jsonl(sys.stdout, **filters)
        else:
            try:
                count = log.export_jsonl(output, **filters)
            except OSError as exc:
                raise CliError(f"cannot write {output}: {exc.strerror or exc}") from exc
    stderr_console().print(f"exported {count} event(s)" + (f" to {output}" if output else ""), markup=False)


@audit_app.command("prune", epilog="[bold]Example[/]\n\n  deepsentinel audit prune --older-than 365 --yes")
def prune_command(
    older_than: Annotated[float, typer.Option("--older-than", help="Delete events older than this many days.", min=0, show_default=False)],
    db: DbOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete old events; the deletion itself is recorded in the chain, which stays verifiable."""
    log = _open(db)
    with log:
        interactive = sys.stdin is not None and sys.stdin.isatty()
        if not yes and interactive and not typer.confirm(
            f"Delete audit events older than {older_than:g} day(s)?", default=False
        ):
            raise CliError("prune cancelled; nothing was deleted")
        deleted = log.prune(older_than)
    stdout_console().print(f"pruned {deleted} event(s) older than {older_than:g} day(s); the chain records the deletion")


__all__ = ["audit_app", "print_report", "require_audit_database"]
