"""Check digits and structural rules of national identifiers that ``python-stdnum`` does not have (or has
without its checksum), used by ``national_ids.py``.

Each check takes the matched value (separators included) and returns whether it is a real instance.
"""

from __future__ import annotations

import datetime

__all__ = ["valid_au_medicare", "valid_de_passport", "valid_fi_hetu", "valid_kr_brn", "valid_kr_frn",
           "valid_kr_registration_date", "valid_kr_rrn", "valid_sg_nric", "valid_za_id"]

_NRIC_WEIGHTS = (2, 7, 6, 5, 4, 3, 2)
_NRIC_ST, _NRIC_FG, _NRIC_M = "JZIHGFEDCBA", "XWUTRQPNMLK", "XWUTRQPNJLK"


def _digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def valid_sg_nric(value: str) -> bool:
    """Singapore NRIC/FIN: prefix S/T/F/G/M, seven digits, a check letter (weights 2765432, offsets by prefix)."""
    v = value.upper()
    if len(v) != 9 or v[0] not in "STFGM" or not v[1:8].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(v[1:8], _NRIC_WEIGHTS, strict=True))
    total += {"T": 4, "G": 4, "M": 3}.get(v[0], 0)
    letters = _NRIC_ST if v[0] in "ST" else _NRIC_M if v[0] == "M" else _NRIC_FG
    return letters[total % 11] == v[8]


def valid_au_medicare(value: str) -> bool:
    """Australian Medicare card: first digit 2-6, weights 1379 1379 over eight digits, mod 10 check digit."""
    d = _digits(value)
    if len(d) not in (10, 11) or d[0] not in "23456":
        return False
    return sum(int(c) * w for c, w in zip(d[:8], (1, 3, 7, 9, 1, 3, 7, 9), strict=True)) % 10 == int(d[8])


_HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_HETU_CENTURY = {"+": 1800, "-": 1900, "U": 1900, "V": 1900, "W": 1900, "X": 1900, "Y": 1900,
                 "A": 2000, "B": 2000, "C": 2000, "D": 2000, "E": 2000, "F": 2000}


def valid_fi_hetu(value: str) -> bool:
    """Finnish henkilötunnus: a real date DDMMYY, a century sign (2023 signs included), NNN, a mod-31 check."""
    v = value.upper()
    if len(v) != 11 or not (v[:6] + v[7:10]).isdigit() or v[6] not in _HETU_CENTURY:
        return False
    if not _is_date(_HETU_CENTURY[v[6]] + int(v[4:6]), int(v[2:4]), int(v[:2])):
        return False  # "310289-211C": no 31 February, whatever the check character says
    return _HETU_CHECK[int(v[:6] + v[7:10]) % 31] == v[10]


_KR_CENTURY = {"1": 1900, "2": 1900, "3": 2000, "4": 2000, "5": 1900, "6": 1900, "7": 2000, "8": 2000}
_KR_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


def valid_kr_registration_date(value: str) -> bool:
    """Korean RRN/FRN without its check digit: 13 digits, a real birth date for the century the 7th digit gives,
    a region code up to 95. Numbers issued since October 2020 end in random digits, so this is all they have."""
    d = _digits(value)
    if len(d) != 13 or d[6] not in _KR_CENTURY or int(d[7:9]) > 95:
        return False
    return _is_date(_KR_CENTURY[d[6]] + int(d[:2]), int(d[2:4]), int(d[4:6]))


def _kr_sum(d: str) -> int:
    return sum(int(c) * w for c, w in zip(d[:12], _KR_WEIGHTS, strict=True))


def valid_kr_rrn(value: str) -> bool:
    """Korean resident registration number issued before October 2020: date, then (11 - sum % 11) % 10."""
    d = _digits(value)
    return valid_kr_registration_date(d) and (11 - _kr_sum(d) % 11) % 10 == int(d[12])


def valid_kr_frn(value: str) -> bool:
    """Korean foreigner registration number issued before October 2020: date, then (13 - sum % 11) % 10."""
    d = _digits(value)
    return valid_kr_registration_date(d) and (13 - _kr_sum(d) % 11) % 10 == int(d[12])


_BRN_WEIGHTS = (1, 3, 7) * 2 + (1, 3, 5)


def valid_kr_brn(value: str) -> bool:
    """Korean business registration number: weights ``_BRN_WEIGHTS`` plus (d9 * 5) // 10, a mod-10 check digit.
    (``stdnum.kr.brn`` checks the length and the office code only.)"""
    d = _digits(value)
    if len(d) != 10 or d[:3] < "101" or d[3:5] == "00" or d[5:9] == "0000":
        return False
    total = sum(int(c) * w for c, w in zip(d[:9], _BRN_WEIGHTS, strict=True))
    total += int(d[8]) * 5 // 10
    return (10 - total % 10) % 10 == int(d[9])


def _icao_value(c: str) -> int:
    return int(c) if c.isdigit() else ord(c) - 55  # A=10 ... Z=35


def valid_de_passport(value: str) -> bool:
    """German passport number: ICAO 9303 check digit (weights 7, 3, 1 over the first eight characters)."""
    v = value.upper()
    if len(v) != 9 or not v[8].isdigit() or not v.isalnum():
        return False
    return sum(_icao_value(c) * (7, 3, 1)[i % 3] for i, c in enumerate(v[:8])) % 10 == int(v[8])


def valid_za_id(value: str) -> bool:
    """South African ID number: a real birth date, citizenship 0 (citizen), 1 (permanent resident) or 2
    (refugee), and the Luhn check digit. (``stdnum.za.idnr`` refuses refugees' numbers.)"""
    d = _digits(value)
    if len(d) != 13 or d[10] not in "012":
        return False
    yy, mm, dd = int(d[:2]), int(d[2:4]), int(d[4:6])
    if not (_is_date(1900 + yy, mm, dd) or _is_date(2000 + yy, mm, dd)):
        return False
    total = 0
    for i, c in enumerate(reversed(d)):
        n = int(c) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0
