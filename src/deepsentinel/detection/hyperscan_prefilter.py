"""The Hyperscan prefilter: one native pass over a text that tells which patterns can match it at all.

Its databases are split by what every match of an expression must hold (``regex_facts.py``), so that a text
is scanned only by the databases that can fire on it (see ``HyperscanPrefilter``). Used through
``prefilter.build_prefilter``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from array import array
from collections.abc import Sequence
from typing import Any

from deepsentinel.detection.byte_text import one_byte_per_char
from deepsentinel.detection.hyperscan_db import (
    PREFILTER_FLAGS,
    cache_writable,
    cached_expressions,
    compile_expressions,
    compiles,
    hyperscan,
)
from deepsentinel.detection.regex_facts import alternatives, digit_facts, run_facts

__all__ = ["HyperscanPrefilter", "by_end"]

log = logging.getLogger(__name__)


class HyperscanPrefilter:
    """Hyperscan block-mode databases; each expression reports at most once per scan.

    Three databases, by what every match of an expression (of each of its top-level alternatives, under the
    expression's id) holds (see ``regex_facts.py``):

    * a digit, within at most ``_REACH_MAX`` characters (most of the PII numbers): scanned only around the
      digits of a text;
    * a digit, in a match that may be longer (dates, street addresses, tokens with a digit in their prefix):
      scanned over a text that has a digit;
    * anything else: scanned over every text, with an expression for "a digit" that says whether the other
      two are scanned at all.

    Expressions whose every match is a run of at least ``_RUN_MIN`` characters, none of them a space (keys,
    tokens, hex addresses, long codes: ``regex_facts.run_facts``), leave the third for a database of their own,
    scanned over a text only when the third saw such a run (one expression: a run of the shortest one's length in
    all their characters). Classes repeated over every byte are what a pass pays for most, and prose has few
    runs that long: the pass over every text got 11-13% cheaper on an answer, 19% on 130 KB of prose (measured
    ad hoc, see docs/performance.md).

    Expressions wanted only with another (``later``: context words) are a fifth database, scanned over a text
    on which one of their triggers fired.

    Prose without numbers then pays for the first two not at all, and a short prompt with a few numbers for a
    few hundred bytes of the first. A text with digits all over (a table, a list of numbers) gets all three over
    all of it. An expression given twice is compiled once.
    """

    backend = "hyperscan"

    def __init__(self, expressions: Sequence[str], cues: Sequence[tuple[int, str]] = (),
                 later: Sequence[tuple[int, tuple[int, ...]]] = ()) -> None:
        # Byte mode, not UTF-8 mode (which takes ten times longer to compile): the text is scanned with each
        # non-ASCII character as one 0x80 byte, which, like the character under ``re.ASCII``, matches only
        # negated classes and ".", once. Patterns with Unicode classes (custom ones) are kept out (always run).
        first: dict[str, int] = {}
        for i, expression in enumerate(expressions):
            first.setdefault(expression, i)
        self.ids = [first[e] for e in expressions]
        # Expressions wanted only once another fired (a context word, once a pattern that needs one did): in a
        # database of their own, scanned then. One also given as an expression always wanted stays always.
        listed = {i for i, _ in later}
        always = {self.ids[i] for i in range(len(expressions)) if i not in listed}
        deferred = {self.ids[i] for i in listed} - always
        self._triggers = frozenset(self.ids[t] for i, triggers in later if self.ids[i] in deferred for t in triggers)
        # Each top-level alternative is placed by its own facts, under its expression's id: a number and a
        # spelled-out number (one gate) go to different databases.
        members = [(i, part) for e, i in first.items() if i not in deferred for part in alternatives(e)]
        facts = [digit_facts(part) for _, part in members]
        reach = {m: r for m, (digit, r) in zip(members, facts, strict=True) if digit and r is not None and r <= _REACH_MAX}
        near = list(reach)
        far = [m for m, (digit, _) in zip(members, facts, strict=True) if digit and m not in reach]
        rest = [m for m, (digit, _) in zip(members, facts, strict=True) if not digit]
        if near or far:
            # The pass over every text also tells whether it has a digit: one without skips the other two.
            rest.append((_DIGIT, "[0-9]"))
        runs = [(m, run) for m in rest if (run := run_facts(m[1])) is not None and run[1] >= _RUN_MIN
                and run[0] <= _PRINTABLE]
        if runs:
            # Any match of any of them is a run of at least the shortest one's length in their characters taken
            # together: the pass over every text looks for such a run, and a text without one skips them.
            kinds = frozenset().union(*(chars for _, (chars, _) in runs))
            least = min(length for _, (_, length) in runs)
            moved = {m for m, _ in runs}
            rest = [m for m in rest if m not in moved]
            run_class = "".join(f"\\x{c:02x}" for c in sorted(kinds))
            rest.append((_RUN, f"[{run_class}]{{{least}}}"))
        # The database's own scratch space is cheaper per call than a separate Scratch object; the lock makes
        # sharing it across threads safe (scans are microseconds, so contention is short). A forked child gets a
        # fresh one (``_after_fork_in_child``): a fork while another thread scanned would copy it locked.
        self._lock = threading.Lock()
        _ALL.add(self)
        # The name detector's cues (``name_gate``) ride along in the database scanned over every text: one pass
        # finds both. Every end of a cue is reported, under an id past the catalog's that is its tag's (as in
        # name_gate's own database): one end per tag, however many of the tag's expressions end there.
        self._cues = bool(cues)
        cue_group = [(_CUE_BASE + tag, e) for tag, e in cues]
        self._db, failed = _compile_group(rest, cue_group)
        # The digits' database takes most of a first compile (7 of 9 s on a 2-core machine): when the cache directory
        # does not hold it, it is compiled on a thread of its own (Hyperscan lets go of the GIL) and, until it is
        # ready, every one of its expressions counts as fired on a text with a digit. The engine then runs those
        # patterns itself: the same findings, and a client built in 3.4 s instead of 8 (benchmarks/bench_first_start.py).
        self._near_group = near
        self._near_ids = frozenset(i for i, _ in near)
        self._near_unfiltered: frozenset[int] = frozenset()  # counted as fired on every text with a digit
        self._near_build: threading.Thread | None = None
        failed_near: set[int] = set()
        if len(near) < _THREAD_MIN:
            self._near, failed_near = _compile_group(near)
        else:
            self._near = _cached_group(near)
            if self._near is None:
                self._near_unfiltered = self._near_ids
                self._start_near_build()
        self._far, failed_far = _compile_group(far)
        self._runs, failed_runs = _compile_group([m for m, _ in runs])
        self._later, failed_later = _compile_group([(i, e) for e, i in first.items() if i in deferred])
        # A trigger that did not compile always runs (its id never fires): what it wants is then scanned always.
        self._later_always = bool(self._triggers & (failed | failed_near | failed_far | failed_runs))
        # A gate that did not compile (a run too long for Hyperscan): the runs' database is scanned over every text.
        self._runs_always = _RUN in failed
        self._rest_always = self._runs_always or self._later_always  # else a text on which nothing fired ends there
        self._reach = max(reach.values(), default=0)
        failed |= failed_near | failed_far | failed_runs | failed_later
        if failed:  # not Hyperscan syntax (look-arounds in a custom pattern): always run
            self.ids = [-1 if i in failed else i for i in self.ids]

    def _start_near_build(self, parent: int | None = None) -> None:
        """Compile the digits' database on a thread. A process that can store it in the cache directory waits for
        the thread at exit (not a daemon), so a run that ends sooner still leaves it for the next start; one that
        cannot store it does not wait. ``parent``: in a forked child, its parent's pid: the child looks for the
        parent's database in the cache directory while the parent lives (N children compiling it again would cost
        N times the CPU), and its thread is a daemon (the parent stores the database)."""
        if self._near is not None:
            return
        storable = cache_writable()
        self._near_build = threading.Thread(target=self._build_near, args=(parent if storable else None,),
                                            daemon=parent is not None or not storable,
                                            name="deepsentinel-hyperscan-compile")
        self._near_build.start()

    def _build_near(self, parent: int | None) -> None:
        try:
            db, failed = None, set[int]()
            deadline = time.monotonic() + _CHILD_PATIENCE
            while parent is not None and db is None and os.getppid() == parent and time.monotonic() < deadline:
                db = _cached_group(self._near_group)
                if db is None:
                    time.sleep(0.25)
            if db is None:
                db, failed = _compile_group(self._near_group)
            with self._lock:  # scans read both under the lock: never the new database with the stand-in gone first
                self._near, self._near_unfiltered = db, frozenset(failed)
        except Exception as exc:  # noqa: BLE001 - left unfiltered: slower on text with digits, never wrong
            self._near_build = None  # given up: nothing to wait for, nor to build again in a forked child
            log.warning("compiling the digits' Hyperscan database failed (%s): those patterns run unfiltered",
                        type(exc).__name__)

    @property
    def _near_pending(self) -> bool:
        """Whether the digits' database is being compiled (set in place under the lock when it is done)."""
        return self._near is None and self._near_build is not None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every database is compiled (a first start compiles the digits' one on a thread); whether it
        is. Scans need not wait: they give the same findings before, only slower on text with digits."""
        build = self._near_build
        if build is not None:
            build.join(timeout)
        return self._near is not None or not self._near_ids

    def match(self, text: str, data: bytes | None = None) -> frozenset[int]:
        if not text:
            return _NO_HITS
        hits: set[int] = set()
        if data is None:
            data = one_byte_per_char(text)
        with self._lock:
            if self._db is not None:
                self._db.scan(data, match_event_handler=_collect_catalog if self._cues else _collect, context=hits)
            self._scan_rest(data, hits)
        return frozenset(hits) if hits else _NO_HITS

    def match_cues(self, text: str, data: bytes | None = None) -> tuple[frozenset[int], array[int] | None]:
        if not self._cues:
            return self.match(text, data), None
        if not text:
            return _NO_HITS, _NO_CUES
        if data is None:
            data = one_byte_per_char(text)
        # Most texts fire nothing: that case makes no holder object, array or frozen copy (the pass runs with the
        # CPU's caches cold, between two calls, where each object made costs several µs).
        hits: set[int] = set()
        cues: list[int] = []
        with self._lock:
            if self._db is not None:
                self._db.scan(data, match_event_handler=_collect_both, context=(hits, cues))
            self._scan_rest(data, hits)
        return (frozenset(hits) if hits else _NO_HITS), (by_end(array("q", cues)) if cues else _NO_CUES)

    def _scan_rest(self, data: bytes, hits: set[int]) -> None:
        """After the pass over every text: the runs' database when it saw a long run, the digit databases when it
        saw a digit, then the expressions wanted once one of their triggers fired."""
        if not hits and not self._rest_always:  # most texts: nothing fired, so nothing follows
            return
        if (_RUN in hits or self._runs_always) and self._runs is not None:
            hits.discard(_RUN)
            self._runs.scan(data, match_event_handler=_collect, context=hits)
        if _DIGIT in hits:
            hits.discard(_DIGIT)
            self._scan_digits(data, hits)
        if self._later is not None and (self._later_always or not self._triggers.isdisjoint(hits)):
            self._later.scan(data, match_event_handler=_collect, context=hits)

    def _scan_digits(self, data: bytes, hits: set[int]) -> None:
        """The databases whose every match holds a digit, over a text with one (the pass over every text saw
        it, and holds its expression only when one of these databases exists): around the digits, and whole."""
        windows = _digit_windows(data, self._reach)
        if self._far is not None:
            self._far.scan(data, match_event_handler=_collect, context=hits)
        hits.update(self._near_unfiltered)
        if self._near is not None:
            if windows is None:
                self._near.scan(data, match_event_handler=_collect, context=hits)
            else:
                for lo, hi in windows:
                    self._near.scan(data[lo:hi], match_event_handler=_collect, context=hits)


_REACH_MAX = 80  # longer expressions are scanned everywhere: their windows would cover most of a text anyway
_DIGIT_BYTES = b"0123456789"
_DIGIT_MASK = bytes(1 if c in _DIGIT_BYTES else 0 for c in range(256))  # digits -> 1, other bytes -> 0


def _digit_windows(data: bytes, reach: int) -> list[tuple[int, int]] | None:
    """The spans of ``data`` within ``reach`` bytes of a digit, merged (None: they would cover half of it).

    A match of at most ``reach`` bytes that holds a digit lies within one of them. A window's edge reads as
    the start or end of the text, which only lets ``\\b`` match more often: never fewer matches. (Found with
    ``bytes.find`` on a digit mask: C's memchr, where a ``re`` search for digits takes 10 ns a byte.)
    """
    windows: list[tuple[int, int]] = []
    covered, limit, n = 0, len(data) // 2, len(data)
    for base in range(0, n, _MASK_CHUNK):  # a mask per chunk: a 10 MB text gets no 10 MB copy
        mask = data[base:base + _MASK_CHUNK].translate(_DIGIT_MASK)
        pos = mask.find(1)
        while pos >= 0:
            end = mask.find(0, pos)
            end = len(mask) if end < 0 else end
            lo, hi = max(0, base + pos - reach), min(n, base + end + reach)
            if windows and lo <= windows[-1][1]:  # also joins a run cut by a chunk's end
                covered += max(0, hi - windows[-1][1])
                windows[-1] = (windows[-1][0], max(hi, windows[-1][1]))
            else:
                covered += hi - lo
                windows.append((lo, hi))
            if covered > limit:
                return None
            pos = mask.find(1, end) if end < len(mask) else -1
    return windows


_MASK_CHUNK = 1 << 16


def _compile_group(group: list[tuple[int, str]], exact: Sequence[tuple[int, str]] = ()) -> tuple[Any, set[int]]:
    """A prefilter database of ``(id, expression)`` pairs, plus ``exact`` ones whose every match end is reported
    (None when empty), and the ids of ``group`` that did not compile."""
    def compiled(members: list[tuple[int, str]]) -> Any:
        pairs = [*members, *exact]
        flags = [PREFILTER_FLAGS] * len(members) + [0] * len(exact)
        return compile_expressions([e for _, e in pairs], [i for i, _ in pairs], flags) if pairs else None

    try:
        return compiled(group), set()
    except hyperscan.error:
        # Some expression is not Hyperscan syntax: find which, one by one (compiling the whole catalog takes a
        # second or two, so only on this rare path).
        good = [(i, e) for i, e in group if compiles(e, PREFILTER_FLAGS)]
        return compiled(good), {i for i, _ in group} - {i for i, _ in good}


def _cached_group(group: list[tuple[int, str]]) -> Any | None:
    """``_compile_group(group)``'s database when the cache directory holds it, else None."""
    return cached_expressions([e for _, e in group], [i for i, _ in group], [PREFILTER_FLAGS] * len(group))


_THREAD_MIN = 32  # a group this large, not in the cache directory, is compiled on a thread (smaller ones take < 0.1 s)
_CHILD_PATIENCE = 60.0  # at most, seconds a forked child looks for its living parent's compile in the cache directory
_ALL: weakref.WeakSet[HyperscanPrefilter] = weakref.WeakSet()  # every prefilter of the process, for a forked child


def _after_fork_in_child() -> None:
    """A forked child inherits no other thread: each prefilter gets an unheld lock (one a parent's thread held at
    the fork would never be released), and a compile under way waits for its parent's database in the cache
    directory, else compiles."""
    parent = os.getppid()
    for prefilter in list(_ALL):
        prefilter._lock = threading.Lock()
        if prefilter._near_pending:
            prefilter._start_near_build(parent)


os.register_at_fork(after_in_child=_after_fork_in_child)


def _collect(id_: int, start: int, end: int, flags: int, hits: set[int]) -> None:
    """Hyperscan's match callback: note which expression fired (one function for every scan, no closure)."""
    hits.add(id_)


_CUE_BASE = 1 << 30  # ids of cue expressions in a database: past any catalog's
_DIGIT = _CUE_BASE - 1  # the id of "this text has a digit" in the database scanned over every text
_RUN = _CUE_BASE - 2  # the id, in the same, of "this text has a run the runs' database needs"
_RUN_MIN = 14  # few words of prose are this long
_PRINTABLE = frozenset(range(0x21, 0x7F))  # a run holds no space, no control character and nothing non-ASCII


def by_end(cues: array[int]) -> array[int]:
    """Cues (``end << 2 | tag``) in end order: Hyperscan reports by end offset, but does not promise it."""
    if len(cues) < 2:  # most texts: none at all
        return cues
    if any(cues[i] > cues[i + 1] for i in range(len(cues) - 1)):
        return array("q", sorted(cues))
    return cues


def _collect_catalog(id_: int, start: int, end: int, flags: int, hits: set[int]) -> None:
    """``_collect`` for a database that also holds cues: only the catalog's expressions are noted."""
    if id_ < _CUE_BASE:
        hits.add(id_)


def _collect_both(id_: int, start: int, end: int, flags: int, found: tuple[set[int], list[int]]) -> None:
    """Hyperscan's match callback for catalog hits and cues: ``found`` is (hits, cues)."""
    if id_ >= _CUE_BASE:
        found[1].append(end << 2 | (id_ - _CUE_BASE))  # a tag fits in two bits (name_gate's kinds)
    else:
        found[0].add(id_)


_NO_HITS: frozenset[int] = frozenset()
_NO_CUES: array[int] = array("q")  # shared by every text without a cue: read, never written to
