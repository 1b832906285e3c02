"""Where in a text a PERSON name can be: one native pass, so prose without one costs no Python step per word.

The statistical detector (:mod:`~deepsentinel.detection.names`) reads runs of capitalised words. Most runs are
a sentence's first word, and a lone word is a name only after a title (``Dr. Okafor``), a field label
(``Patient: Gonzalez``), a greeting (``Dear Maria``) or a sign-off line (``Regards,\\nMaria``). A run of two or
more words always needs a look (``Maria Gonzalez``). So the detector only has to read the runs near:

* ``MULTI``: a word ending in a lower-case letter, spaces, perhaps an initial, and a capital: every run of two
  or more words holds one (its words all end in a lower-case letter);
* ``TITLE``: a title and a space (the same expression as the detector's any-title search);
* ``LABEL``: a field label and its colon or dash, a greeting and a space, a sign-off word and its line break.

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

from deepsentinel.detection.prefilter import compile_database, hyperscan_available, one_byte_per_char

__all__ = ["LABEL", "MULTI", "TITLE", "name_cues"]

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
    return [
        (MULTI, r"[a-z][ \t]+(?:[A-Z]\.[ \t]+)?[A-Z]"),
        (TITLE, rf"(?:{'|'.join(abbreviated)})\.?[ \t]|(?:{'|'.join(titles)})[ \t]"),
        (LABEL, rf"(?i)(?:{'|'.join(labels)})[ \t]*[:\-]"),
        (LABEL, rf"(?i)(?:{'|'.join(greetings)})[ \t]"),
        (LABEL, rf"(?i)(?:{'|'.join(sign_offs)})[ \t]*[,.!]?[ \t]*\r?\n"),
    ]


def _database() -> Any:
    if not _CUES.built:
        with _CUES.lock:
            if not _CUES.built:
                if hyperscan_available():
                    from deepsentinel.detection import names

                    rows = _expressions(sorted(names.ABBREVIATED_TITLES), sorted(names.TITLES - names.ABBREVIATED_TITLES),
                                        names.FIELD_WORDS, names.GREETINGS, names.SIGN_OFFS)
                    _CUES.db = compile_database([e for _, e in rows], [k for k, _ in rows], exact=True)
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
        if any(found[i] > found[i + 1] for i in range(len(found) - 1)):
            found = array("q", sorted(found))  # Hyperscan reports by end offset, but does not promise it
    return found
