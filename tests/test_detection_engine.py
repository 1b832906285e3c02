"""Engine contracts: custom patterns, the cache, overlaps, reprs, safe_boundary examples, family detectors."""

from __future__ import annotations

import os

import pytest

from deepsentinel.detection import (
    Category,
    DetectionEngine,
    Finding,
    PatternMatcher,
    PCIDetector,
    PHIDetector,
    PIIDetector,
    ScanCache,
    ScanResult,
    SecretDetector,
    Severity,
    default_engine,
    resolve_overlaps,
    scan,
)
from deepsentinel.detection.anonymizer import Anonymizer
from deepsentinel.errors import ConfigurationError
from deepsentinel.policy import CompliancePolicy
from deepsentinel.policy.actions import Action


def test_custom_patterns_report_upper_cased_custom_findings() -> None:
    """custom_patterns={"employee_id": ...} yields EMPLOYEE_ID findings in Category.CUSTOM."""
    engine = DetectionEngine(custom_patterns={"employee_id": r"EMP\d{6}"})
    (finding,) = engine.scan("badge EMP123456 issued").findings
    assert (finding.type, finding.category, finding.start, finding.end) == ("EMPLOYEE_ID", Category.CUSTOM, 6, 15)


def test_custom_pattern_is_a_violation_under_the_default_policy() -> None:
    """A custom finding's default risk reaches the default block threshold."""
    result = DetectionEngine(custom_patterns={"employee_id": r"EMP\d{6}"}).scan("EMP123456")
    assert CompliancePolicy().evaluate(result).action is Action.BLOCK


def test_pattern_matcher_validator_and_context() -> None:
    """Registered patterns honour their validator and required context words."""
    matcher = (PatternMatcher()
               .register("ticket", r"TK-\d{4}", validator=lambda v: v.endswith("7"))
               .register("project", r"\b[A-Z]{4}\b", context=("project",), requires_context=True,
                         severity=Severity.LOW))
    engine = DetectionEngine(matcher=matcher)
    assert engine.scan("TK-1237 and TK-1234").types() == ["TICKET"]
    assert engine.scan("project ZEUS").types() == ["PROJECT"]
    assert engine.scan("team ZEUS").types() == []


def test_pattern_matcher_rejects_bad_input() -> None:
    """Invalid regexes and context-only patterns without words are configuration errors."""
    with pytest.raises(ConfigurationError):
        PatternMatcher().register("broken", r"(unclosed")
    with pytest.raises(ConfigurationError):
        PatternMatcher().register("lonely", r"X\d", requires_context=True)


def test_custom_pattern_with_lookaround_runs_outside_the_prefilter() -> None:
    """A pattern RE2 cannot compile still works (it runs on every text)."""
    engine = DetectionEngine(custom_patterns={"code": r"(?<=code )[a-z]{3}\d"})
    assert engine.scan("the code abc1 works").types() == ["CODE"]


def test_with_custom_patterns_is_free_when_empty_and_merges_otherwise() -> None:
    """No custom patterns: the same engine; otherwise a new engine with both old and new patterns."""
    base = DetectionEngine(custom_patterns={"a_id": r"AID\d{3}"})
    assert base.with_custom_patterns({}) is base
    merged = base.with_custom_patterns({"b_id": r"BID\d{3}"})
    assert merged.scan("AID123 BID456").types() == ["A_ID", "B_ID"]
    assert base.scan("BID456").types() == []
    assert base.with_custom_patterns({"b_id": r"BID\d{3}"}) is merged  # built once per pattern set


def test_cache_skips_rescanning_the_same_text() -> None:
    """A conversation's history is scanned once: later scans of the same text are cache hits."""
    engine = DetectionEngine(cache_size=8)
    history = ["hello there", "my SSN is 536-22-1234", "thanks"]
    for turn in range(1, len(history) + 1):
        for message in history[:turn]:
            engine.scan(message)
    info = engine.cache_info()
    assert (info.misses, info.hits) == (3, 3)
    assert engine.scan(history[1]).types() == ["US_SSN"]


def test_cache_is_bounded_and_keeps_no_text() -> None:
    """The LRU evicts beyond maxsize, and its keys are keyed hashes, not text: the string hash of the text behind
    the cache's own random prefix (never the text's plain hash), or keyed BLAKE2b digests."""
    from deepsentinel.detection.cache import STRING_HASH_FITS

    assert STRING_HASH_FITS  # 64-bit SipHash, as on every platform CI runs on
    engine = DetectionEngine(cache_size=2)
    for text in ("one", "two", "three", "one"):
        engine.scan(text)
    info = engine.cache_info()
    assert info.size == 2 and info.misses == 4
    keys = list(engine._cache._data)  # type: ignore[union-attr]
    assert all(type(k) is int for k in keys) and not {hash("three"), hash("one")} & set(keys)
    assert ScanCache(4).key("one") != ScanCache(4).key("one")  # each cache keys with its own prefix
    # One hash over prefix and text together: a combination of two hashes (a tuple's, an XOR) would carry every
    # collision of ``hash(text)`` over, and under a known seed those can be searched for offline.
    cache = ScanCache(4)
    for text in ("one", "536-22-1234 and more", "ünïcödé 🙂", ""):
        assert cache.key(text) == hash(cache._prefix + text)  # type: ignore[operator]
    digests = ScanCache(4, string_hash=False)
    assert isinstance(digests.key("one"), bytes) and len(digests.key("one")) == 16
    assert digests.key("one") != ScanCache(4, string_hash=False).key("one")


def test_cache_keys_stay_secret_under_a_fixed_hash_seed() -> None:
    """Under a fixed PYTHONHASHSEED anyone who knows the seed knows every string's hash, and could search offline
    for two texts that share one. The cache's keys are not those: two processes under the same seed give one text
    the same string hash but different cache keys. A str subclass (which may define ``__hash__``) gets a digest."""
    import subprocess
    import sys

    code = ("from deepsentinel.detection.cache import ScanCache; "
            "print(hash('536-22-1234'), ScanCache().key('536-22-1234'))")
    runs = [subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": "123"},
                           capture_output=True, text=True, check=True, timeout=60).stdout.split() for _ in range(2)]
    assert runs[0][0] == runs[1][0]  # the seed fixes the string hash
    assert runs[0][1] != runs[1][1]  # not the cache's keys

    class Constant(str):
        def __hash__(self) -> int:
            return 0

    assert isinstance(ScanCache().key(Constant("536-22-1234")), bytes)


def test_a_cached_result_is_used_only_for_a_text_of_its_length() -> None:
    """Two texts sharing a key (forced here) never share a result unless their lengths match too."""
    engine = DetectionEngine(cache_size=8)
    cache = engine._cache
    assert cache is not None
    ssn = engine.scan("my SSN is 536-22-1234", cached=False)
    cache.put(cache.key("nothing here"), ssn)
    assert engine.scan("nothing here").findings == ()


@pytest.mark.parametrize("string_hash", [True, False], ids=["string-hash", "blake2b"])
def test_a_cache_partition_hits_only_what_it_stored(string_hash: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Scans under ``cache_partition(name)`` key each text with that partition's own prefix: one partition's
    entries are misses for another and for the shared one, and hits for itself; both key forms. A cache that has
    met too many partitions forgets the prefix drawn first, so that partition's old entries only miss."""
    from deepsentinel.detection import cache as cache_module
    from deepsentinel.detection.cache import cache_partition

    cache = ScanCache(8, string_hash=string_hash)
    shared = cache.key("536-22-1234")
    with cache_partition("alice"):
        alice = cache.key("536-22-1234")
        assert cache.key("536-22-1234") == alice
        with cache_partition("bob"):
            bob = cache.key("536-22-1234")
        assert cache.key("536-22-1234") == alice  # the block restores the partition around it
    assert len({shared, alice, bob}) == 3 and cache.key("536-22-1234") == shared
    if string_hash:
        assert alice == hash(cache._partitions["alice"] + "536-22-1234")
    engine = DetectionEngine(cache_size=8)
    for partition, hits in (("alice", 0), ("bob", 0), ("alice", 1), (None, 0)):
        before = engine.cache_info().hits
        with cache_partition(partition):
            assert engine.scan("my SSN is 536-22-1234").types() == ["US_SSN"]
        assert engine.cache_info().hits - before == hits
    monkeypatch.setattr(cache_module, "_MAX_PARTITIONS", 2)
    with cache_partition("carol"):
        carol = cache.key("x")  # a third partition: the first one's prefix is forgotten, the second's kept
    with cache_partition("bob"):
        assert cache.key("536-22-1234") == bob
    with cache_partition("alice"):
        assert cache.key("536-22-1234") != alice  # drawn again (and bob's, the oldest now, forgotten)
    with cache_partition("carol"):
        assert cache.key("x") == carol


def test_cache_keeps_the_most_recently_used_and_evicts_the_oldest() -> None:
    """A hit moves a text to the back: the text not used for longest is the one evicted."""
    engine = DetectionEngine(cache_size=2)
    engine.scan("first"), engine.scan("second"), engine.scan("first")  # "first" is now the most recent
    engine.scan("third")  # evicts "second"
    engine.scan("first")
    assert engine.cache_info().hits == 2
    engine.scan("second")
    assert engine.cache_info().misses == 4


def test_cache_shared_by_threads_gives_each_text_its_own_result() -> None:
    """Lookups and stores take no lock: threads hammering a small cache still get each text's own findings, and it
    stays within a few entries of its bound."""
    import threading

    from tests.switching import run_switching_often

    engine = DetectionEngine(cache_size=8)
    texts = [f"note {i}: SSN 536-22-{1000 + i}" if i % 3 == 0 else f"note {i}: nothing here" for i in range(40)]
    expected = {t: engine.scan(t, cached=False).findings for t in texts}
    wrong: list[str] = []
    sizes: list[int] = []

    def hammer(seed: int) -> None:
        for n in range(400):
            text = texts[(seed * 7 + n * 13) % len(texts)]
            if engine.scan(text).findings != expected[text]:
                wrong.append(text)
            sizes.append(engine.cache_info().size)

    threads = [threading.Thread(target=hammer, args=(seed,)) for seed in range(6)]
    run_switching_often(threads)  # they switch inside the cache's steps
    assert wrong == []
    assert max(sizes) <= 8 + len(threads)
    assert engine.cache_info().size <= 8 + len(threads)


def test_findings_never_show_the_value() -> None:
    """Reprs of findings and results name the type and position only."""
    text = "SSN 536-22-1234 card 4111 1111 1111 1111"
    result = scan(text)
    assert "536-22-1234" not in repr(result) and "4111" not in repr(result)
    assert result.types() == ["US_SSN", "CREDIT_CARD"]


def test_resolve_overlaps_keeps_the_strongest() -> None:
    """Overlapping findings: higher risk wins, then the longer span; disjoint ones all stay, sorted."""
    weak = Finding("PHONE_NUMBER", Category.PII, 0, 10, 0.8, Severity.LOW)
    strong = Finding("CREDIT_CARD", Category.PCI, 2, 18, 0.9, Severity.CRITICAL)
    apart = Finding("EMAIL_ADDRESS", Category.PII, 20, 30, 0.9, Severity.LOW)
    assert resolve_overlaps([apart, weak, strong]) == [strong, apart]


def test_default_engine_is_shared_and_module_scan_uses_it() -> None:
    """default_engine() is built once; scan() is its scan."""
    assert default_engine() is default_engine()
    assert isinstance(scan("nothing here"), ScanResult)


def test_family_detectors_only_report_their_family() -> None:
    """PIIDetector, PHIDetector, PCIDetector and SecretDetector are engines over part of the catalog."""
    text = "SSN 536-22-1234, card 4111 1111 1111 1111, MRN: 12345678, key " + "AKIA" + "Q3VZ7RTMWK2LPX4N"
    assert PIIDetector().scan(text).types() == ["US_SSN"]
    assert PCIDetector().scan(text).types() == ["CREDIT_CARD"]
    assert PHIDetector().scan(text).types() == ["MEDICAL_RECORD_NUMBER"]
    assert SecretDetector().scan(text).types() == ["AWS_ACCESS_KEY"]


def test_person_names_are_optional() -> None:
    """Without spaCy installed the engine works and does not claim PERSON."""
    pytest.importorskip("re2")
    engine = DetectionEngine(names=None)
    if "PERSON" not in engine.entities:
        assert engine.scan("Alice Smith called").findings == ()


@pytest.mark.parametrize("backend", ["re2", "hyperscan"])
def test_results_are_the_same_with_every_prefilter(backend: str) -> None:
    """A prefilter only skips work: each backend gives the findings of running every pattern."""
    if backend == "hyperscan":
        pytest.importorskip("hyperscan")
    engine = DetectionEngine(cache_size=0, prefilter=backend)  # type: ignore[arg-type]
    unfiltered = DetectionEngine(cache_size=0, prefilter="none")
    assert engine._prefilter.backend == backend
    text = ("mail jane@example.com, SSN 536-22-1234, IBAN GB82 WEST 1234 5698 7654 32, routing 021000021, "
            "ip 10.1.2.3, password: Hunter2xyz!, 4111\n1111\n1111\n1111, caf\u00e9 p\u00e4ss: G\u00fcnter99x "
            "key " + "AKIA" + "Z7QK3MNB5XJP2R4T " * 3)  # not the documented example key (a placeholder now)
    assert engine.scan(text) == unfiltered.scan(text)
    assert len(engine.scan(text).findings) >= 8


def test_an_unknown_prefilter_is_a_clear_error() -> None:
    """A misspelt backend name fails when the engine is built, naming the choices."""
    with pytest.raises(ValueError, match="hyperscan, re2 or none"):
        DetectionEngine(prefilter="fast")  # type: ignore[arg-type]


# --- safe_boundary examples (the property test in test_detection_properties.py checks the contract) --------

ENGINE = DetectionEngine(cache_size=0)


@pytest.mark.parametrize(("text", "held"), [
    ("The weather is lovely tod", "tod"),  # prose: only the last, incomplete word
    ("The weather is lovely today.\n", ""),
    ("my card is 4111 1111 11", "4111 1111 11"),  # digit run with separators
    ("call +1 (415) 555", "+1 (415) 555"),
    ("key: -----BEGIN RSA PRIVATE KEY-----\nMIIEow", "-----BEGIN RSA PRIVATE KEY-----\nMIIEow"),
    ("wire to GB82 WEST 1234", "GB82 WEST 1234"),
])
def test_safe_boundary_holds_back_as_little_as_possible(text: str, held: str) -> None:
    """Only what could still become (part of) a finding is held back."""
    k = ENGINE.safe_boundary(text)
    assert text[k:] == held


def test_safe_boundary_releases_a_closed_pem_block() -> None:
    """Once the END line arrived, the key block is final."""
    text = "-----BEGIN " + "PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\nthat was the key"
    assert text[ENGINE.safe_boundary(text):] == "key"


@pytest.mark.parametrize("text", ["1" * 100_000, "1 " * 50_000, "1." * 50_000, "a" * 100_000, "@" * 100_000,
                                  "\u200b4" * 50_000, "x at " * 20_000, "-----BEGIN " + "PRIVATE KEY-----\n" + "A" * 50_000])
def test_hostile_input_stays_linear(text: str) -> None:
    """Long hostile runs (digits, separators, invisibles, an unterminated key) scan in milliseconds, not minutes."""
    import time

    started = time.perf_counter()
    ENGINE.scan(text)
    ENGINE.safe_boundary(text)
    assert time.perf_counter() - started < 2.0  # about 10 ms locally; the bound only catches blow-ups


def test_pure_python_fallback_without_google_re2(monkeypatch: pytest.MonkeyPatch) -> None:
    """With google-re2 missing, the engine runs every pattern with ``re`` and finds the same things."""
    import deepsentinel.detection.engine as engine_module

    text = "mail jane@example.com, SSN 536-22-1234, routing 021000021, card " + "4111 1111 1111 1111 " * 40
    expected = DetectionEngine(cache_size=0).scan(text)
    monkeypatch.setattr(engine_module, "re2", None)
    fallback = DetectionEngine(cache_size=0)
    assert all(step.body is None for step in fallback._steps)  # no RE2 finder to compile
    assert fallback.scan(text) == expected


# --- a value right after another number (issue 11: "a digit before a value hides it") ---------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("Ticket 7 536-22-1234", [("US_SSN", "536-22-1234")]),
    ("paid 2024 4111111111111111", [("CREDIT_CARD", "4111111111111111")]),
    ("536-22-1234 536-22-1234", [("US_SSN", "536-22-1234")] * 2),
    ("4111 1111 1111 1111 4111 1111 1111 1111", [("CREDIT_CARD", "4111 1111 1111 1111")] * 2),
    ("room 12\n536-22-1234", [("US_SSN", "536-22-1234")]),
    # still one number, not a number after another
    ("DE89 3704 0044 0532 0130 00", [("IBAN_CODE", "DE89 3704 0044 0532 0130 00")]),
    ("1234 4111 1111 1111 1111", []),
    ("order #4532015112830366", []),
])
def test_a_value_after_another_number_is_found(text: str, expected: list[tuple[str, str]]) -> None:
    """A number in front of a value hides it only when both read as one grouped number."""
    assert [(f.type, text[f.start:f.end]) for f in ENGINE.scan(text).findings] == expected


def test_both_of_two_equal_values_are_anonymized() -> None:
    """Anonymizing '536-22-1234 536-22-1234' replaces both SSNs."""
    text = "536-22-1234 536-22-1234"
    result = Anonymizer("redact").anonymize(text, ENGINE.scan(text).findings)
    assert result.text == "[US_SSN] [US_SSN]"


def test_long_non_ascii_text_gives_the_findings_of_running_every_pattern() -> None:
    """RE2-guided matching on a long text with accents and rejected candidates finds what plain re finds."""
    block = ("Caf\u00e9 r\u00e9sum\u00e9 1234 5678 9012 3456 order 12 536-22-1234, "
             "mail jos\u00e9@example.com, card 4111 1111 1111 1111; 9999-99-9999 x" + "na\u00efve text " * 40)
    text = block * 30
    guided = DetectionEngine(cache_size=0).scan(text)
    assert guided == DetectionEngine(cache_size=0, prefilter="none").scan(text)
    assert len(guided.findings) >= 60
