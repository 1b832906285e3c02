"""The detection engine: scans text for sensitive entities. Pure and I/O-free.

Contract (the SDK, the stream guard and the policy layer rely on it):

* ``scan(text) -> ScanResult``: findings with offsets into the *original* ``text``, overlaps resolved, sorted.
* ``safe_boundary(text) -> int``: an index ``k`` such that, for any continuation ``more``, the findings of
  ``scan(text + more)`` that start before ``k`` are exactly the findings of ``scan(text)`` that start before
  ``k``, and end at or before it (see :mod:`deepsentinel.detection.boundary`).

How a scan runs, and why it is fast:

1. the text is normalised (a no-op for ASCII; see :mod:`~deepsentinel.detection.normalizer`);
2. one RE2 set of every pattern (look-arounds stripped) and of the context words of context-only patterns
   tells, in a single linear pass, which patterns can match at all. A 2 KB prompt without findings costs that
   one pass;
3. only those patterns run with Python ``re`` (look-arounds restored, all quantifiers bounded), and each
   candidate goes through its validator and context check (:class:`PatternRecognizer`);
4. overlapping findings are resolved: higher risk, then longer span, then earlier start.

Without ``google-re2`` every pattern runs (same results, slower). Results are cached per text
(:class:`ScanCache`), so a conversation's history is not rescanned on every turn.
"""

from __future__ import annotations

import bisect
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from deepsentinel.detection.boundary import trailing_boundary
from deepsentinel.detection.cache import CacheInfo, ScanCache
from deepsentinel.detection.findings import Finding, ScanResult
from deepsentinel.detection.ner import NameDetector, load_name_detector
from deepsentinel.detection.normalizer import normalize
from deepsentinel.detection.pattern_matcher import PatternMatcher
from deepsentinel.detection.recognizer import Pattern, PatternRecognizer, context_regex
from deepsentinel.detection.recognizers import BUILTIN_RECOGNIZERS

try:
    import re2
except ImportError:  # pragma: no cover - google-re2 is a dependency; the fallback keeps results identical
    re2 = None

__all__ = ["DetectionEngine", "default_engine", "resolve_overlaps", "scan"]

_GUIDED_MIN = 512
_MAX_DERIVED = 32
# What in a regex may let a custom pattern span whitespace (which safe_boundary must then respect): any escape
# but \d, \w, anchors and escaped punctuation (so \s, \S, \D, \W, \x20, \t, \n...), ".", a negated class, or
# whitespace itself. Erring towards "may" only holds a stream back longer.
_SAFE_ESCAPE = re.compile(r"\\[dwbBAZ.\-+*?()\[\]{}|^$/#&~@:,'\"=<>!%_;]")
_FREE_FORM = re.compile(r"\\|\.|\[\^|\s")


def _free_form(body: str) -> bool:
    return _FREE_FORM.search(_SAFE_ESCAPE.sub("", body)) is not None


@dataclass(frozen=True)
class _Step:
    """One pattern of one recognizer, with its ids in the prefilter set (-1: not in the set, always run)."""

    recognizer: PatternRecognizer
    pattern: Pattern
    regex: re.Pattern[str]
    gate: int
    context_gate: int
    finder: Any = None  # the body compiled with RE2, to jump from candidate to candidate


class _Prefilter:
    """An RE2 set over all pattern bodies and context words: which steps can match this text at all."""

    def __init__(self, expressions: list[str]) -> None:
        self.ids: list[int] = []
        self._set = None
        if re2 is None:
            self.ids = [-1] * len(expressions)
            return
        options = re2.Options()
        options.max_mem = 64 << 20
        # The set never needs submatches; dropping them keeps the DFA small.
        options.never_capture = True
        rset = re2.Set.SearchSet(options)
        for expression in expressions:
            try:
                self.ids.append(rset.Add(expression))
            except re2.error:
                self.ids.append(-1)  # not RE2 syntax (a custom pattern with look-arounds): always run
        if any(i >= 0 for i in self.ids):
            rset.Compile()
            self._set = rset

    def match(self, text: str) -> frozenset[int]:
        if self._set is None:
            return frozenset()
        return frozenset(self._set.Match(text) or ())


class DetectionEngine:
    """Scans text with a catalog of recognizers.

    >>> engine = DetectionEngine(custom_patterns={"employee_id": r"EMP\\d{6}"})
    >>> engine.scan("badge EMP123456").types()
    ['EMPLOYEE_ID']

    ``recognizers`` defaults to the full built-in catalog; ``custom_patterns`` (name -> regex) and ``matcher``
    add custom entities. ``names`` turns on PERSON detection with spaCy: ``None`` uses it when installed.
    ``min_confidence`` drops weaker candidates. ``cache_size`` bounds the per-text result cache (0: off).
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
        self._steps, self._prefilter = self._plan()
        self._by_gate: dict[int, list[int]] = {}
        for i, step in enumerate(self._steps):
            if step.gate >= 0:
                self._by_gate.setdefault(step.gate, []).append(i)
        self._ungated = [i for i, step in enumerate(self._steps) if step.gate < 0]
        single_token = [r.max_length for r in self.recognizers if r.entity != "PRIVATE_KEY"]
        self.max_entity_length: int = max((r.max_length for r in self.recognizers), default=0)
        self._max_token = max(single_token, default=0)
        self._pem_max = max((r.max_length for r in self.recognizers if r.entity == "PRIVATE_KEY"), default=0)
        self._free_form = max((r.max_length for r in custom
                               if any(_free_form(p.body) for p in r.patterns)), default=0)

    def _plan(self) -> tuple[tuple[_Step, ...], _Prefilter]:
        expressions: list[str] = []
        context_ids: dict[int, int] = {}
        raw: list[tuple[PatternRecognizer, Pattern, re.Pattern[str], int, int]] = []
        for rec in self.recognizers:
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
        prefilter = _Prefilter(expressions)
        steps = tuple(
            _Step(rec, pattern, regex, prefilter.ids[gate], prefilter.ids[ctx] if ctx >= 0 else -2,
                  _compile_finder(pattern) if prefilter.ids[gate] >= 0 else None)
            for rec, pattern, regex, gate, ctx in raw
        )
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
                                  min_confidence=self.min_confidence,
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

    def scan(self, text: str) -> ScanResult:
        """Find every sensitive value in ``text`` (cached per text content)."""
        if self._cache is None:
            return self._scan(text)
        key = self._cache.key(text)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        result = self._scan(text)
        self._cache.put(key, result)
        return result

    def cache_info(self) -> CacheInfo:
        """Hit and miss counters of the per-text cache."""
        return self._cache.info() if self._cache else CacheInfo(0, 0, 0, 0)

    def _scan(self, text: str) -> ScanResult:
        started = time.perf_counter_ns()
        norm = normalize(text)
        t = norm.text
        active = self._prefilter.match(t)
        # RE2-guided matching pays off on longer texts; on short ones its per-call overhead dominates.
        encoded = t.encode("ascii") if active and len(t) > _GUIDED_MIN and t.isascii() else None
        found: list[Finding] = []
        labelled: dict[Finding, int] = {}  # context-only findings -> distance to their context word
        min_conf = self.min_confidence
        steps = self._steps
        by_gate = self._by_gate
        # Only the steps whose prefilter fired (plus those outside the set), in catalog order.
        chosen = sorted([i for g in active for i in by_gate.get(g, ())] + self._ungated) if active else self._ungated
        for i in chosen:
            step = steps[i]
            if step.context_gate >= 0 and step.context_gate not in active:
                continue
            rec, pattern = step.recognizer, step.pattern
            for m in _matches(step, t, encoded):
                s, e = m.span(pattern.group)
                if s >= e:
                    continue
                confidence = rec.confidence(pattern, t, s, t[s:e])
                if confidence < min_conf:
                    continue
                finding = Finding(rec.entity, rec.category, norm.original_start(s), norm.original_end(e),
                                  round(confidence, 4), rec.severity, rec.detector)
                found.append(finding)
                if pattern.requires_context:
                    labelled[finding] = rec.context_distance(t, s) or 0
        if labelled:
            found = _nearest_label_wins(found, labelled)
        detector = self._name_detector()
        if detector is not None:
            for span in detector.find(t):
                found.append(Finding(detector.entity, detector.category, norm.original_start(span.start),
                                     norm.original_end(span.end), detector.confidence, detector.severity, "ner"))
        elapsed = (time.perf_counter_ns() - started) / 1000
        return ScanResult(tuple(resolve_overlaps(found)), len(text), elapsed)

    def _name_detector(self) -> NameDetector | None:
        if not self._names_resolved:
            self._names = load_name_detector()
            self._names_resolved = True
        return self._names

    def safe_boundary(self, text: str) -> int:
        """Index up to which ``text`` is final: later text cannot change findings that start before it."""
        norm = normalize(text)
        names = self._name_detector()
        sentence = names is not None and names.needs_sentence
        partial = _PARTIAL_ESCAPE.search(norm.text)
        if partial is None:
            cut = trailing_boundary(norm.text, self._max_token, self._pem_max, sentence=sentence,
                                    free_form=self._free_form)
        else:
            # A JSON escape still arriving ("\u00") will become one character we cannot know yet: hold back as
            # far as any character it could be would make us hold.
            head = norm.text[: partial.start()]
            cut = min(
                [partial.start()]
                + [trailing_boundary(head + c, self._max_token, self._pem_max, sentence=sentence,
                                     free_form=self._free_form) for c in _ESCAPE_STANDINS]
            )
        if names is not None and not sentence:
            cut = min(cut, names.stable_prefix(norm.text))
        k = norm.original_index(cut)
        # A tail rule may start inside a finding that is itself complete ("10.0.0.24 X" looks like the start
        # of "24 March 1990"): never cut through a finding. Findings are disjoint, so one pass is enough.
        for f in self.scan(text).findings:
            if f.start < k < f.end:
                k = f.start
        return k

    def __repr__(self) -> str:
        return f"DetectionEngine({len(self.recognizers)} recognizers)"


_PARTIAL_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{0,3})?\Z")
# One character of each class the boundary rules tell apart, standing in for an escape not decoded yet.
_ESCAPE_STANDINS = "0Aa @-./#:()+_%\n\t,"


def _compile_finder(pattern: Pattern) -> Any:
    if re2 is None or pattern.gate is not None:
        return None
    options = re2.Options()
    options.never_capture = True
    try:
        return re2.compile(pattern.body, options)
    except re2.error:
        return None


def _matches(step: _Step, text: str, encoded: bytes | None) -> Iterator[re.Match[str]]:
    """``step.regex.finditer(text)``, with RE2 finding the candidates (same matches, linear time).

    Python's ``re`` cannot skip ahead when a pattern starts with a look-behind, so it tries every position.
    RE2 finds the leftmost position where the body matches; the full Python pattern is then tried there only.
    No body match starts earlier, so the first Python match at or after that position is the one ``finditer``
    would return. RE2 gets the ASCII bytes, whose offsets are the string's.
    """
    if step.finder is None or encoded is None:
        yield from step.regex.finditer(text)
        return
    pos, n = 0, len(text)
    search, match = step.finder.search, step.regex.match
    while pos <= n:
        candidate = search(encoded, pos)
        if candidate is None:
            return
        start = candidate.start()
        m = match(text, start)
        if m is None:
            # A rejected candidate (inside a longer number, say): let Python find the next match itself, so a
            # 100 KB run of digits costs one scan, not one RE2 call per position.
            m = step.regex.search(text, start + 1)
            if m is None:
                return
        yield m
        pos = m.end() if m.end() > m.start() else m.start() + 1


def _nearest_label_wins(found: list[Finding], labelled: dict[Finding, int]) -> list[Finding]:
    """Several context-only entities claiming the same value: the one whose word is nearest keeps it.

    "account ... ABA routing 128697887" is a routing number, although an account number would weigh more.
    """
    best: dict[tuple[int, int], int] = {}
    for f, distance in labelled.items():
        key = (f.start, f.end)
        best[key] = min(distance, best.get(key, distance))
    return [f for f in found if f not in labelled or labelled[f] == best[(f.start, f.end)]]


def resolve_overlaps(findings: list[Finding]) -> list[Finding]:
    """Keep the strongest of overlapping findings: higher risk, then longer span, then earlier start."""
    if len(findings) < 2:
        return list(findings)
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
