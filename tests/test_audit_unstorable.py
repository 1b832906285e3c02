"""No input loses an audit event: unencodable or huge values are stored escaped or cut, never dropped, and a
write the database still refuses is recorded as a gap that verify() reports."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepsentinel.audit import AuditFilter, AuditLog, Outcome, SQLiteAuditStore
from deepsentinel.audit import sanitize as clean
from deepsentinel.audit.chain import GAP
from tests.audit_factory import AUDIT_KEY, finding, make_event, refuse_rows

# Every code point, lone surrogates and NUL included (the default alphabet leaves surrogates out).
ANY_TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()), max_size=50)
HUGE_INT = st.integers(min_value=-(10**30), max_value=10**30)
ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True)


def _nested(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value


def test_a_lone_surrogate_loses_neither_its_event_nor_its_batch(tmp_path: Path) -> None:
    """The issue's case: 'hi \\ud800' in the anonymized text, batched with 99 other events; all 100 stored."""
    path = tmp_path / "a.sqlite3"
    with SQLiteAuditStore(path, key=AUDIT_KEY, max_batch=1000) as store:
        for i in range(100):
            store.record(make_event(anonymized_text="hi \ud800" if i in (3, 50, 97) else f"call {i}"))
        store.flush()
        assert store.dropped == 0
        texts = [e.anonymized_text for e in store.query()]
        result = store.verify()
    assert len(texts) == 100 and texts[3] == "hi \\ud800" and texts[4] == "call 4"
    assert result.ok and result.checked == 100, result


def test_a_negative_zero_latency_still_verifies(tmp_path: Path) -> None:
    """SQLite reads -0.0 back as 0.0; hashing -0.0 made the row look altered (found by the fuzz test below)."""
    with SQLiteAuditStore(tmp_path / "z.sqlite3", key=AUDIT_KEY) as store:
        store.record(make_event(Outcome.ALLOWED, risk_score=-0.0, latency_ms=-0.0))
        result = store.verify()
    assert result.ok and result.checked == 1, result


def test_huge_and_deeply_nested_values_are_cut_or_replaced_not_dropped(tmp_path: Path) -> None:
    """A 3 MB text, a 100-digit token count, NaN, NUL and a 100 000-deep list are all stored as something."""
    path = tmp_path / "b.sqlite3"
    events = [
        make_event(anonymized_text="x" * 3_000_000),
        make_event(prompt_tokens=10**100, completion_tokens=-(10**100), latency_ms=math.nan),
        make_event(model="gpt\x00-4o", policies=(_nested(100_000),)),  # type: ignore[arg-type]
        make_event(provider=_nested(100_000)),  # type: ignore[arg-type]
    ]
    with SQLiteAuditStore(path, key=AUDIT_KEY) as store:
        for e in events:
            store.record(e)
        stored = store.query()
        assert store.verify().ok
    assert len(stored) == 4
    assert len(stored[0].anonymized_text or "") < 1_100_000 and "characters not stored" in (stored[0].anonymized_text or "")
    assert stored[1].prompt_tokens == 2**63 - 1 and stored[1].completion_tokens == -(2**63)
    assert math.isnan(stored[1].latency_ms)
    assert stored[2].model == "gpt\\x00-4o" and stored[2].policies == ("<unprintable list>",)
    assert stored[3].provider == "<unprintable list>"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(st.tuples(ANY_TEXT, ANY_TEXT, ANY_TEXT), min_size=1, max_size=8),
    ints=st.tuples(HUGE_INT, HUGE_INT, HUGE_INT),
    floats=st.tuples(ANY_FLOAT, ANY_FLOAT),
)
def test_fuzz_any_strings_numbers_and_findings_are_stored_and_verify(
    tmp_path_factory: pytest.TempPathFactory, texts: list[tuple[str, str, str]], ints: tuple[int, int, int],
    floats: tuple[float, float],
) -> None:
    """Whatever the fields hold, every event recorded is stored, readable, indexed and the chain verifies."""
    path = tmp_path_factory.mktemp("fuzz") / "f.sqlite3"
    events = [
        make_event(
            Outcome.BLOCKED, model=model, anonymized_text=text, target=target, chunks=ints[0], prompt_tokens=ints[1],
            risk_score=floats[0], latency_ms=floats[1],
            findings=(finding(type_=model or "T", policy=target, start=ints[2], end=ints[0]),),
            policies=(target, text),
        )
        for model, text, target in texts
    ]
    with SQLiteAuditStore(path, key=AUDIT_KEY) as store:
        for e in events:
            store.record(e)
        stored = store.query()
        by_type = store.query(AuditFilter(entity_type=events[0].findings[0].type))
        result = store.verify()
        assert store.dropped == 0
    wanted = clean.text(events[0].findings[0].type)  # the filter finds what the type was stored as
    assert {e.request_id for e in by_type} == {e.request_id for e in events if clean.text(e.findings[0].type) == wanted}
    assert len(stored) == len(events)
    assert [e.request_id for e in stored] == [e.request_id for e in events]
    assert result.ok and result.checked == len(events), result


def test_a_row_the_database_refuses_costs_only_itself_and_is_reported_as_a_gap(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """One refused event among 20: the other 19 are stored, the loss is counted, logged, and verify reports it."""
    path = tmp_path / "p.sqlite3"
    refuse_rows(path, "poison", key=AUDIT_KEY)
    lost: list[int] = []
    caplog.set_level(logging.ERROR, "deepsentinel.audit")
    with SQLiteAuditStore(path, key=AUDIT_KEY, on_lost=lost.append) as store:
        for i in range(20):
            store.record(make_event(model="poison" if i == 7 else "gpt-4o-mini"))
        store.flush()
        assert store.dropped == 1 and lost == [1]
        assert len(store.query()) == 1 + 19
    assert "1 events lost" in caplog.text and "poison" not in caplog.text
    with AuditLog(path, key=AUDIT_KEY) as log:
        result = log.verify()
    assert not result.ok and result.status == GAP and result.lost_events == 1, result
    # The gap row follows the stored events of the refused one's batch: after the 7 recorded before it, at the
    # latest after all 19 (how the 20 fell into batches is the writer thread's timing).
    assert 8 <= result.first_bad_row <= 21 and "1 event(s) were lost" in result.reason


def test_verify_cli_reports_the_gap_and_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`deepsentinel audit verify` exits 1 with 'gap', not 'intact', after a lost event."""
    from tests.cli_runner import run_cli

    path = tmp_path / "g.sqlite3"
    refuse_rows(path, "poison", key=AUDIT_KEY)
    with SQLiteAuditStore(path, key=AUDIT_KEY) as store:
        store.record(make_event(model="poison"))
    monkeypatch.setenv("DEEPSENTINEL_AUDIT_KEY", AUDIT_KEY.decode())
    result = run_cli(["audit", "verify", "--db", str(path)])
    assert result.code == 1 and "audit chain has a gap" in result.err and "intact, but 1 event(s)" in result.err


def test_a_durable_store_raises_when_its_event_could_not_be_committed(tmp_path: Path) -> None:
    """durable=True: record() of a refused event raises AuditWriteError; the next event commits as usual."""
    from deepsentinel.audit.errors import AuditWriteError

    path = tmp_path / "d.sqlite3"
    refuse_rows(path, "poison", key=AUDIT_KEY)
    with SQLiteAuditStore(path, key=AUDIT_KEY, durable=True) as store:
        with pytest.raises(AuditWriteError):
            store.record(make_event(model="poison"))
        store.record(make_event())
        assert len(store.query()) == 2
