"""Regression cases from issue 11 (detection coverage): each "Why" item in this area has a case here."""

from __future__ import annotations

import pytest

from deepsentinel.detection import DetectionEngine

ENGINE = DetectionEngine(names=None)

HARD_NEGATIVES = [
    "part no. 617-464-6083",
    "Part No. 617-464-6083 is out of stock",
    "HX-303-401-4219",
    "lot 2023-11-05 expires soon",
    "uuid 123e4567-e89b-12d3-a456-426614174000",
    "commit 3f786850e387550fdab836ed7e6dc881de23001b",
    "ISBN 978-3-16-148410-0",
    "version 10.2.3.4",
    "2024-01-05T10:22:33Z",
    "Invoice total 1,234.56",
    "3 Key Points about the release",
    "SKU 415-555-0199-B",
]


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_part_lot_and_order_numbers_are_not_personal_data(text: str) -> None:
    """Part, lot and order numbers shaped like phones, versions, timestamps, UUIDs, SHAs, ISBNs: no finding."""
    assert ENGINE.scan(text).types() == []


FOUND = [
    ("IP_ADDRESS", "my ip: ::1"),
    ("IP_ADDRESS", "gateway fe80::1 is down"),
    ("STREET_ADDRESS", "I live at 4821 Maple Ports Apt. 22"),
    ("STREET_ADDRESS", "Ship to 77 Jones Causeway"),
    ("STREET_ADDRESS", "P.O. Box 1234"),
    ("PHONE_NUMBER", "call me at 617-464-6083"),
    ("UK_NHS", "NHS number 943 476 5919"),
    ("AU_TFN", "TFN 123 456 782"),
    ("SG_NRIC_FIN", "NRIC S1234567D"),
    ("KR_RRN", "RRN 960121-1234561"),
    ("PL_PESEL", "PESEL 44051401359"),
    ("SE_PERSONNUMMER", "personnummer 811228-9874"),
    ("ES_NIE", "NIE X1234567L"),
    ("FI_PERSONAL_IDENTITY_CODE", "hetu 131052-308T"),
    ("GITHUB_TOKEN", "token " + "ghp_" + "R4nd0mT0k3nV4lu3" * 2 + "Ab12"),
    ("AWS_SECRET_KEY", "AWS secret key: " + "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "zq8Rk2vLx9"),
    ("MEDICAL_RECORD_NUMBER", "Med Rec No. 556677"),
    ("MEDICAL_RECORD_NUMBER", "EMR 00123456"),
    ("HUGGINGFACE_TOKEN", "HF_TOKEN=" + "hf_" + "kTqWvBnZpRsLmXcYdHgFjAeUoIbPuNtK" + "zQ"),
]


@pytest.mark.parametrize(("entity", "text"), FOUND, ids=[f"{e}:{t[:20]}" for e, t in FOUND])
def test_entity_found(entity: str, text: str) -> None:
    """IPv6 loopback/link-local, USPS suffixes, international IDs and vendor tokens are found."""
    assert entity in ENGINE.scan(text).types()


@pytest.mark.parametrize("text", ["AKIA" + "IOSFODNN7EXAMPLE", "ghp_" + "x" * 36, "xoxb-" + "x" * 8,
                                  "xoxb-" + "xxxxxxxxxx-xxxxxxxxxxxx"])
def test_documentation_placeholders_are_not_secrets(text: str) -> None:
    """Documentation placeholders (AWS's example key, ghp_xxxx..., xoxb-xxxx...) are not reported."""
    assert ENGINE.scan("key: " + text).types() == []
