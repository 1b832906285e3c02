"""Where in a text a PERSON name can be: one native pass, so prose without one costs no Python step per word.

The statistical detector (:mod:`~deepsentinel.detection.names`) reads runs of capitalised words. Most runs are
a sentence's first word, and a lone word is a name only after a title (``Dr. Okafor``), a field label
(``Patient: Gonzalez``), a greeting (``Dear Maria``) or a sign-off line (``Regards,\\nMaria``). A run of two or
more words always needs a look (``Maria Gonzalez``). So the detector only has to read the runs near:

* ``MULTI``: a capital and lower-case letters, spaces, perhaps an initial, and a capital: every run of two or
  more words holds one (each of its words ends in a capital and lower-case letters);
* ``TITLE``: a title and the spaces after it (any of them fires where the detector's any-title search does);
* ``LABEL``: a field label and its colon or dash, a greeting, a sign-off word and its line break.

The last two end where the run they name starts: the detector accepts only spaces, tabs and one line break
between a title or label and the name.

A Hyperscan database of these expressions reports where each match ends. The expressions are supersets of what
the detector's checks accept (no word boundaries, which Hyperscan's byte mode would read differently for
accented letters), so a run they miss cannot be a name. Without Hyperscan, :func:`name_cues` returns None and
the detector reads every run.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Sequence
from typing import Any

from deepsentinel.detection.hyperscan_db import compile_database, hyperscan_available
from deepsentinel.detection.prefilter import by_end, one_byte_per_char

__all__ = ["LABEL", "MULTI", "TITLE", "cue_expressions", "name_cues"]

MULTI, TITLE, LABEL = 0, 1, 2


class _Cues:
    """The compiled database (built on first use) and the lock that makes its scratch space safe to share."""

    def __init__(self) -> None:
        self.db: Any = None
        self.built = False
        self.lock = threading.Lock()


_CUES = _Cues()


def _expressions(abbreviated: Sequence[str], titles: Sequence[str], labels: Sequence[str],
                 greetings: Sequence[str], sign_offs: Sequence[str]) -> list[tuple[int, str]]:
    # A cue other than MULTI ends with the whitespace the detector's checks allow between it and the run it
    # names (spaces and tabs, perhaps one line break): Hyperscan reports every end, one of them where the run
    # starts.
    return [
        (MULTI, r"[A-Z][a-z]+[ \t]+(?:[A-Z]\.[ \t]+)?[A-Z]"),
        # One expression per title: Hyperscan then finds them with its literal matcher (2x faster than one
        # alternation followed by the spaces). No word boundary before a title: _title_before takes a title
        # preceded by a letter when it starts exactly 40 characters back.
        *[(TITLE, rf"{title}\.?[ \t]+\n?") for title in abbreviated],
        *[(TITLE, rf"{title}[ \t]+\n?") for title in titles],
        # The detector's label regexes start with a word boundary too. In byte mode an accented letter reads as
        # a non-word byte, so Hyperscan finds a boundary wherever ``re`` does (and a few more): still a superset.
        (LABEL, rf"(?i)\b(?:{'|'.join(labels)})[ \t]*[:\-][ \t]*\n?"),
        (LABEL, rf"(?i)\b(?:{'|'.join(greetings)})[ \t]+\n?"),
        (LABEL, rf"(?i)\b(?:{'|'.join(sign_offs)})[ \t]*[,.!]?[ \t]*\r?\n[ \t]*\n?"),
    ]


def cue_expressions() -> list[tuple[int, str]]:
    """The cue expressions, each with its kind (``MULTI``, ``TITLE``, ``LABEL``). The engine puts them in its
    prefilter's database, so one pass over a text finds both; ``name_cues`` scans for them alone."""
    from deepsentinel.detection import names

    return _expressions(sorted(names.ABBREVIATED_TITLES), sorted(names.TITLES - names.ABBREVIATED_TITLES),
                        names.FIELD_WORDS, names.GREETINGS, names.SIGN_OFFS)


def _database() -> Any:
    if not _CUES.built:
        with _CUES.lock:
            if not _CUES.built:
                if hyperscan_available():
                    rows = cue_expressions()
                    _CUES.db = compile_database([e for _, e in rows], [k for k, _ in rows], exact=True, store=True)
                _CUES.built = True
    return _CUES.db


def _collect(id_: int, start: int, end: int, flags: int, found: array[int]) -> None:
    found.append(end << 2 | id_)


def name_cues(text: str, data: bytes | None = None) -> array[int] | None:
    """Every cue in ``text`` as ``end << 2 | kind``, by end (None: no Hyperscan here, read every run).

    (One integer per cue in an array: a 10 MB text of code has hundreds of thousands of cues.) ``data``:
    ``one_byte_per_char(text)`` when the caller has it.
    """
    db = _database()
    if db is None:
        return None
    found: array[int] = array("q")
    if text:
        with _CUES.lock:
            db.scan(one_byte_per_char(text) if data is None else data, match_event_handler=_collect, context=found)
        found = by_end(found)
    return found
