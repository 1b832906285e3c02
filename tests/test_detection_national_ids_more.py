"""German social, health and tax numbers, licences, Korean passports, Philippine TINs and PH/TR phones.

Positives carry a valid check digit or their label; negatives are the same shapes with a wrong check digit, no
label, or in the place of a part, order or reference number. Values are our own unless marked as Presidio's.
"""

from __future__ import annotations

import pytest

from deepsentinel.detection import DetectionEngine
from deepsentinel.detection.recognizers.german_ids import valid_de_kvnr, valid_de_lanr, valid_de_rvnr
from deepsentinel.detection.recognizers.licences_and_tins import valid_kr_driver_license, valid_ph_tin

ENGINE = DetectionEngine(names=None)


def _found(text: str) -> dict[str, str]:
    """Entity type -> the value it covers."""
    return {f.type: text[f.start:f.end] for f in ENGINE.scan(text).findings}


def _confidence(text: str, entity: str) -> float:
    return max((f.confidence for f in ENGINE.scan(text).findings if f.type == entity), default=0.0)


@pytest.mark.parametrize(("text", "entity", "value"), [
    ("RVNR 12010185M074 laut Ausweis", "DE_SOCIAL_SECURITY", "12010185M074"),
    ("42010175W127", "DE_SOCIAL_SECURITY", "42010175W127"),  # alone: birth date and check digit
    ("15070649C103", "DE_SOCIAL_SECURITY", "15070649C103"),  # Presidio's (the DRV's example)
    ("meine KVNR K314159263", "DE_HEALTH_INSURANCE", "K314159263"),
    ("eGK-Nummer k314159263 bitte angeben", "DE_HEALTH_INSURANCE", "k314159263"),
    ("LANR: 271828342 des Arztes", "DE_LANR", "271828342"),
    ("Amtsgericht München HRB 12345.", "DE_HANDELSREGISTER", "HRB 12345"),
    ("eingetragen im HRA 99999 Köln", "DE_HANDELSREGISTER", "HRA 99999"),
    ("Fahrerlaubnis MU12345678B wurde ausgestellt", "DE_FUEHRERSCHEIN", "MU12345678B"),
    ("Steuernummer 181/815/08155", "DE_TAX_NUMBER", "181/815/08155"),
    ("St.-Nr. 201/123/12340 bitte angeben", "DE_TAX_NUMBER", "201/123/12340"),
    ("Steuernummer: 4151081508156", "DE_TAX_NUMBER", "4151081508156"),  # 13 digits after its label
    ("PLZ: 80331 München", "DE_PLZ", "80331"),
    ("Postleitzahl 01067", "DE_PLZ", "01067"),
    ("My passport number is S204K7781", "KR_PASSPORT", "S204K7781"),
    ("여권번호는 M789C1234입니다", "KR_PASSPORT", "M789C1234"),  # Presidio's
    ("대한민국 여권 S87654321", "KR_PASSPORT", "S87654321"),  # Presidio's: the old format after a Korean word
    ("운전면허번호 21 19 654321 07", "KR_DRIVER_LICENSE", "21 19 654321 07"),
    ("21-19-654321-07", "KR_DRIVER_LICENSE", "21-19-654321-07"),  # dashed, a real region code
    ("My TIN is 123-456-782-000", "PH_TIN", "123-456-782-000"),
    ("BIR TIN: 123456782", "PH_TIN", "123456782"),
    ("driver's license H12234567", "US_DRIVER_LICENSE", "H12234567"),
    ("DL# 123456789", "US_DRIVER_LICENSE", "123456789"),
    ("call me on 0917 123 4567", "PHONE_NUMBER", "0917 123 4567"),  # Philippine mobile, national format
    ("09181234567", "PHONE_NUMBER", "09181234567"),
    ("Cep no: 0532 123 45 67", "PHONE_NUMBER", "0532 123 45 67"),  # Turkish mobile
    ("0 (216) 123 45 67", "PHONE_NUMBER", "0 (216) 123 45 67"),  # Istanbul landline
    ("532-123-45-67", "PHONE_NUMBER", "532-123-45-67"),  # Turkey's 3-3-2-2 grouping
])
def test_found(text: str, entity: str, value: str) -> None:
    assert _found(text).get(entity) == value


@pytest.mark.parametrize(("text", "entity"), [
    ("RVNR 12010185M075", "DE_SOCIAL_SECURITY"),  # wrong check digit
    ("RVNR 12013385M074", "DE_SOCIAL_SECURITY"),  # no 33rd month
    ("KVNR K314159264", "DE_HEALTH_INSURANCE"),  # wrong check digit
    ("Part no. K314159264 shipped", "DE_HEALTH_INSURANCE"),
    ("Order K314159263", "DE_HEALTH_INSURANCE"),  # valid check digit, but an order number
    ("271828342", "DE_LANR"),  # nine digits alone: the mod-10 check is all there is
    ("LANR 271828442", "DE_LANR"),  # wrong check digit
    ("The HRA 12000 allowance is taxable", "DE_HANDELSREGISTER"),  # India's house rent allowance
    ("HRB 1234567", "DE_HANDELSREGISTER"),  # seven digits
    ("HRC 12345", "DE_HANDELSREGISTER"),
    ("Order 123/456/78901", "DE_TAX_NUMBER"),
    ("GET /api/123/456/78901", "DE_TAX_NUMBER"),  # a path
    ("4151081508156", "DE_TAX_NUMBER"),  # 13 digits without a label
    ("80331 München", "DE_PLZ"),  # five digits alone
    ("PLZ 99999", "DE_PLZ"),  # a placeholder
    ("M12345678", "KR_PASSPORT"),  # the old format alone is a US passport shape too
    ("A123B4567", "KR_PASSPORT"),  # no such passport type
    ("Part no. M123A4567", "KR_PASSPORT"),
    ("99-22-123456-12", "KR_DRIVER_LICENSE"),  # no region 99
    ("112212345612", "KR_DRIVER_LICENSE"),  # twelve plain digits
    ("TIN 123-456-783-000", "PH_TIN"),  # wrong check digit
    ("123456782", "PH_TIN"),  # nine plain digits
    ("H12234567", "US_DRIVER_LICENSE"),  # no state format is specific enough alone
    ("5321234567", "PHONE_NUMBER"),  # ten plain digits
    ("Phone: 5321234567", "PHONE_NUMBER"),  # even after a phone word (that pattern would run on most prompts)
    ("0917123456", "PHONE_NUMBER"),  # a digit short
    ("Ticket 0532 123 45 67", "PHONE_NUMBER"),
])
def test_not_found(text: str, entity: str) -> None:
    assert entity not in _found(text)


@pytest.mark.parametrize(("text", "entity"), [
    ("K314159263", "DE_HEALTH_INSURANCE"),
    ("MU12345678B", "DE_FUEHRERSCHEIN"),
    ("M123A4567", "KR_PASSPORT"),
    ("123/456/78901", "DE_TAX_NUMBER"),
    ("123-456-782-000", "PH_TIN"),
])
def test_bare_shapes_are_reported_not_blocking(text: str, entity: str) -> None:
    """Without a label these rest on a shape or a one-in-ten check: found at 0.5, below any label's score."""
    assert _confidence(text, entity) == pytest.approx(0.5)
    assert ENGINE.scan(text).risk_score < 0.8


def test_checks() -> None:
    assert valid_de_rvnr("15070649C103") and valid_de_rvnr("65070803A019") and not valid_de_rvnr("15070649C100")
    assert valid_de_rvnr("20151090B023")  # day + 50
    assert valid_de_kvnr("A000500015") and not valid_de_kvnr("A123456787") and not valid_de_kvnr("1123456780")
    assert valid_de_lanr("123456601") and not valid_de_lanr("123456901") and not valid_de_lanr("000000000")
    assert valid_ph_tin("000-123-456-000") and not valid_ph_tin("000-123-457-000") and not valid_ph_tin("600000000")
    assert valid_kr_driver_license("28 22 123456 12") and not valid_kr_driver_license("27-22-123456-12")


@pytest.mark.parametrize(("text", "entity", "value"), [
    ("Das Fahrzeug mit Kennzeichen M KL 4711 wurde gesehen", "DE_KFZ", "M KL 4711"),
    ("Kennzeichen: HH-AB-123E.", "DE_KFZ", "HH-AB-123E"),
    ("My car reg is LB07 SEO and it expires", "UK_VEHICLE_REGISTRATION", "LB07 SEO"),
    ("registration number MH12DE1433", "IN_VEHICLE_REGISTRATION", "MH12DE1433"),
    ("The plate number is LSD-321GH for this vehicle", "NG_VEHICLE_REGISTRATION", "LSD-321GH"),
    ("Araç plakası 35 KLM 482 olarak kayıtlı", "TR_LICENSE_PLATE", "35 KLM 482"),
])
def test_plates_after_their_word(text: str, entity: str, value: str) -> None:
    assert _found(text).get(entity) == value


@pytest.mark.parametrize(("text", "entity"), [
    ("M KL 4711", "DE_KFZ"),  # no plate word: "US ID 12" and "ms at 8054" have the same shape
    ("latency was 493 ms at 8054 rps", "DE_KFZ"),
    ("LB07 SEO", "UK_VEHICLE_REGISTRATION"),
    ("car reg LB00 SEO", "UK_VEHICLE_REGISTRATION"),  # no age identifier 00
    ("registration number XX12DE1433", "IN_VEHICLE_REGISTRATION"),  # no state XX
    ("LSD-321GH", "NG_VEHICLE_REGISTRATION"),
    ("plaka 82 ABC 123", "TR_LICENSE_PLATE"),  # no province 82
    ("vehicle logged at 2023-06-03T07:25:51", "TR_LICENSE_PLATE"),  # "03T07" inside a timestamp
])
def test_plates_need_their_word(text: str, entity: str) -> None:
    assert entity not in _found(text)
