"""The detection engine: scans text for sensitive entities. Pure and I/O-free.

Contract (the SDK, the stream guard and the policy layer rely on it):

* ``scan(text) -> ScanResult``: findings with offsets into the *original* ``text``, overlaps resolved, sorted.
* ``safe_boundary(text) -> int``: an index ``k`` such that, for any continuation ``more``, the findings of
  ``scan(text + more)`` that start before ``k`` are exactly the findings of ``scan(text)`` that start before
  ``k``, and end at or before it (see :mod:`deepsentinel.detection.boundary`).

How a scan runs, and why it is fast:

1. the text is normalised (a no-op for ASCII; see :mod:`~deepsentinel.detection.normalizer`);
2. one native prefilter pass over every pattern (look-arounds stripped) and the context words of context-only
   patterns tells which patterns can match at all (Hyperscan when installed, else an RE2 set; see
   :mod:`~deepsentinel.detection.prefilter`). A 2 KB prompt without findings costs that one pass;
3. only those patterns run with Python ``re`` (look-arounds restored, all quantifiers bounded), and each
   candidate goes through its validator and context check (:class:`PatternRecognizer`);
4. overlapping findings are resolved: higher risk, then longer span, then earlier start.

Without either native library every pattern runs (same results, slower). Results are cached per text
(:class:`ScanCache`), so a conversation's history is not rescanned on every turn.
"""

from __future__ import annotations

import bisect
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from operator import attrgetter
from typing import Protocol

from deepsentinel.detection.boundary import trailing_boundary
from deepsentinel.detection.cache import CacheInfo, ScanCache
from deepsentinel.detection.findings import Finding, ScanResult
from deepsentinel.detection.guided import finder as re2_finder
from deepsentinel.detection.guided import guided_matches
from deepsentinel.detection.name_gate import cue_expressions
from deepsentinel.detection.names import StatisticalNameDetector
from deepsentinel.detection.ner import NameDetector, load_name_detector
from deepsentinel.detection.normalizer import Normalized, normalize
from deepsentinel.detection.number_prefix import follows_number, lenient_regex, separate_number
from deepsentinel.detection.pattern_matcher import PatternMatcher
from deepsentinel.detection.pattern_shapes import free_form, longest, wide
from deepsentinel.detection.prefilter import Backend, Prefilter, build_prefilter, one_byte_per_char
from deepsentinel.detection.recognizer import Pattern, PatternRecognizer, context_regex
from deepsentinel.detection.recognizers import BUILTIN_RECOGNIZERS
from deepsentinel.detection.views import (
    ENCODED_TRIGGER,
    VIEW_TRIGGER,
    EncodedSegment,
    View,
    digit_views,
    encoded_segments,
)

try:
    import re2
except ImportError:  # pragma: no cover - google-re2 is a dependency; the fallback keeps results identical
    re2 = None

__all__ = ["DetectionEngine", "default_engine", "resolve_overlaps", "scan"]

_GUIDED_MIN = 512
_ENCODED_MAX = 4096
_DIGIT_GAP = re.compile(r"[0-9][ \t\n][0-9]")
_MAX_DERIVED = 32
@dataclass(frozen=True)
class _Step:
    """One pattern of one recognizer, with its ids in the prefilter set (-1: not in the set, always run)."""

    recognizer: PatternRecognizer
    pattern: Pattern
    regex: re.Pattern[str]
    gate: int
    context_gate: int
    body: str | None = None  # the body for an RE2 finder (see _finder), None: no finder
    lenient: re.Pattern[str] | None = None  # the regex allowed after a number (see number_prefix)


class _Mapping(Protocol):
    """A text to match and the way back to the original's offsets (Normalized, or a chain of them)."""

    @property
    def text(self) -> str: ...

    def original_start(self, start: int) -> int: ...

    def original_end(self, end: int) -> int: ...


class _Chain:
    """A derived text (view or decoded segment) of a normalised text: offsets map through both."""

    def __init__(self, inner: View | EncodedSegment, outer: Normalized) -> None:
        self.text = inner.text
        self._inner, self._outer = inner, outer

    def original_start(self, start: int) -> int:
        return self._outer.original_start(self._inner.original_start(start))

    def original_end(self, end: int) -> int:
        return self._outer.original_end(self._inner.original_end(end))


class DetectionEngine:
    """Scans text with a catalog of recognizers.

    >>> engine = DetectionEngine(custom_patterns={"employee_id": r"EMP\\d{6}"})
    >>> engine.scan("badge EMP123456").types()
    ['EMPLOYEE_ID']

    ``recognizers`` defaults to the full built-in catalog; ``custom_patterns`` (name -> regex) and ``matcher``
    add custom entities. ``names`` turns on PERSON detection with spaCy: ``None`` uses it when installed.
    ``min_confidence`` drops weaker candidates. ``cache_size`` bounds the per-text result cache (0: off).
    ``prefilter`` picks the native prefilter: ``auto`` (Hyperscan if installed, else RE2), ``hyperscan``, ``re2``
    or ``none`` (every pattern runs); all give the same findings.
    """

    def __init__(
        self,
        recognizers: Iterable[PatternRecognizer] | None = None,
        *,
        custom_patterns: Mapping[str, str] | None = None,
        matcher: PatternMatcher | None = None,
        names: bool | None = False,
        min_confidence: float = 0.5,
        cache_size: int = 1024,
        prefilter: Backend = "auto",
    ) -> None:
        base = tuple(BUILTIN_RECOGNIZERS if recognizers is None else recognizers)
        custom = PatternMatcher.from_mapping(custom_patterns or {}).recognizers
        if matcher is not None:
            custom += matcher.recognizers
        self.recognizers: tuple[PatternRecognizer, ...] = base + custom
        self._base = base
        self._custom = custom
        self.min_confidence = min_confidence
        self._names_wanted = names
        self._names: NameDetector | None = None
        self._names_resolved = names is False
        self._cache = ScanCache(cache_size) if cache_size > 0 else None
        self._derived: dict[frozenset[tuple[str, str]], DetectionEngine] = {}
        self._backend: Backend = prefilter
        self._steps, self._prefilter = self._plan()
        self._by_gate: dict[int, list[int]] = {}
        for i, step in enumerate(self._steps):
            if step.gate >= 0:
                self._by_gate.setdefault(step.gate, []).append(i)
        self._ungated = [i for i, step in enumerate(self._steps) if step.gate < 0]
        # Every pattern and pass waits for its prefilter: a text on which none fired can have no finding of theirs.
        self._always_gated = not self._ungated and self._view_gate >= 0 and self._encoded_gate >= 0
        single_token = [r.max_length for r in self.recognizers if r.entity != "PRIVATE_KEY"]
        self.max_entity_length: int = max((r.max_length for r in self.recognizers), default=0)
        self._max_token = max(single_token, default=0)
        self._pem_max = max((r.max_length for r in self.recognizers if r.entity == "PRIVATE_KEY"), default=0)
        self._free_form = max((r.max_length for r in custom
                               if any(free_form(p.body) for p in r.patterns)), default=0)
        # Values that may hold a non-ASCII character, for the boundary of text without spaces. Custom (Unicode)
        # patterns may start anywhere; the built-in ones start with an ASCII letter (tests/test_detection_wide.py).
        spans_wide = [r for r in self.recognizers
                      if r.entity != "PRIVATE_KEY" and (r.unicode or any(wide(p.body) for p in r.patterns))]
        self._wide = max((r.max_length for r in spans_wide), default=0)
        # A custom pattern's max_length is declared (64 unless set; a policy cannot set it), not measured: one that
        # can match longer keeps the old hold (the whole run, up to the longest token), or its start would show.
        if any(longest(p.body) > r.max_length for r in spans_wide if not any(r is b for b in BUILTIN_RECOGNIZERS)
               for p in r.patterns):
            self._wide = -1
        self._wide_lettered = all(any(r is b for b in BUILTIN_RECOGNIZERS) for r in spans_wide)

    def _plan(self) -> tuple[tuple[_Step, ...], Prefilter]:
        expressions: list[str] = []
        base_end = 0
        context_ids: dict[int, int] = {}
        raw: list[tuple[PatternRecognizer, Pattern, re.Pattern[str], int, int]] = []
        for n, rec in enumerate(self.recognizers):
            if n == len(self._base):
                base_end = len(expressions)
            for pattern, regex in zip(rec.patterns, rec.compiled, strict=True):
                expressions.append(pattern.prefilter)
                gate = len(expressions) - 1
                ctx = -2
                if pattern.requires_context:
                    if id(rec) not in context_ids:
                        expressions.append(context_regex(rec.context))
                        context_ids[id(rec)] = len(expressions) - 1
                    ctx = context_ids[id(rec)]
                raw.append((rec, pattern, regex, gate, ctx))
        if len(self.recognizers) == len(self._base):
            base_end = len(expressions)
        # The triggers of the view and decoding passes go with the catalog (custom patterns come after it).
        expressions[base_end:base_end] = [VIEW_TRIGGER, ENCODED_TRIGGER]
        base_end += 2
        view_at = base_end - 2
        raw = [(rec, pattern, regex, gate + 2 if gate >= view_at else gate, ctx + 2 if ctx >= view_at else ctx)
               for rec, pattern, regex, gate, ctx in raw]
        # A context word matters only where a pattern that requires it fired: scanned then (see prefilter.py).
        needs: dict[int, set[int]] = {}
        for _, pattern, _, gate, ctx in raw:
            if pattern.requires_context and 0 <= ctx < base_end and gate < base_end:
                needs.setdefault(ctx, set()).add(gate)
        later = tuple((ctx, tuple(sorted(gates))) for ctx, gates in needs.items())
        prefilter = build_prefilter(expressions[:base_end], expressions[base_end:], self._backend, cue_expressions(),
                                    later)
        steps = tuple(
            _Step(rec, pattern, regex, prefilter.ids[gate], prefilter.ids[ctx] if ctx >= 0 else -2,
                  pattern.body if prefilter.ids[gate] >= 0 and re2 is not None else None,
                  lenient_regex(pattern.before, pattern.regex, regex.flags))
            for rec, pattern, regex, gate, ctx in raw
        )
        self._view_gate, self._encoded_gate = prefilter.ids[view_at], prefilter.ids[view_at + 1]
        return steps, prefilter

    def with_custom_patterns(self, patterns: Mapping[str, str]) -> DetectionEngine:
        """This engine plus custom patterns (a name given twice takes the new regex); ``self`` when empty."""
        if not patterns:
            return self
        key = frozenset(patterns.items())
        derived = self._derived.get(key)
        if derived is not None:  # clients built from the same policies share one engine (and its cache)
            return derived
        matcher = PatternMatcher()
        for rec in self._custom:
            matcher.add(rec)
        for name, regex in patterns.items():
            matcher.register(name, regex)
        derived = DetectionEngine(self._base, matcher=matcher, names=self._names_wanted,
                                  min_confidence=self.min_confidence, prefilter=self._backend,
                                  cache_size=self._cache.maxsize if self._cache else 0)
        if len(self._derived) >= _MAX_DERIVED:
            self._derived.pop(next(iter(self._derived)))
        self._derived[key] = derived
        return derived

    @property
    def entities(self) -> frozenset[str]:
        """Entity types this engine can report."""
        names = {"PERSON"} if self._name_detector() is not None else set()
        return frozenset({r.entity for r in self.recognizers} | names)

    def scan(self, text: str, *, cached: bool = True, since: int = 0) -> ScanResult:
        """Find every sensitive value in ``text`` (cached per text content unless ``cached`` is False: texts
        seen once, such as a stream's probes, would only push a conversation's messages out of the cache).

        ``since``: ``text[:since]`` is final (``safe_boundary`` released it, as a stream guard's context is), so
        no finding reaches from it into the rest. Findings that end within it may then be left out, which lets
        a quiet delta skip most of the work.
        """
        if since:
            return self._scan(text, since)
        if self._cache is None or not cached:
            return self._scan(text)
        key = self._cache.key(text)
        hit = self._cache.get(key)
        if hit is not None and hit.text_length == len(text):  # the length too: a 64-bit key is all a hit rests on
            return hit
        result = self._scan(text)
        self._cache.put(key, result)
        return result

    def wait_compiled(self, timeout: float | None = None) -> bool:
        """Wait until the native prefilter is compiled; whether it is. Only a first start on a machine (nothing in
        the cache directory) compiles part of it on a thread: scans meanwhile give the same findings, slower on text
        with digits. A service may wait before it takes traffic."""
        return self._prefilter.wait(timeout)

    def cache_info(self) -> CacheInfo:
        """Hit and miss counters of the per-text cache."""
        return self._cache.info() if self._cache else CacheInfo(0, 0, 0, 0)

    def _scan(self, text: str, since: int = 0) -> ScanResult:
        started = time.perf_counter_ns()
        norm = normalize(text)
        t = norm.text
        data = one_byte_per_char(t)  # one copy for the prefilter and the RE2 finders
        active, cues = self._prefilter.match_cues(t, data)
        detector = self._name_detector()
        if not active and self._always_gated and (
                detector is None
                # The native pass found no place where a name could start (see name_gate.py).
                or (cues is not None and not cues and isinstance(detector, StatisticalNameDetector))
                or (since and not detector.may_find_from(t, norm.normalized_index(since)))):
            # No pattern, view or decoding pass can fire anywhere, and no name can be found: most texts end here.
            return ScanResult((), len(text), (time.perf_counter_ns() - started) / 1000)
        found = self._find(norm, active, data)
        # Disguises a per-character normalisation cannot undo: a second pass over a rewritten view, or over the
        # decoded text of base64 and hex tokens (see views.py). Each runs only when its prefilter fired.
        if self._view_gate < 0 or self._view_gate in active:
            for view in digit_views(t):
                starts = [norm.original_start(s) for s, _ in view.spans]
                ends = [norm.original_end(e) for _, e in view.spans]
                found += [f for f in self._find(_Chain(view, norm))
                          if _touches(starts, ends, f.start, f.end)]
        if self._encoded_gate < 0 or self._encoded_gate in active:
            for segment in encoded_segments(t, min(self._max_token, _ENCODED_MAX)):
                found += self._find(_Chain(segment, norm))
        if detector is not None:
            # The built-in detector's native pass reads the prefilter's copy of the text (one copy, not two).
            spans = detector.find(t, data, cues) if isinstance(detector, StatisticalNameDetector) else detector.find(t)
            for span in spans:
                found.append(Finding(detector.entity, detector.category, norm.original_start(span.start),
                                     norm.original_end(span.end), detector.confidence, detector.severity, "ner"))
        elapsed = (time.perf_counter_ns() - started) / 1000
        return ScanResult(tuple(resolve_overlaps(found)), len(text), elapsed)

    def _find(self, norm: _Mapping, active: frozenset[int] | None = None, data: bytes | None = None) -> list[Finding]:
        """Pattern findings in ``norm.text``, with offsets mapped back by ``norm``."""
        t = norm.text
        if active is None:
            data = one_byte_per_char(t)
            active = self._prefilter.match(t, data)
        # RE2-guided matching pays off on longer texts; on short ones its per-call overhead dominates.
        encoded = (data or one_byte_per_char(t)) if active and len(t) > _GUIDED_MIN else None
        found: list[Finding] = []
        labelled: dict[Finding, int] = {}  # context-only findings -> distance to their context word
        steps = self._steps
        by_gate = self._by_gate
        # Only the steps whose prefilter fired (plus those outside the set), in catalog order.
        chosen = sorted([i for g in active for i in by_gate.get(g, ())] + self._ungated) if active else self._ungated
        ends: set[int] = set()  # normalised ends of the values found, for the second pass below
        after_number: list[tuple[_Step, re.Match[str]]] = []
        gaps: bool | None = None  # whether a digit follows a digit and a space: searched when first needed
        for i in chosen:
            step = steps[i]
            if step.context_gate >= 0 and step.context_gate not in active:
                continue
            slack = step.recognizer.max_length + 16
            # RE2 finders are compiled on first use (most patterns never fire on a long text in a process).
            finder = re2_finder(step.body) if encoded is not None and step.body is not None else None
            for m in guided_matches(finder, step.regex, slack, t, encoded):
                self._add(step, m, norm, found, labelled, ends)
            if step.lenient is not None and (gaps if gaps is not None else (gaps := _DIGIT_GAP.search(t) is not None)):
                after_number.extend((step, m) for m in guided_matches(finder, step.lenient, slack, t, encoded)
                                    if follows_number(t, m.start()))
        # Candidates right after another number, kept when that number is a separate one (number_prefix).
        for step, m in after_number:
            if separate_number(t, m.start(), ends):
                self._add(step, m, norm, found, labelled, ends)
        if labelled:
            found = _nearest_label_wins(found, labelled)
        return found

    def _add(self, step: _Step, m: re.Match[str], norm: _Mapping, found: list[Finding],
             labelled: dict[Finding, int], ends: set[int]) -> None:
        """Validate one candidate and keep it if it passes (context-only ones also go into ``labelled``)."""
        rec, pattern, t = step.recognizer, step.pattern, norm.text
        s, e = m.span(pattern.group)
        if s >= e:
            return
        confidence = rec.confidence(pattern, t, s, t[s:e])
        if confidence < self.min_confidence:
            return
        finding = Finding(rec.entity, rec.category, norm.original_start(s), norm.original_end(e),
                          round(confidence, 4), rec.severity, rec.detector)
        found.append(finding)
        ends.add(e)
        if pattern.requires_context:
            labelled[finding] = rec.context_distance(t, s) or 0

    def _name_detector(self) -> NameDetector | None:
        if not self._names_resolved:
            self._names = load_name_detector()
            self._names_resolved = True
        return self._names

    def safe_boundary(self, text: str, start: int = 0, *, findings: Sequence[Finding] | None = None) -> int:
        """Index up to which ``text`` is final: later text cannot change findings that start before it.

        ``start`` says ``text[:start]`` is already final (released by an earlier boundary of a prefix of
        ``text``, as the stream guard's context is), which spares re-checking it for open tails. ``findings``:
        this text's scan, when the caller has it already.
        """
        norm = normalize(text)
        names = self._name_detector()
        sentence = names is not None and names.needs_sentence
        partial = _PARTIAL_ESCAPE.search(norm.text, max(0, len(norm.text) - _PARTIAL_ESCAPE_MAX))
        begin = norm.normalized_index(start) if start else 0
        if partial is None:
            cut = trailing_boundary(norm.text, self._max_token, self._pem_max, sentence=sentence,
                                    free_form=self._free_form, start=begin, wide=self._wide,
                                    wide_lettered=self._wide_lettered)
        else:
            # An escape still arriving ("\u00", "%4", "&#6") will become one character we cannot know yet: hold back as
            # far as any character it could be would make us hold.
            head = norm.text[: partial.start()]
            cut = min(
                [partial.start()]
                + [trailing_boundary(head + c, self._max_token, self._pem_max, sentence=sentence,
                                     free_form=self._free_form, start=min(begin, len(head)), wide=self._wide,
                                     wide_lettered=self._wide_lettered) for c in _ESCAPE_STANDINS]
            )
        if names is not None and not sentence:
            cut = min(cut, names.stable_prefix(norm.text, begin))
        k = norm.original_index(cut)
        # A tail rule may start inside a finding that is itself complete ("10.0.0.24 X" looks like the start
        # of "24 March 1990"): never cut through a finding. Findings are disjoint, so one pass is enough.
        for f in self.scan(text).findings if findings is None else findings:
            if f.start < k < f.end:
                k = f.start
        return k

    def __repr__(self) -> str:
        return f"DetectionEngine({len(self.recognizers)} recognizers)"


# An escape still arriving (JSON, URL or HTML): what it decodes to is not known yet.
_PARTIAL_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{0,3})?\Z|%[0-7]?\Z|&(?:#[xX]?[0-9a-fA-F]{0,6}|[A-Za-z][A-Za-z0-9]{0,31})?\Z")
_PARTIAL_ESCAPE_MAX = 33  # its longest match: "&" and a 32-character entity name
# One character of each class the boundary rules tell apart, standing in for an escape not decoded yet. Some
# letters are their own class: after a lone "a", "t" makes the spelled-out "at" of an e-mail ("bob a&#116;
# example dot org"), and the letters of the digit words continue a spelled-out number ("five three s&#105;x").
_ESCAPE_STANDINS = "0Aat @-./#:()+_%\n\t,eghinorsuvwxz"


def _touches(starts: list[int], ends: list[int], start: int, end: int) -> bool:
    """Whether [start, end) overlaps one of the sorted, disjoint spans (only the last one starting before
    ``end`` can: every earlier one ends before that one starts)."""
    i = bisect.bisect_left(starts, end) - 1
    return i >= 0 and ends[i] > start


def _nearest_label_wins(found: list[Finding], labelled: dict[Finding, int]) -> list[Finding]:
    """Several context-only entities claiming the same value: the one whose word is nearest keeps it.

    "account ... ABA routing 128697887" is a routing number, although an account number would weigh more.
    """
    best: dict[tuple[int, int], int] = {}
    for f, distance in labelled.items():
        key = (f.start, f.end)
        best[key] = min(distance, best.get(key, distance))
    return [f for f in found if f not in labelled or labelled[f] == best[(f.start, f.end)]]


_START = attrgetter("start")


def resolve_overlaps(findings: list[Finding]) -> list[Finding]:
    """Keep the strongest of overlapping findings: higher risk, then longer span, then earlier start."""
    if len(findings) < 2:
        return list(findings)
    # The common case (a list of addresses, a prompt with a few values): no two overlap, so all are kept, by start.
    by_start = sorted(findings, key=_START)
    if all(a.end <= b.start for a, b in pairwise(by_start)):
        return by_start
    ranked = sorted(findings, key=lambda f: (-f.risk, -(f.end - f.start), f.start))
    starts: list[int] = []
    kept: list[Finding] = []  # sorted by start, pairwise disjoint
    for f in ranked:
        i = bisect.bisect_left(starts, f.start)
        if i > 0 and kept[i - 1].end > f.start:
            continue
        if i < len(kept) and kept[i].start < f.end:
            continue
        starts.insert(i, f.start)
        kept.insert(i, f)
    return kept


_DEFAULT: DetectionEngine | None = None


def default_engine() -> DetectionEngine:
    """The shared engine with the built-in catalog (built once, lazily; immutable apart from its cache)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = DetectionEngine(names=None)
    return _DEFAULT


def scan(text: str) -> ScanResult:
    """Scan ``text`` with the default engine."""
    return default_engine().scan(text)
