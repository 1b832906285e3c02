"""The native prefilters: same answers from each backend, a compiled database reused across processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepsentinel.detection import hyperscan_prefilter, prefilter
from deepsentinel.detection.prefilter import build_prefilter

EXPRESSIONS = [r"[0-9]{3}-[0-9]{2}-[0-9]{4}", r"(?i:\bssn\b)", r"[A-Za-z0-9._%+\-]{1,64}@[a-z]{2,9}\.com"] * 4


@pytest.mark.parametrize("backend", ["re2", "hyperscan"])
@pytest.mark.parametrize(("text", "expected"), [
    ("SSN 536-22-1234", {0, 1}),
    ("write to jane@example.com", {2}),
    ("nothing here", set()),
    ("caf\u00e9 \u00fcber jane@example.com", {2}),  # non-ASCII text around a match
    ("", set()),
])
def test_each_backend_tells_which_expressions_can_match(backend: str, text: str, expected: set[int]) -> None:
    """Expression ids fire when (and here only when) the expression occurs in the text."""
    if backend == "hyperscan":
        pytest.importorskip("hyperscan")
    pf = build_prefilter(EXPRESSIONS[:3], backend=backend)  # type: ignore[arg-type]
    assert pf.match(text) == frozenset(expected)


def test_custom_expressions_are_numbered_after_the_catalog() -> None:
    """Custom patterns get the ids after the catalog's, and one RE2 cannot parse is marked always-run."""
    pf = build_prefilter(EXPRESSIONS[:3], [r"EMP[0-9]{6}", r"(?<=id )X[0-9]"])
    assert pf.ids == [0, 1, 2, 3, -1]
    assert pf.match("badge EMP123456 SSN") == frozenset({1, 3})


def test_a_compiled_database_is_reused_from_the_cache_directory(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The second build loads the stored database instead of compiling, with the same answers."""
    pytest.importorskip("hyperscan")
    monkeypatch.setenv("DEEPSENTINEL_CACHE_DIR", str(tmp_path))
    # Not built earlier in this process, and enough of them without digits to be worth a file.
    expressions = [rf"(?i:\bssn{'z' * i}\b)" for i in range(12)]
    first = hyperscan_prefilter.HyperscanPrefilter(expressions)
    stored = list(tmp_path.glob("prefilter-*.hsdb"))
    assert len(stored) == 1
    second = hyperscan_prefilter.HyperscanPrefilter(expressions)
    assert second.match("SSN 536-22-1234 ssnzz") == first.match("SSN 536-22-1234 ssnzz") == frozenset({0, 2})
    stored[0].write_bytes(b"damaged")
    third = hyperscan_prefilter.HyperscanPrefilter(expressions)  # compiled again, file replaced
    assert third.match("SSN 536-22-1234 ssnzz") == frozenset({0, 2})
    assert stored[0].read_bytes() != b"damaged"


def test_an_empty_cache_setting_stores_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DEEPSENTINEL_CACHE_DIR='' turns the database cache off."""
    monkeypatch.setenv("DEEPSENTINEL_CACHE_DIR", "")
    assert prefilter.cache_dir() is None


def _peer_texts() -> list[str]:
    import base64
    import json

    data = Path(__file__).resolve().parent.parent / "benchmarks" / "peers" / "data"
    return [base64.b64decode(json.loads(line)["text_b64"]).decode()
            for source in ("gitleaks", "presidio") for line in (data / f"{source}.jsonl").read_text().splitlines()]


def test_every_gate_fires_wherever_its_pattern_matches() -> None:
    """A pattern's prefilter ``gate`` is a superset of its pattern (else the pattern would never run there),
    checked on the peers' cases: written by hand, a gate must follow every change to its pattern."""
    import re

    from deepsentinel.detection.recognizers import BUILTIN_RECOGNIZERS

    gated = [(p, rx) for r in BUILTIN_RECOGNIZERS for p, rx in zip(r.patterns, r.compiled, strict=True)
             if p.gate is not None]
    assert gated
    texts = _peer_texts()
    for pattern, regex in gated:
        gate = re.compile(pattern.gate or "", regex.flags)
        for text in texts:
            if regex.search(text):
                assert gate.search(text), f"{pattern.name}: the gate misses a text the pattern matches"


@pytest.mark.parametrize(("expression", "reach"), [
    (r"[0-9]{3}-[0-9]{2}-[0-9]{4}", 11),
    (r"(?i:\bssn\b)", None),  # no digit
    (r"[A-Z]{2}[0-9]{2}(?:[ \t]?[A-Z0-9]{4}){2,7}", 39),
    (r"(?:[0-9]{4}|abcd)-x", None),  # one branch has no digit
    (r"[0-9]+-[0-9]", None),  # no longest match
    (r"^[0-9]{4}", 4),  # a window's start reads as the text's: "^" holds in more places, never fewer
    (r"(?:^|[^0-9A-Za-z_])[A-Za-z][0-9]{9}(?:[^0-9A-Za-z_]|$)", 12),
    (r"\B[0-9]{4}", None),  # "\B" would hold in fewer places at a window's edge
    (r"(?=[0-9])[0-9]{4}", None),  # a look-around
    (r"[0-9a-f]{8}", None),  # may hold no digit at all
    (r"(?i:x[0-9]{2}){2}", 6),
])
def test_digit_reach_reads_what_every_match_holds(expression: str, reach: int | None) -> None:
    """An expression is scanned only around digits when each of its matches holds one, within a known length."""
    from deepsentinel.detection.regex_facts import digit_facts

    assert digit_facts(expression)[1] == reach


@pytest.mark.parametrize(("expression", "holds"), [
    (r"[0-9]{3}-[0-9]{2}-[0-9]{4}", True),
    (r"[0-9]+-[0-9]", True),  # however long
    (r"(?i:jan|feb)[ \t]+[0-9]{1,2},?[ \t]+[0-9]{4}", True),
    (r"(?:[0-9]{4}|abcd)-x", False),
    (r"[0-9a-f]+", False),
    (r"\B[0-9]", False),  # unknown
])
def test_holds_digit_reads_every_match(expression: str, holds: bool) -> None:
    from deepsentinel.detection.regex_facts import digit_facts

    assert digit_facts(expression)[0] is holds


def _whole_scan(pf: hyperscan_prefilter.HyperscanPrefilter, data: bytes) -> frozenset[int]:
    """What each of the prefilter's databases fires for over the whole text (its name cues aside); the context
    words' only when one of their triggers fired."""
    whole: set[int] = set()
    pf._db.scan(data, match_event_handler=hyperscan_prefilter._collect_catalog, context=whole)
    for db in (pf._near, pf._far):
        db.scan(data, match_event_handler=hyperscan_prefilter._collect, context=whole)
    # The pass over every text's "has a digit" and "has a long run" (not catalog expressions); the runs' database
    # over the whole text.
    whole -= {hyperscan_prefilter._DIGIT, hyperscan_prefilter._RUN}
    pf._runs.scan(data, match_event_handler=hyperscan_prefilter._collect, context=whole)
    if pf._later is not None and (pf._later_always or not pf._triggers.isdisjoint(whole)):
        pf._later.scan(data, match_event_handler=hyperscan_prefilter._collect, context=whole)
    return frozenset(whole)


def test_scanning_around_digits_fires_as_scanning_everything() -> None:
    """The digit databases, scanned in windows around the digits and over texts with a digit, fire for the same
    expressions as a scan of the whole text (peers' cases, digits at the edges, one text with digits all over,
    and texts with none)."""
    pytest.importorskip("hyperscan")
    from deepsentinel.detection import DetectionEngine

    pf = DetectionEngine(cache_size=0)._prefilter
    assert pf.wait(120)
    assert isinstance(pf, hyperscan_prefilter.HyperscanPrefilter) and pf._near is not None and pf._far is not None
    texts = _peer_texts() + ["536-22-1234", "x" * 500 + " 536-22-1234", "1 2 3 " * 400, "word " * 300 + "12",
                             "Meet me at 221B Baker Street on March 3rd, 2024", "AB12 CDE", "no digits at all here"]
    paths = {"whole": 0, "windows": 0, "none": 0}
    for text in texts:
        data = prefilter.one_byte_per_char(text)
        assert pf.match(text) == _whole_scan(pf, data), text
        windows = hyperscan_prefilter._digit_windows(data, pf._reach)
        paths["whole" if windows is None else "windows" if windows else "none"] += 1
    assert min(paths.values()) >= 3  # every path taken


_PIECES = ["X123456789", "AB12 CDE", "221 Baker Street", "March 3rd, 2024", "3 March 2024", "536-22-1234",
           "0 21 555 0199", "HRA 12345", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "word", "the", "\n", " ",
           ", ", "-", "_", "(", ")", "at", "1", "12", "x", "Z"]


@pytest.mark.skipif(not prefilter.hyperscan_available(), reason="needs the hyperscan wheel")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), max_size=40), st.integers(0, 200))
def test_the_digit_databases_fire_as_one_whole_text_scan(pieces: list[str], pad: int) -> None:
    """Any mix of numbers, anchors' neighbours (line breaks, punctuation) and prose, at any distance from the
    text's edges: the three databases together fire for every expression a scan of the whole text with each of
    them fires for (a window's edge may add a hit, read as a text's edge; it never loses one)."""
    from deepsentinel.detection import DetectionEngine

    pf = DetectionEngine(cache_size=0)._prefilter
    assert isinstance(pf, hyperscan_prefilter.HyperscanPrefilter)
    text = "y" * pad + " ".join(pieces)
    data = prefilter.one_byte_per_char(text)
    assert pf.match(text) >= _whole_scan(pf, data)


def test_expressions_whose_every_match_holds_a_digit_leave_the_pass_over_every_text() -> None:
    """An anchored number (a national id) goes to the database scanned around digits, a match that may be long
    (a date, a street address) to the one scanned over texts with a digit; the pass over every text keeps the
    rest. A text without digits is scanned by that pass alone."""
    pytest.importorskip("hyperscan")
    plain = r"(?i:\bssn\b)"
    anchored = r"(?:^|[^0-9A-Za-z_])(?:[A-Za-z][0-9]{9})(?:[^0-9A-Za-z_]|$)"
    long_ = r"[0-9]{1,6}(?:[ \t]+[A-Z][a-z]+)+[ \t]+(?:Street|Road)"
    pf = hyperscan_prefilter.HyperscanPrefilter([plain, anchored, long_])
    text = "SSN of X123456789 at 221 Baker Street"
    assert pf.match(text) == frozenset({0, 1, 2})
    data = prefilter.one_byte_per_char(text)
    found = {}
    for name in ("_db", "_near", "_far"):
        hits: set[int] = set()
        getattr(pf, name).scan(data, match_event_handler=hyperscan_prefilter._collect, context=hits)
        found[name] = hits
    assert found == {"_db": {0, hyperscan_prefilter._DIGIT}, "_near": {1}, "_far": {2}}
    assert pf.match("SSN of Xabcdefghi at Baker Street") == frozenset({0})


@pytest.mark.parametrize(("expression", "parts"), [
    (r"[0-9]{3}|(?i:abc)|x", [r"[0-9]{3}", r"(?i:abc)", "x"]),
    (r"(a|b)c", [r"(a|b)c"]),  # inside a group: one alternative
    (r"[|(]a|b", [r"[|(]a", "b"]),  # "|" and "(" in a class are characters
    (r"[]|]a|b", [r"[]|]a", "b"]),  # so is a "]" right after "["
    (r"[^]|]a|b", [r"[^]|]a", "b"]),
    (r"\|a|b", [r"\|a", "b"]),  # an escaped "|"
    (r"(?i)a|b", [r"(?i)a|b"]),  # global flags belong to every alternative: kept whole
    ("plain", ["plain"]),
])
def test_alternatives_are_the_top_level_ones(expression: str, parts: list[str]) -> None:
    from deepsentinel.detection.regex_facts import alternatives

    assert alternatives(expression) == parts


def test_each_alternative_goes_where_its_own_matches_say() -> None:
    """A gate with a number and a word (the views' trigger) is split: the number is scanned around digits, the
    word over every text, and either fires the gate. The pass over every text says whether a text has a digit."""
    pytest.importorskip("hyperscan")
    pf = hyperscan_prefilter.HyperscanPrefilter([r"[0-9]{3}-[0-9]{4}|(?i:\bthree\b)", r"(?i:\bssn\b)"])
    assert pf.match("call 555-0199") == pf.match("three times") == frozenset({0})
    assert pf.match("ssn") == frozenset({1})
    for text, digit in (("no digits here", False), ("one 7", True)):
        hits: set[int] = set()
        pf._db.scan(prefilter.one_byte_per_char(text), match_event_handler=hyperscan_prefilter._collect, context=hits)
        assert (hyperscan_prefilter._DIGIT in hits) is digit
    near: set[int] = set()
    pf._near.scan(b"555-0199", match_event_handler=hyperscan_prefilter._collect, context=near)
    assert near == {0}


def test_a_context_word_is_scanned_for_only_where_a_pattern_that_needs_it_fired() -> None:
    """Context words are wanted only with a pattern that requires one: scanned for then, never over prose alone.
    A word also given as a pattern of its own is scanned for always."""
    pytest.importorskip("hyperscan")
    number, context, plain = r"[0-9]{3}-[0-9]{4}", r"(?i:\bphone\b)", r"(?i:\bssn\b)"
    pf = hyperscan_prefilter.HyperscanPrefilter([number, context, plain], later=[(1, (0,))])
    assert pf.match("my phone") == frozenset()
    assert pf.match("my phone is 555-0199") == frozenset({0, 1})
    assert pf.match("555-0199") == frozenset({0})
    assert pf.match("ssn and phone") == frozenset({2})
    hits: set[int] = set()
    pf._db.scan(b"my phone", match_event_handler=hyperscan_prefilter._collect, context=hits)
    assert hits == set()  # not in the pass over every text
    shared = hyperscan_prefilter.HyperscanPrefilter([number, context, context], later=[(1, (0,))])  # index 2: always wanted
    assert shared.match("my phone") == frozenset({1})
    # A trigger Hyperscan cannot compile always runs, so the word it wants is scanned for on every text.
    odd = hyperscan_prefilter.HyperscanPrefilter([r"(?(1)a|b)[0-9]{4}", context], later=[(1, (0,))])  # a conditional group
    assert odd.ids[0] == -1 and odd.match("my phone") == frozenset({1})


def test_the_engine_defers_only_context_words() -> None:
    """Every expression the engine defers is a context word of a pattern that requires one, triggered by its
    patterns' gates; a text with a context word but no pattern shape takes the quick path (nothing active)."""
    pytest.importorskip("hyperscan")
    from deepsentinel.detection import DetectionEngine

    engine = DetectionEngine(cache_size=0)
    pf = engine._prefilter
    assert isinstance(pf, hyperscan_prefilter.HyperscanPrefilter) and pf._later is not None
    contexts = {s.context_gate for s in engine._steps if s.pattern.requires_context}
    gates = {s.gate for s in engine._steps}
    assert pf._triggers <= gates
    assert pf.match("please update the account holder and the insurance plan") == frozenset()
    assert contexts - gates  # context words exist that are no pattern's gate


def test_an_expression_given_twice_is_compiled_once() -> None:
    """Two patterns with the same prefilter expression share one id (the context words of sister recognizers)."""
    pytest.importorskip("hyperscan")
    pf = hyperscan_prefilter.HyperscanPrefilter([r"[0-9]{3}-[0-9]{2}-[0-9]{4}", r"(?i:\bssn\b)", r"[0-9]{3}-[0-9]{2}-[0-9]{4}"])
    assert pf.ids == [0, 1, 0]
    assert pf.match("SSN 536-22-1234") == frozenset({0, 1})


@pytest.mark.parametrize(("expression", "least", "inside", "outside"), [
    (r"[A-Za-z0-9+/_\-]{16,}", 16, "aZ09+/_-", " .:"),
    (r"(?i:[CFG][CFG0-9]{8})", 9, "CFGcfg0", "Aa "),  # both cases where the expression ignores case
    (r"(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}", 15, "09afAF:", "gG-"),
    (r"\bsk-(?:proj-)?[A-Za-z0-9]{20}", 23, "skproj-", "_ "),  # an anchor consumes nothing; an optional part 0
    (r"ab|c", 1, "abc", "d"),
    (r"[A-Z]{4}[^ ]{4}", None, "", ""),  # a negated class: any character
    (r"[A-Z]+\w", None, "", ""),
    (r"[A-Z](?=[0-9])", None, "", ""),
])
def test_run_facts_reads_every_match(expression: str, least: int | None, inside: str, outside: str) -> None:
    from deepsentinel.detection.regex_facts import run_facts

    found = run_facts(expression)
    if least is None:
        assert found is None
        return
    assert found is not None and found[1] == least
    assert {ord(c) for c in inside} <= found[0] and not {ord(c) for c in outside} & found[0]


def test_long_runs_leave_the_pass_over_every_text() -> None:
    """Expressions whose every match is a long run (keys, tokens, hex addresses) are scanned only over a text the
    pass over every text saw such a run in: prose does not pay for them."""
    pytest.importorskip("hyperscan")
    from deepsentinel.detection import DetectionEngine

    pf = DetectionEngine(cache_size=0)._prefilter
    assert isinstance(pf, hyperscan_prefilter.HyperscanPrefilter) and pf._runs is not None

    def first_pass(text: str) -> set[int]:
        hits: set[int] = set()
        pf._db.scan(prefilter.one_byte_per_char(text), match_event_handler=hyperscan_prefilter._collect_catalog,
                    context=hits)
        return hits

    assert hyperscan_prefilter._RUN not in first_pass("Plain words of prose, even remarkably long ones.")
    assert hyperscan_prefilter._RUN in first_pass("token ghp_" + "aB3" * 12)


_RUN_PIECES = ["ghp_" + "aB3dE" * 7 + "f", "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", "AKIAZ7QRSTUVWX2345AB",
               "RSSMRA85T10A562S", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "00:1A:2B:3C:4D:5E", "0123.4567.89ab",
               "https://hooks.slack.com/services/T0ABCDEFG/B0ABCDEFG/" + "x" * 24, "extraordinarily", "well-to-do",
               "a" * 13, "b" * 14, "/usr/local/bin/python3", "key=", "=", ":", ".", "-", " ", "\n", "word", "é"]


@pytest.mark.skipif(not prefilter.hyperscan_available(), reason="needs the hyperscan wheel")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_RUN_PIECES), max_size=12), st.sampled_from(["", " ", "_", "/"]))
def test_the_runs_database_finds_what_every_pattern_run_finds(pieces: list[str], glue: str) -> None:
    """Tokens and prose glued any way (runs that just reach or miss the gate's length, runs cut by a non-ASCII
    character): the same findings as an engine that runs every pattern with no prefilter at all."""
    from deepsentinel.detection import DetectionEngine

    text = glue.join(pieces)
    fast, slow = _ENGINES.setdefault("hyperscan", DetectionEngine(cache_size=0)), _ENGINES.setdefault(
        "none", DetectionEngine(cache_size=0, prefilter="none"))
    assert fast.scan(text).findings == slow.scan(text).findings


_ENGINES: dict[str, Any] = {}


def test_a_long_run_expression_hyperscan_refuses_keeps_its_context_words() -> None:
    """A moved expression Hyperscan cannot compile always runs, and the context words it needs are still scanned
    (they were once left out, and its finding with them)."""
    pytest.importorskip("hyperscan")
    from deepsentinel.detection import DetectionEngine
    from deepsentinel.detection.findings import Category, Severity
    from deepsentinel.detection.recognizer import Pattern, PatternRecognizer

    rec = PatternRecognizer("ACME_KEY", Category.CUSTOM, Severity.HIGH,
                            (Pattern("acme", r"(?a)[A-Za-z0-9]{20}", 0.9, requires_context=True),),
                            context=("acme key",))
    engine = DetectionEngine([rec], cache_size=0, prefilter="hyperscan")
    assert engine.scan("acme key: Ab3dEf6hIj9kLm2nOp5q").types() == ["ACME_KEY"]


def test_a_gate_hyperscan_refuses_scans_the_runs_everywhere() -> None:
    """A run too long for one Hyperscan expression: the gate does not compile, so the runs' database is scanned
    over every text rather than never."""
    pytest.importorskip("hyperscan")
    pf = hyperscan_prefilter.HyperscanPrefilter([r"(?:[a-z]{200}){200}", "[0-9]{3}"])
    assert 0 in pf.match("x " + "a" * 40000 + " y")


def _digit_expressions(count: int) -> list[str]:
    """The first ``count`` expressions of the catalog's digits' database: enough (32 or more) for it to be compiled
    on a thread, and about a second to compile at 45."""
    from deepsentinel.detection import DetectionEngine

    catalog = DetectionEngine(cache_size=0)._prefilter
    assert isinstance(catalog, hyperscan_prefilter.HyperscanPrefilter) and catalog.wait(120)
    return [e for _, e in catalog._near_group[:count]]


def test_a_first_start_compiles_the_digits_database_on_a_thread(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With nothing in the cache directory, a large digits' database is compiled on a thread: the prefilter is
    usable at once, counting each of its expressions as fired on a text with a digit (a superset: the engine runs
    those patterns, same findings), and exact once compiled; the next start loads it, with nothing to wait for."""
    pytest.importorskip("hyperscan")
    expressions = _digit_expressions(45)  # about a second to compile: still compiling below
    monkeypatch.setenv("DEEPSENTINEL_CACHE_DIR", str(tmp_path))
    pf = hyperscan_prefilter.HyperscanPrefilter(expressions)
    assert not pf.wait(0) and pf._near is None and len(pf._near_ids) >= 32
    texts = ["SSN 536-22-1234", "card 4111 1111 1111 1111", "call +1 415 555 2671", "no digits here", "1 2 3 " * 60]
    meantime = {text: pf.match(text) for text in texts}
    assert pf.wait(60) and pf._near is not None and pf._near_unfiltered == frozenset()
    for text in texts:
        exact = pf.match(text)
        has_digit = any(c.isdigit() for c in text)
        assert meantime[text] == (exact | pf._near_ids if has_digit else exact), text
    assert pf.match("SSN 536-22-1234") != pf._near_ids  # compiled, it filters again
    assert hyperscan_prefilter.HyperscanPrefilter(expressions).wait(0)  # stored: the next start loads it


def test_a_child_forked_during_the_compile_takes_its_parents_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A fork inherits no thread: the child looks for its parent's compile in the cache directory instead of
    compiling again (four workers of a server forked at start used to cost four more compiles of CPU)."""
    pytest.importorskip("hyperscan")
    import os
    import resource

    expressions = _digit_expressions(45)
    monkeypatch.setenv("DEEPSENTINEL_CACHE_DIR", str(tmp_path))
    pf = hyperscan_prefilter.HyperscanPrefilter(expressions)
    assert not pf.wait(0)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report whether it got the database, and the CPU its threads spent
        try:
            ready = pf.wait(60) and pf.match("SSN 536-22-1234") != pf._near_ids
            cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime
            os.write(write, f"{ready} {cpu}".encode())
        finally:
            os._exit(0)
    os.close(write)
    assert pf.wait(60)
    _, status = os.waitpid(pid, 0)
    ready, cpu = os.read(read, 100).decode().split()
    os.close(read)
    assert status == 0 and ready == "True"
    assert float(cpu) < 0.3, f"the child spent {cpu} s of CPU: it compiled the database itself"


def test_only_a_process_that_can_store_the_compile_waits_for_it_at_exit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The compile thread keeps a process alive at exit only to store its database for the next start: with a
    cache directory that cannot be written (or none), it is a daemon, and the process exits at once."""
    pytest.importorskip("hyperscan")
    expressions = _digit_expressions(40)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    for folder, storable in ((str(tmp_path / "cache"), True), (str(blocker / "cache"), False), ("", False)):
        monkeypatch.setenv("DEEPSENTINEL_CACHE_DIR", folder)
        pf = hyperscan_prefilter.HyperscanPrefilter(expressions)
        assert pf._near_build is not None and pf._near_build.daemon is not storable, folder
        assert pf.wait(60)


def test_a_child_forked_while_a_thread_held_the_scan_lock_can_scan() -> None:
    """A fork copies a held lock held: the child (whose only thread is the one that forked) gets a fresh one, so
    its first scan does not wait forever for a thread it does not have."""
    pytest.importorskip("hyperscan")
    import os
    import signal
    import threading

    pf = hyperscan_prefilter.HyperscanPrefilter([r"[0-9]{3}-[0-9]{4}", r"(?i:\bssn\b)"])
    held, release = threading.Event(), threading.Event()

    def scanning() -> None:  # stands for a thread in the middle of a scan when another forks
        with pf._lock:
            held.set()
            release.wait(10)

    thread = threading.Thread(target=scanning)
    thread.start()
    try:
        assert held.wait(10)
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGALRM, signal.SIG_DFL)  # not pytest-timeout's handler: the child just dies
            signal.alarm(5)  # a deadlocked child dies of SIGALRM instead of hanging the suite
            os._exit(0 if pf.match("ssn 555-0199") == frozenset({0, 1}) else 1)
    finally:
        release.set()
        thread.join()
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"child status {status}"
