"""National identifiers without a label: checksums decide, and a weak checksum alone is not enough by default.

Cases come from Presidio's recognizer tests (benchmarks/peers/data/presidio.jsonl), which the engine missed or
flagged wrongly before.
"""

from __future__ import annotations

import pytest

from deepsentinel.detection import DetectionEngine
from deepsentinel.detection.recognizers import BARE_NUMBER_RECOGNIZERS, BUILTIN_RECOGNIZERS

ENGINE = DetectionEngine(names=None)
OPT_IN = DetectionEngine(BUILTIN_RECOGNIZERS + BARE_NUMBER_RECOGNIZERS, names=None)


def _types(engine: DetectionEngine, text: str) -> set[str]:
    return {f.type for f in engine.scan(text).findings}


@pytest.mark.parametrize(("text", "entity"), [
    ("MORGA607054SM9IJ", "UK_DRIVING_LICENCE"),  # birth month at digits 7-8, not 8-9
    ("SMITH862310AB1CD", "UK_DRIVING_LICENCE"),  # a woman's month (+50)
    ("morga607054sm9ij", "UK_DRIVING_LICENCE"),
    ("DE 136 695 976", "DE_VAT_ID"),
    ("de-136-695-976", "DE_VAT_ID"),
    ("1111111G", "ES_NIF"),  # seven digits, an older DNI
    ("12345678z", "ES_NIF"),
    ("tw987654a", "UK_NINO"),
    ("1eg4-te5-mk73", "HEALTH_PLAN_ID"),
    ("5019717010103742", "CREDIT_CARD"),  # Dankort
    ("189004119807", "SE_PERSONNUMMER"),  # born in the 1890s
    ("Refugee ID number 0001015002288 is on file.", "ZA_ID_NUMBER"),  # citizenship digit 2
    ("EC1A1BB", "UK_POSTCODE"),
    ("51824753556", "AU_ABN"),  # mod 89: strong enough alone
    ("01333550323", "IT_VAT_CODE"),
    ("C01X00T41", "DE_PASSPORT"),  # ICAO check digit
    ("960121-1234567", "KR_RRN"),  # issued since 2020: random tail, the birth date is the check
    ("His Korean FRN is 911124-5678901", "KR_FRN"),
    ("Provider identifier 1245319599", "NPI"),
    ("license U1K711J11M here", "IT_DRIVER_LICENSE"),
    ("c01234565", "DE_PASSPORT"),  # typed in lower case; the ICAO check digit holds
    # In their own printed grouping, with their check (Presidio's cases): reported alone at BARE_SCORE.
    ("130 692 544", "CA_SIN"), ("347-677-452", "CA_SIN"), ("The number is 948 584 792.", "CA_SIN"),
    ("005 499 981", "AU_ACN"),
    ("3123 4567 8909", "IN_AADHAAR"), ("3998-7654-3211", "IN_AADHAAR"),
    ("0711-0130-7", "US_BANK_ROUTING"), ("3222-7162-7", "US_BANK_ROUTING"),
])
def test_found_by_default(text: str, entity: str) -> None:
    """Each value is reported by the default engine."""
    assert entity in _types(ENGINE, text)


@pytest.mark.parametrize(("text", "entity"), [
    ("310289-211C", "FI_PERSONAL_IDENTITY_CODE"),  # 31 February
    ("1111111112", "NPI"),  # passes Luhn, one digit repeated
    ("104-86-56658", "KR_BRN"),  # wrong check digit (stdnum checks none)
    ("123-45-67890", "KR_BRN"),
    ("::ffff:256.0.0.1", "IP_ADDRESS"),
    ("2001:db8::256.1.1.1", "IP_ADDRESS"),
    ("1974567890124", "TH_TNIN"),  # province 97 does not exist
    ("The card number 4657 5732 0271 8386 was rejected as invalid.", "IN_AADHAAR"),  # first 12 of 16 digits
    ("684D:1111:222:3333:4444:5555:6:77", "IN_AADHAAR"),  # groups of an IPv6 address
])
def test_not_found(text: str, entity: str) -> None:
    """Values that fail their check, or are part of something else, are not reported as that entity."""
    assert entity not in _types(OPT_IN, text)


@pytest.mark.parametrize(("text", "entity"), [
    ("0032698674", "UK_NHS"), ("876543210", "AU_TFN"), ("130692544", "CA_SIN"), ("121000358", "US_BANK_ROUTING"),
    ("312345678909", "IN_AADHAAR"), ("1234567893", "NPI"), ("2120000142", "SE_ORGANISATIONSNUMMER"),
    ("1234567890121", "TH_TNIN"), ("9601211234567", "KR_RRN"),
])
def test_weak_checksum_alone_is_opt_in(text: str, entity: str) -> None:
    """A plain number whose only mark is a mod-10/11 check is reported only with BARE_NUMBER_RECOGNIZERS, at 0.5."""
    assert entity not in _types(ENGINE, text)
    found = [f for f in OPT_IN.scan(text).findings if f.type == entity]
    assert found and found[0].confidence == pytest.approx(0.5)


@pytest.mark.parametrize(("text", "entity"), [
    ("130 692 547", "CA_SIN"),  # fails Luhn (and the TFN and ACN checks)
    ("830 692 547", "CA_SIN"),  # passes Luhn, but 8 starts no personal SIN
    ("$130 692 544", "CA_SIN"), ("130 692 544 EUR", "CA_SIN"),  # amounts
    ("$876 543 210", "AU_TFN"),
    ("order 130 692 544", "CA_SIN"),  # a negative word
    ("613 555 0142", "CA_SIN"),  # a phone number's 3-3-4 is not 3-3-3
    ("130 692 5441", "CA_SIN"),
    ("3123 4567 8908", "IN_AADHAAR"),  # fails Verhoeff
    ("4111 3123 4567 8909", "IN_AADHAAR"),  # the last 12 digits of a longer spaced number
    ("3123:4567:8909", "IN_AADHAAR"),  # colons: an IPv6 or time fragment as often as an Aadhaar
    ("0711-0130-8", "US_BANK_ROUTING"),  # wrong check digit
    ("121000358", "US_BANK_ROUTING"),  # plain digits: a label or the opt-in recognizers
    ("c01234566", "DE_PASSPORT"),  # wrong check digit
    ("a01234565", "DE_PASSPORT"),  # A is not in the passport alphabet
])
def test_near_misses_are_not_found_by_default(text: str, entity: str) -> None:
    """Printed groupings with a wrong check, amounts, phone shapes and longer numbers stay unreported."""
    assert entity not in _types(ENGINE, text)


def test_a_label_beats_a_bare_guess() -> None:
    """Digits that pass two checks belong to the entity whose label precedes them."""
    assert _types(OPT_IN, "My BRN is 1048656659") == {"KR_BRN"}
    assert _types(OPT_IN, "NHS 0032698674") == {"UK_NHS"}


def test_bare_guesses_are_never_blocking_alone() -> None:
    """A value found by its checksum alone has a risk of at most 0.5 (the default policy blocks at 0.8)."""
    for text in ("51824753556", "C01X00T41", "960121-1234567", "876 543 210", "0032698674", "130692544"):
        assert all(f.risk <= 0.5 for f in OPT_IN.scan(text).findings), text
    for text in ("130 692 544", "005 499 981", "3123 4567 8909", "0711-0130-7", "c01234565"):
        found = ENGINE.scan(text).findings
        assert found and all(f.risk <= 0.5 for f in found), text


def test_bare_number_recognizers_are_not_in_the_catalog() -> None:
    """The weak-checksum recognizers cost nothing by default: none of them is part of the built-in catalog."""
    assert not set(map(id, BARE_NUMBER_RECOGNIZERS)) & set(map(id, BUILTIN_RECOGNIZERS))
