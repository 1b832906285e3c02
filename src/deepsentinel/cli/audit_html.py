"""The audit report as one self-contained HTML page: inline CSS and an inline SVG chart, no scripts, no fetches.

Every string from the audit store is escaped; the page holds counts and entity types only, never values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from html import escape

from deepsentinel import __version__
from deepsentinel.audit import ComplianceReport, DayTrend
from deepsentinel.audit.chain import GAP, OTHER_KEY

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:960px;color:#1d2330;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #e3e6ec;padding-bottom:.3rem}
.muted{color:#687287}.cards{display:flex;gap:1rem;flex-wrap:wrap;margin-top:1rem}
.card{border:1px solid #e3e6ec;border-radius:8px;padding:.7rem 1rem;min-width:130px}
.card b{display:block;font-size:1.5rem}table{border-collapse:collapse;width:100%;margin-top:.5rem}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #eef0f4}td.n,th.n{text-align:right}
.ok{color:#137333}.bad{color:#b3261e}svg text{font-size:11px;fill:#687287}
"""
_W, _H, _PAD_L, _PAD_B, _PAD_T = 900, 240, 40, 40, 14


def _fmt_time(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def violations_chart(days: Sequence[DayTrend]) -> str:
    """An SVG bar chart of findings per day, with blocked calls as a second bar; an empty-state when no data."""
    if not days:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} 60" role="img" '
                'aria-label="no data"><text x="10" y="35">No events in this period.</text></svg>')
    peak = max(max(d.violations, d.blocked) for d in days) or 1
    plot_w, plot_h = _W - _PAD_L - 10, _H - _PAD_B - _PAD_T
    slot = plot_w / len(days)
    bar = max(2.0, min(28.0, slot / 2.6))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" role="img" '
        'aria-label="Findings and blocked calls per day">',
        f'<line x1="{_PAD_L}" y1="{_H - _PAD_B}" x2="{_W - 10}" y2="{_H - _PAD_B}" stroke="#c9ced8"/>',
        f'<text x="{_PAD_L - 6}" y="{_PAD_T + 4}" text-anchor="end">{peak}</text>',
        f'<text x="{_PAD_L - 6}" y="{_H - _PAD_B}" text-anchor="end">0</text>',
    ]
    label_every = max(1, len(days) // 12)
    for i, d in enumerate(days):
        x = _PAD_L + i * slot + slot / 2
        for offset, value, colour, name in ((-bar, d.violations, "#e8710a", "findings"), (0.0, d.blocked, "#b3261e", "blocked")):
            h = plot_h * value / peak
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{_H - _PAD_B - h:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(d.day)}: {value} {name}</title></rect>"
            )
        if i % label_every == 0:
            parts.append(f'<text x="{x:.1f}" y="{_H - _PAD_B + 16}" text-anchor="middle">{escape(d.day[5:])}</text>')
    parts.append(
        f'<rect x="{_W - 190}" y="4" width="10" height="10" fill="#e8710a"/><text x="{_W - 176}" y="13">findings</text>'
        f'<rect x="{_W - 110}" y="4" width="10" height="10" fill="#b3261e"/><text x="{_W - 96}" y="13">blocked</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _counts_table(title: str, counts: Mapping[str, int]) -> str:
    if not counts:
        return f"<h2>{escape(title)}</h2><p class=muted>None.</p>"
    rows = "".join(f"<tr><td>{escape(str(k))}</td><td class=n>{int(v)}</td></tr>" for k, v in counts.items())
    return f"<h2>{escape(title)}</h2><table><tr><th>name</th><th class=n>count</th></tr>{rows}</table>"


def report_html(report: ComplianceReport) -> str:
    """The whole page for one report."""
    cards = [("calls", str(report.total)), ("with findings", str(report.calls_with_violations)),
             ("blocked or cut", str(report.outcomes.get("blocked", 0) + report.outcomes.get("stream_terminated", 0))),
             ("anonymized", str(report.outcomes.get("anonymized", 0))), ("block rate", f"{report.block_rate:.1%}")]
    card_html = "".join(f'<div class=card><span class=muted>{escape(k)}</span><b>{escape(v)}</b></div>' for k, v in cards)
    day_rows = "".join(
        f"<tr><td>{escape(d.day)}</td><td class=n>{d.total}</td><td class=n>{d.blocked}</td><td class=n>{d.anonymized}</td>"
        f"<td class=n>{d.provider_errors}</td><td class=n>{d.violations}</td></tr>"
        for d in report.days
    )
    chain = ""
    if report.chain is not None:
        c = report.chain
        where = "" if c.first_bad_row is None else f" at row {c.first_bad_row}"  # None: e.g. another audit key
        if c.ok:
            status = "<span class=ok>intact</span>"
        elif c.status == OTHER_KEY:
            status = "<span class=bad>not verified (another audit key)</span>"
        elif c.status == GAP:
            status = f"<span class=bad>gap: {c.lost_events} event(s) lost</span>"
        else:
            status = f"<span class=bad>broken{escape(where)}</span>"
        chain = f"<h2>Hash chain</h2><p>{status}: {c.checked} row(s) checked. {escape(c.reason)}</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>DeepSentinel compliance report</title><style>{_CSS}</style></head>
<body>
<h1>DeepSentinel compliance report</h1>
<p class=muted>Period {escape(_fmt_time(report.since))} to {escape(_fmt_time(report.until))}; generated {escape(_fmt_time(report.generated_at or None))} by deepsentinel {escape(__version__)}. Counts and entity types only: the audit trail never holds raw values.</p>
<div class=cards>{card_html}</div>
<h2>Findings and blocked calls per day</h2>
{violations_chart(report.days)}
<h2>Per day</h2>
<table><tr><th>day</th><th class=n>calls</th><th class=n>blocked</th><th class=n>anonymized</th><th class=n>provider errors</th><th class=n>findings</th></tr>{day_rows}</table>
{_counts_table("Outcomes", {k: v for k, v in report.outcomes.items() if v})}
{_counts_table("Findings by type", report.violations_by_type)}
{_counts_table("Findings by policy", report.violations_by_policy)}
{_counts_table("Findings by category", report.violations_by_category)}
{chain}
</body></html>
"""


__all__ = ["report_html", "violations_chart"]
