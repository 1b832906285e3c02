"""Property tests of the detection contracts: offsets map into the original text, and safe_boundary."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepsentinel.detection import DetectionEngine

ENGINE = DetectionEngine(cache_size=0)

# Values assembled at run time so secret scanners stay quiet.
ENTITIES = [
    "4111 1111 1111 1111", "4111-1111-1111-1111", "5500005555555559", "123-45-6789", "jane.doe@example.com",
    "jane at example dot com", "+44 20 7946 0958", "(415) 555-2671", "GB82 WEST 1234 5698 7654 32",
    "AKIA" + "Q3VZ7RTMWK2LPX4N", "ghp_" + "a1B2" * 9, "sk-" + "proj-" + "x9Y8" * 8, "192.168.10.24",
    "00:1A:2B:3C:4D:5E", "123 Main Street", "March 3, 1985", "03/15/1985", "AB1234563", "AB 12 34 56 C",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEow" + "A" * 60 + "\n-----END RSA PRIVATE KEY-----",
    "https://admin:" + "S3cr3t!pw" + "@db.example.com", "password: " + "Hunter2xyz!",
    "https://admin:" + "密码很长的值Zq9" + "@db.example.com", "连接串 password=" + "值很长Zq9x;",
    # printed national IDs, found alone (a later " 1" or "EUR" changes them), and a value named by a Thai label
    "130 692 544", "3123 4567 8909", "0711-0130-7", "3456789012347",
]
CONTEXT = ["SSN ", "card ", "DOB: ", "MRN ", "routing ", "account ", "passport ", "CVV ", "exp ", "NPI ", "",
           "order #", "version ", "เลขประจำตัวประชาชน: ", "Carta d'identità ", "$"]
FILLER = st.text(alphabet=st.sampled_from(list("abc XYZ 0123456789 .,-:/@\n\t()河流说明，。")), max_size=12)
UNICODE_NOISE = st.sampled_from(["", "\u200b", "\u00a0", "\uff14", "\u0430", "\u2013", "\ufeff", "é"])


@st.composite
def documents(draw: st.DrawFn) -> str:
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 5))):
        parts.append(draw(FILLER))
        parts.append(draw(st.sampled_from(CONTEXT)))
        parts.append(draw(st.sampled_from(ENTITIES)))
        parts.append(draw(UNICODE_NOISE))
    parts.append(draw(FILLER))
    return "".join(parts)


def _key(findings: tuple, limit: int) -> list[tuple[str, int, int]]:
    return [(f.type, f.start, f.end) for f in findings if f.start < limit]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.data())
def test_safe_boundary_findings_before_it_never_change(doc: str, data: st.DataObject) -> None:
    """Findings starting before safe_boundary(prefix) are final, whatever text follows."""
    cut = data.draw(st.integers(0, len(doc)))
    prefix = doc[:cut]
    k = ENGINE.safe_boundary(prefix)
    assert 0 <= k <= len(prefix)
    before = _key(ENGINE.scan(prefix).findings, k)
    after = _key(ENGINE.scan(doc).findings, k)
    assert before == after, (prefix, k)
    assert all(end <= k for _, _, end in before)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.data())
def test_safe_boundary_from_a_released_start_is_still_safe(doc: str, data: st.DataObject) -> None:
    """The stream guard's form: ``start`` is an earlier boundary (text before it was released), and the boundary
    of the longer prefix, searched from there, keeps the contract for every continuation."""
    first = data.draw(st.integers(0, len(doc)))
    start = ENGINE.safe_boundary(doc[:first])
    cut = data.draw(st.integers(first, len(doc)))
    prefix = doc[:cut]
    k = ENGINE.safe_boundary(prefix, start=start)
    assert 0 <= k <= len(prefix)
    k = max(k, start)  # the guard never takes back what it released
    before = _key(ENGINE.scan(prefix).findings, k)
    after = _key(ENGINE.scan(doc).findings, k)
    assert before == after, (prefix, start, k)
    assert all(end <= k for _, _, end in before)


NAMES = ["Maria Gonzalez", "Dr. Okafor", "Dear John Smith", "Regards,\nMaria", "Patient: Gonzalez", "mr. smith"]


@st.composite
def prose(draw: st.DrawFn) -> str:
    """Documents with names and lower-case stretches: what lets a stream's scan take its quiet path."""
    words = st.sampled_from(["the", "quick", "report", "at", "dot", "five", "and", " ", ", ", ".\n", "Then "])
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        parts += draw(st.lists(words, max_size=8))
        parts.append(draw(st.sampled_from(NAMES + ENTITIES)))
    parts += draw(st.lists(words, max_size=8))
    return " ".join(parts)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(documents(), prose()), st.data())
def test_scan_since_a_released_start_finds_what_a_whole_scan_finds_after_it(doc: str, data: st.DataObject) -> None:
    """``scan(text, since=k)`` (``text[:k]`` released by a boundary) may leave out only findings ending by ``k``."""
    first = data.draw(st.integers(0, len(doc)))
    start = ENGINE.safe_boundary(doc[:first])
    text = doc[: data.draw(st.integers(first, len(doc)))]
    since = [(f.type, f.start, f.end) for f in ENGINE.scan(text, since=start).findings if f.end > start]
    whole = [(f.type, f.start, f.end) for f in ENGINE.scan(text, cached=False).findings if f.end > start]
    assert since == whole, (text, start)


@settings(max_examples=150, deadline=None)
@given(documents())
def test_offsets_map_into_the_original_and_redaction_removes_the_value(doc: str) -> None:
    """Every finding indexes the original text; cutting [start:end] out leaves no finding of that type there."""
    result = ENGINE.scan(doc)
    for f in result.findings:
        assert 0 <= f.start < f.end <= len(doc)
    redacted = doc
    for f in result.findings:
        redacted = redacted[: f.start] + "*" * (f.end - f.start) + redacted[f.end :]
    # Same-length redaction keeps every context window where it was, so only a leftover value could match.
    spans = [(f.start, f.end) for f in result.findings]
    for g in ENGINE.scan(redacted).findings:
        assert not any(g.start < end and start < g.end for start, end in spans), g


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60), st.sampled_from(ENTITIES), st.text(max_size=60))
def test_any_unicode_around_an_entity_keeps_offsets_in_range(left: str, entity: str, right: str) -> None:
    """Arbitrary Unicode (combining marks, surrogates-free astral characters, controls) never breaks the offset map."""
    text = left + " " + entity + " " + right
    for f in ENGINE.scan(text).findings:
        assert 0 <= f.start < f.end <= len(text)
    assert 0 <= ENGINE.safe_boundary(text) <= len(text)
