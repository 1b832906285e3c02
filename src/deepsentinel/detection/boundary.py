"""Where a growing text (a streamed answer) can be cut without ever revising a finding.

``safe_boundary(text)`` returns ``k`` such that, for any continuation ``more``, the findings of
``scan(text + more)`` that start before ``k`` are exactly those of ``scan(text)`` that start before ``k``, and
all of them end at or before ``k``. ``text[:k]`` can be released (and anonymized) now.

Why this holds: detection is local. Normalisation is per character; context words are only looked for
*before* a candidate; every pattern is bounded. So only a candidate that touches the end of ``text`` can change
when more text arrives, and we hold back from the start of any such candidate:

1. the trailing token (everything after the last whitespace: passwords in URLs may hold any punctuation),
   bounded by the longest single-token entity; past its last non-ASCII character (prose without spaces:
   Chinese, Japanese, Thai), only by the longest value that can hold one, and not at all when no ASCII letter
   in reach could begin one;
2. earlier short tokens joined to it by one or two spaces or a line break when both look like groups of a
   number (digits, or short upper-case groups as in IBANs): ``4111 1111 1111 11``, ``GB82 WEST 1234``;
3. an opened ``-----BEGIN ...`` block that has no matching ``-----END`` line yet (bounded by its max length);
4. multi-word entities that may still be incomplete: a house number and the capitalised words after it (street
   addresses), a date in words (``March 3, 19``), and the last word before a spelled-out ``at`` (``jane at
   example dot``). Since any word followed by a space may become ``jane at example dot com``, a text ending in
   a space holds back its last word;
5. custom patterns able to match whitespace: their max length; a named-entity detector: the current sentence;
6. a run of digit groups or digit words that the digit view (:mod:`~deepsentinel.detection.views`) may still
   rewrite: ``536 / 22 / 12``, ``five three six tw``.

For ordinary prose that is the last word; for a digit run with separators, the run.
"""

from __future__ import annotations

import re

from deepsentinel.detection.recognizers.fragments import MONTH
from deepsentinel.detection.views import DIGIT_RUN_TAIL, RUN_MAX

__all__ = ["trailing_boundary"]

_SPACES = frozenset(" \t\r\n\f\v")
_ASCII = "".join(map(chr, range(128)))
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_GROUP = re.compile(r"[A-Z0-9()+\-./#:]{0,12}[0-9][A-Z0-9()+\-./#:]{0,12}|[A-Z]{1,4}|[\-./]")
_GROUP_MAX = 13
_GROUP_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789()+-./#:")
_ALNUM_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_PEM_BEGIN = "-----BEGIN"
_PEM_END = re.compile(r"-----END[A-Z0-9 ]{0,40}PRIVATE KEY-----")
_PEM_HEADER = re.compile(r"-----BEGIN[A-Z0-9 ]{0,40}-----")

# Written for ``re``'s search, which tries every position: a class first (the start's look-behind after it)
# lets ``re`` skip positions by their first character, and a possessive word never gives characters back (nothing
# after a word can begin with a word character, so giving some back never helps). A 400-character window of
# prose: 91 -> 33 us, the same starts (tests/test_boundary_tails.py).
_OPEN_TAILS = (
    # A house number followed by capitalised words, ordinals or a unit: "221 Baker St", "12 W 3rd Ave, Apt 4".
    re.compile(r"[0-9](?<![0-9A-Za-z_].)[0-9]{0,5}(?:[ \t]+(?:[A-Z][A-Za-z]{0,20}\.?,?|[0-9]{1,3}(?:st|nd|rd|th)?\.?,?|"
               r"#?[0-9][0-9A-Za-z\-]{0,5}|#))*[ \t]*\Z"),
    # A date in words: "March 3, 19", "3rd of Mar", "3 March 1990" in progress.
    re.compile(rf"(?=[JFMASONDjfmasond])(?<![0-9A-Za-z_]){MONTH}\.?(?:[ \t]+[0-9]{{1,2}}(?:st|nd|rd|th)?,?)?"
               rf"(?:[ \t]+[0-9]{{0,4}})?[ \t]*\Z"),
    re.compile(r"[0-9](?<![0-9A-Za-z_].)[0-9]?(?:st|nd|rd|th)?(?:[ \t]+(?:of[ \t]+)?[A-Za-z]{0,9}\.?,?)?"
               r"(?:[ \t]+[0-9]{0,4})?[ \t]*\Z"),
    # A word, then possibly a spelled-out "at" (or "@") and a domain in progress: labels joined by "." or a
    # spelled-out "dot", ending in a label, a partial "dot" or a separator. Ordinary words after "at" ("at the
    # station at noon") end the hold, so prose is held back by one word, not by a sentence.
    re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}+"
               r"(?:(?:[ \t]{1,2}|[ \t]{0,2}[\[\(\{<][ \t]?)(?i:a)\Z|"  # an "at" still being written
               r"(?:(?:[ \t]{1,2}|[ \t]{0,2}[\[\(\{<][ \t]?)(?i:at)(?![A-Za-z])|[ \t]{0,2}@)"
               r"[ \t\]\)\}>]{0,3}[A-Za-z0-9\-]{0,63}"
               r"(?:(?:[ \t]{0,2}\.|[ \t]{1,2}[\[\(\{<]?[ \t]?(?i:dot)[ \t]?[\]\)\}>]?|[ \t]{0,2}[\[\(\{<][ \t]?(?i:dot)"
               r"[ \t]?[\]\)\}>]?)[ \t]{0,2}[A-Za-z0-9\-]{0,63}){0,9}"
               r"(?:[ \t]{1,2}[\[\(\{<]?[ \t]?(?i:do?))?)?[ \t\[\(\{<\]\)\}>]*\Z"),
)
# All four in one search: the leftmost match of an alternation is the earliest start of any of them.
_OPEN_TAIL = re.compile("|".join(f"(?:{tail.pattern})" for tail in _OPEN_TAILS))
_TAIL_WINDOW = 400
_SENTENCE_END = re.compile(r"[.!?\n][^.!?\n]*\Z")


def trailing_boundary(text: str, max_token: int, pem_max: int, *, sentence: bool = False,
                      free_form: int = 0, start: int = 0, wide: int = -1, wide_lettered: bool = False) -> int:
    """The boundary ``k`` for ``text`` (already normalised); see the module docstring for the rules.

    ``text[:start]`` is already final (an earlier boundary released it), so no open tail starts there.
    ``wide``: the longest value that may hold a non-ASCII character (-1: not known, so such characters are held
    like any other); ``wide_lettered``: each of those values is matched with an ASCII letter before it (a key
    word, a URL scheme), as in the built-in catalog but not custom patterns.
    """
    n = len(text)
    k = _token_run_start(text, max(0, n - max_token))
    if wide >= 0 and k < n:
        k = _foreign_run_start(text, k, wide, wide_lettered)
    pem = _open_pem(text, max(0, n - pem_max))
    if pem != -1:
        k = min(k, pem)
    # The tails are searched from the first position that can still matter: ``re`` tries every position up
    # to the end, so a stream guard probing 64 released characters each delta would pay for all of them.
    m = _OPEN_TAIL.search(text, max(start, n - _TAIL_WINDOW))
    if m is not None:
        k = min(k, m.start())
    run_lo = max(0, n - RUN_MAX - 8)
    m = DIGIT_RUN_TAIL.search(text, max(run_lo, start))
    if m is not None and (m.start() > run_lo or run_lo == 0):
        k = min(k, m.start())  # a run reaching back further holds more than 19 digits: never rewritten
    if sentence:
        m = _SENTENCE_END.search(text, max(0, n - _TAIL_WINDOW))
        k = min(k, m.start() + 1 if m else max(0, n - _TAIL_WINDOW))
    if free_form:
        k = min(k, max(0, n - free_form))
    return k


def _token_run_start(text: str, limit: int) -> int:
    n = i = len(text)
    # Only the ASCII whitespace the patterns' ``\s`` knows ends a token: to ``[^\s...]`` (a password, a URL's
    # credentials) a line separator or a control character is part of the value, not a break.
    while i > limit and text[i - 1] not in _SPACES:
        i -= 1
    # The last token can join earlier groups only if it starts like a group ("1111,", not "and").
    head = i
    while head < n and text[head] in _GROUP_CHARS:
        head += 1
    if i < n and (head == i or head - i > _GROUP_MAX):
        return i
    while i > limit:
        j = i
        while j > limit and i - j < 2 and text[j - 1] in _SPACES:
            j -= 1
        if j == i:
            break
        p = j
        while p > limit and text[p - 1] in _GROUP_CHARS:
            p -= 1
        if p == j:
            break
        start = max(p, j - _GROUP_MAX)
        mid_token = start > p or (p > limit and text[p - 1] not in _SPACES)
        if _GROUP.fullmatch(text, start, j) is None:
            # "#AB 12 34": the token is no group, but its alphanumeric tail may start one ("AB 12 34 56 C").  deepsentinel: allow
            q = j
            while q > start and text[q - 1] in _ALNUM_UPPER:
                q -= 1
            if start < q < j and _GROUP.fullmatch(text, q, j) is not None:
                i = q
            break
        if mid_token and j - start == 1 and text[start] in "-./":
            break  # just the full stop of a sentence
        i = start
        if mid_token:
            break  # "x,+44 20": the group starts mid-token; nothing further left can belong to it
    return i


def _foreign_run_start(text: str, i: int, wide: int, lettered: bool) -> int:
    """Rule 1 for a trailing run holding non-ASCII characters (Chinese, Japanese or Thai prose has no spaces, so
    its "token" is the whole paragraph): only a value that may hold such a character reaches back past the last
    one, and only from ``wide`` characters before the end, or not at all when no ASCII letter could begin it."""
    run = text[i:]
    if run.isascii():
        return i  # the run rule stands
    after = i + len(run.rstrip(_ASCII))  # a value that holds no non-ASCII character starts after the last one
    n = len(text)
    if lettered and _ASCII_LETTER.search(text, max(0, n - 2 * wide), after) is None:
        return after
    return max(i, min(after, n - wide))


def _open_pem(text: str, lo: int) -> int:
    """Start of the earliest private-key block in ``text[lo:]`` with no ``-----END`` line after it, or -1.

    Not just the last ``-----BEGIN``: an earlier unterminated block reaches up to the first END line that
    arrives, so it is still open too. Blocks before the last END line are closed; one pass, linear.
    """
    if text.find("-----", lo) < 0:  # neither a BEGIN nor an END line: the common case, in one C call
        return -1
    closed = lo
    for m in _PEM_END.finditer(text, lo):
        closed = m.end()
    begin = text.find(_PEM_BEGIN, closed)
    while begin != -1:
        header = _PEM_HEADER.match(text, begin)
        if header is None or "PRIVATE KEY" in header.group(0):
            return begin
        begin = text.find(_PEM_BEGIN, header.end())  # a certificate or public key: nothing to wait for
    return -1
