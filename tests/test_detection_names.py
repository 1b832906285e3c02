"""PERSON: the built-in statistical detector (on by default), its stream boundary, and the optional backends."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import pytest

from deepsentinel.detection import DetectionEngine, default_engine, ner
from deepsentinel.detection.names import (
    ABBREVIATED_TITLES,
    TITLES,
    StatisticalNameDetector,
    _title_before,
    known_names,
)

ENGINE = DetectionEngine(names=None)

FOUND = [
    ("Dear John Smith, your order shipped.", "John Smith"),
    ("Hi Maria, thanks for writing.", "Maria"),
    ("Patient: Gonzalez, Maria", "Gonzalez"),
    ("Dr. Okafor will see you at 3.", "Okafor"),
    ("Best regards,\nJennifer Lopez", "Jennifer Lopez"),
    ("Please call Robert Miller tomorrow.", "Robert Miller"),
    ("Mrs. Jane A. Doe signed the form.", "Jane A. Doe"),
]


@pytest.mark.parametrize(("text", "name"), FOUND, ids=[n for _, n in FOUND])
def test_person_is_found_by_default(text: str, name: str) -> None:
    """Names are found by the default engine, with nothing to download."""
    spans = [text[f.start:f.end] for f in default_engine().scan(text).findings if f.type == "PERSON"]
    assert name in spans


NOT_FOUND = ["The New York office opens in May.", "May I help you?", "Main Street Station", "Thank You",
             "Bank Account Number", "Monday Morning Report", "see the README for details"]


@pytest.mark.parametrize("text", NOT_FOUND)
def test_capitalised_words_that_are_not_names(text: str) -> None:
    """Capitalised phrases without a known first name and surname, a title or a label are not names."""
    assert "PERSON" not in ENGINE.scan(text).types()


def test_name_lists_are_census_derived_and_loaded() -> None:
    """The packaged Census lists hold thousands of first names and surnames."""
    first, last = known_names()
    assert len(first) > 5000 and len(last) > 20000
    assert "MARIA" in first and "GONZALEZ" in last


@pytest.mark.parametrize(("text", "cut"), [("I met John ", 6), ("I met John Sm", 6), ("hello there ", 12),
                                           ("Dear Dr. ", 0), ("ok.\n", 4)])
def test_stable_prefix_holds_back_a_trailing_run_of_capitals(text: str, cut: int) -> None:
    """A stream releases text up to the trailing capitalised run, which later words could make a name."""
    assert StatisticalNameDetector().stable_prefix(text) == cut


def test_a_name_split_across_stream_chunks_is_held_until_complete() -> None:
    """safe_boundary never releases the first name before the surname that makes it a finding has arrived."""
    head = "Please call Robert "
    k = ENGINE.safe_boundary(head)
    assert k <= head.index("Robert")
    full = ENGINE.scan(head + "Miller today.")
    assert [f.start for f in full.findings if f.type == "PERSON"] == [head.index("Robert")]


def _stand_in(tmp_path: Path, name: str, source: str) -> None:
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text(textwrap.dedent(source))


@pytest.fixture
def stand_ins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny spaCy and GLiNER stand-in package on sys.path (no model can be downloaded here)."""
    _stand_in(tmp_path, "spacy", """
        class _Ent:
            def __init__(self, s, e):
                self.start_char, self.end_char, self.label_ = s, e, "PERSON"
        class _Doc:
            def __init__(self, text):
                i = text.find("Zed")
                self.ents = [_Ent(i, i + 3)] if i >= 0 else []
        def load(name, disable=()):
            assert name == "en_core_web_sm" and "parser" in disable
            return _Doc
    """)
    _stand_in(tmp_path, "en_core_web_sm", "")
    _stand_in(tmp_path, "gliner", """
        class GLiNER:
            @classmethod
            def from_pretrained(cls, name, local_files_only=False):
                if not local_files_only:
                    raise AssertionError("must never download")
                if name == "missing":
                    raise OSError("not in the local cache")
                return cls()
            def predict_entities(self, text, labels, threshold=0.5):
                i = text.find("Zed")
                return [{"start": i, "end": i + 3, "label": "person"}] if i >= 0 and "person" in labels else []
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    for mod in ("spacy", "en_core_web_sm", "gliner"):
        monkeypatch.delitem(sys.modules, mod, raising=False)
    monkeypatch.setattr(ner, "_LOADED", {})
    return tmp_path


@pytest.mark.parametrize("backend", ["spacy", "gliner"])
def test_optional_backends_load_lazily_and_find_names(stand_ins: Path, backend: str) -> None:
    """DEEPSENTINEL_NER=spacy|gliner loads that backend on first use; its spans become PERSON findings."""
    detector = ner.load_name_detector(backend)
    assert detector is not None and not isinstance(detector, StatisticalNameDetector)
    assert [(s.start, s.end) for s in detector.find("ask Zed now")] == [(4, 7)]
    assert ner.load_name_detector(backend) is detector  # cached


def test_gliner_model_missing_from_the_cache_falls_back_to_builtin(stand_ins: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A GLiNER model that is not cached locally is never fetched: the built-in detector is used."""
    monkeypatch.setenv("DEEPSENTINEL_GLINER_MODEL", "missing")
    assert isinstance(ner.load_name_detector("gliner"), StatisticalNameDetector)


def test_off_disables_person_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    """DEEPSENTINEL_NER=off turns PERSON detection off."""
    monkeypatch.setattr(ner, "_LOADED", {})
    monkeypatch.setenv("DEEPSENTINEL_NER", "off")
    assert ner.load_name_detector() is None


# The regular expression _title_before stands for (it looks at a few characters instead of trying 40 positions).
_TITLE_RX = re.compile(rf"\b(?:{'|'.join(sorted(ABBREVIATED_TITLES))})\.?[ \t]+$|"
                       rf"\b(?:{'|'.join(sorted(TITLES - ABBREVIATED_TITLES))})[ \t]+$")
_HEADS = ["Dr. ", "Dr ", "Dr.. ", "Dr.\n", "Dr \n", "Dr. \n\n", "xDr. ", "_Mr ", "5Mr ", "(Mrs. ", "Sir. ", "Sir\t",
          "Professor  ", "Prof.\t ", "ÉDr. ", "as Lady ", "a" * 38 + "Dr ", "a" * 37 + "Dr. ", "a" * 40 + " ",
          "Mister\n ", "Miss", "Ms ", "the end. ", " ", "", "\n", "Lt. Col. ", "met Madam "]


@pytest.mark.parametrize("head", _HEADS)
def test_title_check_agrees_with_its_regex(head: str) -> None:
    """The quick title check gives the regex's answer on the 40 characters before a candidate."""
    for prefix in ("", "some words before ", "x" * 60):
        text = prefix + head + "Okafor"
        start = len(prefix + head)
        assert _title_before(text, start) == bool(_TITLE_RX.search(text[max(0, start - 40):start])), text


_TOKENS = ["Maria", "Gonzalez", "John", "Smith", "Dr.", "Dr", "Mr", "Mrs.", "Sir", "Lady", "Dear", "dear", "Hi", "hi",
           "Thank you", "Regards,", "regards", "Name:", "name -", "Patient:", "from:", "To:", "O'Brien", "McDonald",
           "Smith-Jones", "Ab-Cd-Ef", "A.", "J.", "the", "and", "Street", "May", "New", "York", "Okafor", "\n", "\t",
           ",", ".", "-", ":", "cc", "Best", "best", "Doctor", "Li", "Wei", "Jane", "Doe", "x", "Caf\u00e9",
           "\u00c9ric", "'", "Mc", "Mary-Ann", "Young", "Price", "WORD", "Prof.", "sincerely", "!", "\r\n", "Jr."]


@pytest.mark.parametrize("seed", range(4))
def test_reading_only_near_cues_finds_what_reading_every_run_finds(seed: int) -> None:
    """The native cues (name_gate.py) skip runs that cannot be names: same spans as reading every run."""
    import random

    from deepsentinel.detection.names import _ANY_TITLE

    pytest.importorskip("hyperscan")
    detector = StatisticalNameDetector()
    rng = random.Random(seed)
    found = 0
    for _ in range(3000):
        words = [rng.choice(_TOKENS) for _ in range(rng.randint(1, 40 if seed < 3 else 400))]
        text = "".join(w + rng.choice([" ", " ", "  ", "", "\n", "\t", ". ", ", "]) for w in words)
        expected = detector._read(text, 0, len(text), _ANY_TITLE.search(text) is not None)
        assert detector.find(text) == expected, text
        found += len(expected)
    assert found > 1000  # the texts do hold names


@pytest.mark.parametrize("seed", range(2))
def test_the_cues_of_the_engines_one_pass_are_name_cues(seed: int) -> None:
    """The engine finds the name cues in its prefilter's pass: the same cues, so the same names, as their own scan."""
    import random

    from deepsentinel.detection.name_gate import name_cues
    from deepsentinel.detection.prefilter import one_byte_per_char

    pytest.importorskip("hyperscan")
    engine = DetectionEngine(names=True, cache_size=0)
    rng = random.Random(seed)
    with_cues = 0
    for _ in range(2000):
        words = [rng.choice(_TOKENS + ["536-22-1234", "4111 1111 1111 1111", "ssn", "passport"])
                 for _ in range(rng.randint(1, 60))]
        text = "".join(w + rng.choice([" ", " ", "", "\n", ". ", ", "]) for w in words)
        data = one_byte_per_char(text)
        hits, cues = engine._prefilter.match_cues(text, data)
        assert cues is not None and list(cues) == list(name_cues(text, data) or ()), text
        assert hits == engine._prefilter.match(text, data), text
        with_cues += bool(cues)
    assert with_cues > 1000
