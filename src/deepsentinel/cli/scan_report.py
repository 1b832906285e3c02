"""Findings of ``deepsentinel scan`` located by line and column, and rendered as a table, JSON, JSONL or SARIF.

Every format shows a *masked* value (``***-**-6789``), never the matched text: scan reports end up in CI logs
and code-scanning dashboards.
"""

from __future__ import annotations

import bisect
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path, PurePath
from typing import Any, TextIO
from urllib.parse import quote

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from deepsentinel.cli.common import severity_name
from deepsentinel.cli.scan_inputs import Skipped
from deepsentinel.detection.anonymizer import MaskStrategy
from deepsentinel.detection.findings import ScanResult, Severity
from deepsentinel.policy.decision import Violation

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_MASK = MaskStrategy()
_MAX_SHOWN = 40
_SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


@dataclass(frozen=True, slots=True)
class FileFinding:
    """One finding in one input, with 1-based line and column (in characters) and a masked value."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    type: str
    category: str
    severity: str
    severity_weight: float
    confidence: float
    risk: float
    action: str
    policy: str
    masked: str

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["severity_weight"]
        return data


class LineIndex:
    """Character offset -> (line, column), both 1-based."""

    def __init__(self, text: str) -> None:
        self._starts = [0]
        pos = text.find("\n")
        while pos != -1:
            self._starts.append(pos + 1)
            pos = text.find("\n", pos + 1)

    def locate(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._starts, offset) - 1
        return line + 1, offset - self._starts[line] + 1


def masked(value: str, entity_type: str) -> str:
    """The masked form of a value, shortened for display; never the value itself."""
    shown = _MASK.replace(value, entity_type).replace("\r", " ").replace("\n", " ")
    return shown if len(shown) <= _MAX_SHOWN else shown[: _MAX_SHOWN - 1] + "…"


# An inline marker in any comment syntax, like gitleaks' "gitleaks:allow": "# deepsentinel: allow" on a line
# keeps that line's findings out of the report; "deepsentinel: allow-next-line" does it for the line below.
_ALLOW = re.compile(r"(?i)deepsentinel:[ \t]*allow(-next-line)?\b")


def allowed(text: str, violations: Sequence[Violation]) -> list[Violation]:
    """``violations`` minus those on a line that an allow marker covers (any line of a multi-line value)."""
    if "deepsentinel:" not in text.lower():
        return list(violations)
    index = LineIndex(text)
    lines: set[int] = set()
    for m in _ALLOW.finditer(text):
        line = index.locate(m.start())[0]
        lines.add(line + 1 if m.group(1) else line)
    return [v for v in violations
            if not any(n in lines for n in range(index.locate(v.start)[0], index.locate(max(v.start, v.end - 1))[0] + 1))]


def locate_findings(path: str, text: str, result: ScanResult, violations: Sequence[Violation]) -> list[FileFinding]:
    """Join policy violations with the engine's findings (for severity) and place them in the text."""
    severity = {(f.start, f.end, f.type): f.severity for f in result.findings}
    index = LineIndex(text)
    out: list[FileFinding] = []
    for v in violations:
        sev = severity.get((v.start, v.end, v.type), Severity.MEDIUM)
        line, col = index.locate(v.start)
        end_line, end_col = index.locate(max(v.start, v.end - 1))
        out.append(FileFinding(
            path, line, col, end_line, end_col + 1, v.type, v.category.value, severity_name(sev), float(sev.value),
            round(v.confidence, 4), round(v.risk, 4), v.action.value, v.policy, masked(text[v.start : v.end], v.type),
        ))
    return out


@dataclass(frozen=True, slots=True)
class ScanSummary:
    """Totals for a run, shown under the table and included in JSON.

    ``failed`` is the verdict (exit code 1), ``fail_reasons`` why: a finding at ``fail_on`` or above, and/or
    ``not_scanned`` inputs, which the user named and which could not be scanned. ``skipped`` lists every skipped
    input with its reason.
    """

    files_scanned: int
    files_skipped: int
    findings: int
    by_severity: dict[str, int]
    failed: bool
    fail_on: str
    not_scanned: int = 0
    fail_reasons: tuple[str, ...] = ()
    skipped: tuple[dict[str, Any], ...] = ()


def summarise(
    findings: Sequence[FileFinding], scanned: int, skipped: Sequence[Skipped], findings_fail: bool, fail_on: str
) -> ScanSummary:
    counts = Counter(f.severity for f in findings)
    order = ("critical", "high", "medium", "low")
    not_scanned = sum(s.explicit for s in skipped)
    reasons = ((f"--fail-on {fail_on}",) if findings_fail else ()) + (
        (f"{not_scanned} named input(s) not scanned",) if not_scanned else ()
    )
    return ScanSummary(
        scanned, len(skipped), len(findings), {s: counts[s] for s in order if counts[s]}, bool(reasons), fail_on,
        not_scanned, reasons, tuple({"path": s.display, "reason": s.reason, "named": s.explicit} for s in skipped),
    )


def render_table(console: Console, findings: Sequence[FileFinding], summary: ScanSummary) -> None:
    """A rich table of findings and a one-line summary."""
    if findings:
        table = Table(show_edge=False, header_style="bold")
        for name in ("location", "type", "category", "severity", "conf.", "action", "value (masked)"):
            table.add_column(name, overflow="fold")
        styles = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}
        for f in findings:
            table.add_row(
                # Paths and values are data, not markup: Next.js routes like app/[id]/page.tsx must show as is.
                escape(f"{f.path}:{f.line}:{f.column}"), escape(f.type), f.category,
                f"[{styles.get(f.severity, '')}]{f.severity}[/]", f"{f.confidence:.2f}", f.action, escape(f.masked),
            )
        console.print(table)
    sev = ", ".join(f"{n} {s}" for s, n in summary.by_severity.items()) or "none"
    verdict = f"[bold red]fail ({escape('; '.join(summary.fail_reasons))})[/]" if summary.failed else "[green]ok[/]"
    console.print(
        f"{summary.findings} finding(s) in {summary.files_scanned} input(s) ({sev}); "
        f"{summary.files_skipped} skipped; {verdict}"
    )


def render_json(out: TextIO, findings: Sequence[FileFinding], summary: ScanSummary) -> None:
    doc = {"summary": asdict(summary), "findings": [f.to_dict() for f in findings]}
    out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def render_jsonl(out: TextIO, findings: Sequence[FileFinding]) -> None:
    for f in findings:
        out.write(json.dumps(f.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n")


def sarif_document(findings: Sequence[FileFinding], version: str) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run: a rule per entity type, a result per finding."""
    rules: dict[str, dict[str, Any]] = {}
    for f in findings:
        if f.type not in rules:
            rules[f.type] = {
                "id": f.type,
                "name": f.type.title().replace("_", ""),
                "shortDescription": {"text": f"{f.type.replace('_', ' ').lower()} ({f.category})"},
                "fullDescription": {"text": f"Sensitive data of type {f.type} in category {f.category}."},
                "defaultConfiguration": {"level": _SARIF_LEVEL.get(f.severity, "warning")},
                "properties": {"category": f.category, "tags": ["security", "privacy", f.category.lower()]},
            }
    ids = list(rules)
    results = [
        {
            "ruleId": f.type,
            "ruleIndex": ids.index(f.type),
            "level": _SARIF_LEVEL.get(f.severity, "warning"),
            "message": {"text": f"{f.type} ({f.category}, {f.severity}) found: {f.masked}"},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(f.path)},
                    "region": {"startLine": f.line, "startColumn": f.column,
                               "endLine": f.end_line, "endColumn": f.end_column},
                }
            }],
            "properties": {"confidence": f.confidence, "risk": f.risk, "action": f.action, "policy": f.policy,
                           "severity": f.severity},
        }
        for f in findings
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "DeepSentinel", "semanticVersion": version, "version": version,
                "informationUri": "https://github.com/deepsentinel/deepsentinel-sdk",
                "rules": list(rules.values()),
            }},
            "results": results,
            "columnKind": "unicodeCodePoints",  # our columns count characters, not UTF-16 code units
        }],
    }


def _uri(path: str) -> str:
    """A SARIF artifact URI: relative paths stay relative (to the scan root), absolute ones become file URIs."""
    if path == "<stdin>":
        return "stdin"
    p = PurePath(path)
    return Path(path).as_uri() if p.is_absolute() else quote(p.as_posix())


def render_sarif(out: TextIO, findings: Sequence[FileFinding], version: str) -> None:
    out.write(json.dumps(sarif_document(findings, version), indent=2, ensure_ascii=False) + "\n")


__all__ = [
    "FileFinding", "LineIndex", "ScanSummary", "locate_findings", "masked", "render_json", "render_jsonl",
    "render_sarif", "render_table", "sarif_document", "summarise",
]
