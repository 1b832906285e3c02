"""gitleaks' rule-specific false positives stay clean, and the real keys next to them are still found.

Cases from gitleaks' rule files (benchmarks/peers/data/gitleaks.jsonl); values are assembled at run time so
secret scanners stay quiet.
"""

from __future__ import annotations

import pytest

from deepsentinel.detection import DetectionEngine
from deepsentinel.detection.findings import Category

ENGINE = DetectionEngine(names=None)
_PEM = "-----BEGIN " + "PRIVATE KEY-----"
_PEM_END = "-----END " + "PRIVATE KEY-----"
_AZURE = "4~q8" + "Q~3wIHjX9DT0yCNfQmr9oxmYrDZoQVLOdNg"


def _secrets(text: str) -> list[str]:
    return [f.type for f in ENGINE.scan(text).findings if f.category is Category.SECRET]


@pytest.mark.parametrize("text", [
    f"{_PEM}\nanything\n{_PEM_END}",  # no key material
    "-----BEGIN OPENSSH " + "PRIVATE KEY----------END OPENSSH PRIVATE KEY-----",
    "SUMO_ACCESS_KEY: " + "AbCeFG" + "123",  # typed, not generated
    f'Identity=\\"USK@u2vn3,{_AZURE}~yk0,AQACAAE/WebOfTrustRC2/2\\"',  # 37 characters after "Q~", not 31-34
])
def test_rule_specific_negatives_are_clean(text: str) -> None:
    """Each negative yields no secret finding."""
    assert _secrets(text) == []


@pytest.mark.parametrize(("text", "entity"), [
    (f"{_PEM}\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDAC4AWkdwKYSd8\nKs14IReLcYgADhoXk56ZzXI=\n{_PEM_END}",
     "PRIVATE_KEY"),
    (f'secret = "{_AZURE}"', "AZURE_AD_CLIENT_SECRET"),
    ("sumo_access_key = \"" + "3Kof2VffNQ0QgYIhXUPJosVlCaQKm2hfpWE6F1fT9YGY74blQBIPsrkCcf1TwKE5" + '"', "GENERIC_SECRET"),
])
def test_real_keys_next_to_them_are_found(text: str, entity: str) -> None:
    """The same rules still find their real keys."""
    assert entity in _secrets(text)
