"""``deepsentinel demo``: the whole job in a few seconds, with no API key and no network.

It starts the bundled fake LLM server on a free loopback port and sends four chats through one client:
a safe streamed answer, a prompt blocked before it leaves, an answer whose contact details are masked, and an
answer cut mid-stream before a card number appears. Then it prints the audit report of those calls.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from deepsentinel.audit import AuditLog, SQLiteAuditStore
from deepsentinel.cli.audit import print_report
from deepsentinel.cli.common import audit_key_from_env, stdout_console
from deepsentinel.clients import SentinelClient
from deepsentinel.errors import ComplianceViolationError
from deepsentinel.policy.policy import DEFAULT_POLICY, CompliancePolicy
from deepsentinel.testing import FakeLLMServer, Reply

DEMO_EXAMPLES = """
[bold]Examples[/]

  deepsentinel demo\n
  deepsentinel demo --db demo-audit.sqlite3 && deepsentinel audit list --db demo-audit.sqlite3
"""
MODEL = "gpt-4o-mini"
# Fictional values: a reserved-range SSN-shaped number, the standard Visa test card, 555-01xx phone numbers.
_SSN = "123-45-6789"  # deepsentinel: allow
_CARD_PIECES = ("4111 1111", " 1111 1111")
REDACT_POLICY = CompliancePolicy(
    name="mask-contact-details",
    description="Masks emails and phone numbers in prompts and answers instead of letting them through.",
    block_on_violation=False, anonymize_threshold=0.2, anonymization_strategy="mask",
)


def _script(delay: float) -> dict[str, Reply]:
    """The fake model's answers, keyed by a word of each prompt."""
    return {
        "compliance": Reply(
            text=("A compliance layer checks every prompt before it reaches the model and every answer before you "
                  "see it, so personal data, card numbers and secrets never leak by accident."),
            delay_between=delay,
        ),
        "support": Reply(
            text="You can reach our support team at help@example.com or on +1 415-555-0132, any weekday.",
            delay_between=delay,
        ),
        "billing": Reply(
            chunks=["Sure. ", "The card ", "on file ", "is ", *_CARD_PIECES, ", expiring ", "next year."],
            delay_between=delay,
        ),
    }


@contextmanager
def _audit_path(db: Path | None) -> Iterator[Path]:
    if db is not None:
        yield db.expanduser()
        return
    with tempfile.TemporaryDirectory(prefix="deepsentinel-demo-") as tmp:
        yield Path(tmp) / "audit.sqlite3"


def demo_command(
    db: Annotated[Path | None, typer.Option("--db", help="Keep the demo's audit trail in this file (default: a temporary one, deleted).", show_default=False)] = None,
    delay: Annotated[float, typer.Option("--delay", help="Seconds between streamed pieces, to watch them arrive.", min=0.0, max=1.0)] = 0.03,
) -> None:
    """Walk through DeepSentinel against a built-in fake LLM: no API key, no network, a few seconds."""
    console = stdout_console()
    with _audit_path(db) as path, FakeLLMServer() as server:
        for word, reply in _script(delay).items():
            server.add_rule(word, reply)
        store = SQLiteAuditStore(path, key=audit_key_from_env())  # as the SDK would: audit verify agrees
        client = SentinelClient(
            openai_api_key="demo-key", base_url=server.openai_base_url,
            compliance_policies=[DEFAULT_POLICY, REDACT_POLICY], audit=store,
        )
        console.rule("[bold]DeepSentinel demo")
        console.print(f"A fake OpenAI-compatible server is listening on {server.url} (loopback only; no key, no network).")
        console.print(f"Policies: [bold]{DEFAULT_POLICY.name}[/] (blocks IDs, cards, secrets) and "
                      f"[bold]{REDACT_POLICY.name}[/] (masks emails and phone numbers).\n")
        with client:
            _step(console, 1, "A safe prompt, streamed as it arrives")
            _ask(console, client, "What does a compliance layer for LLM calls do?")

            _step(console, 2, "A prompt with a Social Security number is blocked before it leaves")
            before = server.request_count()
            _ask(console, client, f"My SSN is {_SSN}, can you file my taxes?", show_prompt=False)
            console.print(f"Requests the server received for it: [bold]{server.request_count() - before}[/]")

            _step(console, 3, "Contact details in an answer are masked")
            _ask(console, client, "How do I reach support?")

            _step(console, 4, "An answer is cut mid-stream before a card number is shown")
            console.print("[dim]The model sends the number split across two chunks; the guard holds back the "
                          "digits until it can decide.[/]")
            _ask(console, client, "What billing details do you have?")
        _step(console, 5, "The audit report of these calls (types and counts, never values)")
        with AuditLog(path, key=audit_key_from_env()) as log:
            report = log.report(verify_chain=True)
            rows = log.list()
        for e in rows:
            found = ", ".join(e.finding_counts()) or "-"
            console.print(f"  {e.outcome.value:<18} {e.direction:<9} findings: {found}")
        print_report(report)
        console.rule()
        where = f"The audit trail is in {escape(str(path))}." if db is not None else "The audit trail was temporary (keep it with --db FILE)."
        console.print(f"Done. {where} Next: [bold]deepsentinel chat --help[/], [bold]deepsentinel scan --help[/].")


def _step(console: Console, n: int, title: str) -> None:
    console.print()
    console.rule(f"[bold]Step {n}/5[/] · {title}", align="left")


def _ask(console: Console, client: SentinelClient, prompt: str, *, show_prompt: bool = True) -> None:
    if show_prompt:
        console.print(f"[bold cyan]you>[/] {prompt}", highlight=False)
    else:
        console.print("[bold cyan]you>[/] My SSN is ***-**-6789, can you file my taxes?  [dim](shown masked here)[/]")
    try:
        stream = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": prompt}], stream=True)
    except ComplianceViolationError as exc:
        kinds = ", ".join(dict.fromkeys(v.type for v in exc.violations))
        console.print(f"[bold red]⛔ blocked before sending[/] by policy {exc.policy}: {kinds}. Nothing left this process.")
        return
    console.print("[bold green]assistant>[/] ", end="")
    try:
        with stream:
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    console.print(chunk.choices[0].delta.content, end="", markup=False, highlight=False)
                    console.file.flush()
    except ComplianceViolationError as exc:
        kinds = ", ".join(dict.fromkeys(v.type for v in exc.violations))
        console.print(f"\n[bold yellow]⚠ response stopped[/] by policy {exc.policy}: {kinds}. The rest was withheld.")
        return
    console.print()


__all__ = ["DEMO_EXAMPLES", "demo_command"]
