"""The native prefilters: same answers from each backend, a compiled database reused across processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepsentinel.detection import prefilter
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
    expressions = [e + "z?" for e in EXPRESSIONS]  # not built earlier in this process
    first = prefilter._Hyperscan(expressions)
    stored = list(tmp_path.glob("prefilter-*.hsdb"))
    assert len(stored) == 1
    second = prefilter._Hyperscan(expressions)
    assert second.match("SSN 536-22-1234") == first.match("SSN 536-22-1234") == frozenset({0, 1, 3, 4, 6, 7, 9, 10})
    stored[0].write_bytes(b"damaged")
    third = prefilter._Hyperscan(expressions)  # compiled again, file replaced
    assert third.match("SSN 536-22-1234") == frozenset({0, 1, 3, 4, 6, 7, 9, 10})
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
