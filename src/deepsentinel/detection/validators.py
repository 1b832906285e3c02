"""Checksums and structural rules that turn a regex candidate into a finding.

Each validator takes the matched value (normalised text, separators included) and returns whether it is a
real instance of the entity. National identifiers use ``python-stdnum`` where it has them.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable
from types import ModuleType

import phonenumbers
from stdnum import iban as _iban
from stdnum.ca import sin as _ca_sin
from stdnum.de import idnr as _de_idnr
from stdnum.es import dni as _es_dni
from stdnum.fr import nir as _fr_nir
from stdnum.in_ import aadhaar as _aadhaar
from stdnum.in_ import pan as _pan
from stdnum.it import codicefiscale as _it_cf
from stdnum.nl import bsn as _nl_bsn

_NON_DIGIT = re.compile(r"[^0-9]")
_NON_ALNUM = re.compile(r"[^A-Za-z0-9]")
_SEPARATORS = re.compile(r"[^0-9]+")


def digits(value: str) -> str:
    """The digits of ``value``, separators dropped."""
    return _NON_DIGIT.sub("", value)


def luhn_valid(number: str) -> bool:
    """The Luhn (mod 10) check used by payment cards, NPI and Canadian SIN, on a string of ASCII digits."""
    # Every other digit from the right doubled (digit sums of 0..18 from a table): two C-level sums, no loop in
    # Python per digit (this runs for every card-shaped number in a text).
    return (sum(map(int, number[::-2])) + sum(map(_DOUBLED.__getitem__, number[-2::-2]))) % 10 == 0


_DOUBLED = {str(d): 2 * d - 9 if d > 4 else 2 * d for d in range(10)}


def _consistent_separators(value: str) -> bool:
    """Grouped numbers use one separator style throughout (``ddd-dd-dddd``, not ``ddd-dd dddd``)."""
    seps = {s.strip() or " " for s in _SEPARATORS.findall(value)}
    return len(seps) <= 1


# Issuer ranges (IIN prefixes and lengths) of the mainstream networks; anything else is not a payment card.
_CARD_RANGES = (
    (("4",), (13, 16, 19)),  # Visa
    (tuple(str(p) for p in range(51, 56)) + tuple(str(p) for p in range(2221, 2721)), (16,)),  # Mastercard
    (("34", "37"), (15,)),  # American Express
    (("6011", "65") + tuple(str(p) for p in range(644, 650)) + ("622",), (16, 19)),  # Discover
    (tuple(str(p) for p in range(3528, 3590)), (16, 19)),  # JCB
    (("300", "301", "302", "303", "304", "305", "36", "38"), (14, 16)),  # Diners Club
    (("62", "81"), (16, 17, 18, 19)),  # UnionPay
    (("5018", "5020", "5038", "5893", "6304", "6759", "6761", "6762", "6763"), tuple(range(12, 20))),  # Maestro
    (("1",), (15,)),  # UATP
    (("5019",), (16,)),  # Dankort
)


def valid_card(value: str) -> bool:
    """Luhn, a known issuer range and length, and not a degenerate run of one digit."""
    d = digits(value)
    if not 12 <= len(d) <= 19 or len(set(d)) < 2 or not luhn_valid(d):
        return False
    return any(len(d) in lengths and d.startswith(prefixes) for prefixes, lengths in _CARD_RANGES)


def valid_ssn(value: str) -> bool:
    """SSA rules: area not 000, 666 or 9xx; group not 00; serial not 0000; one separator style."""
    d = digits(value)
    if len(d) != 9 or not _consistent_separators(value):
        return False
    area, group, serial = d[:3], d[3:5], d[5:]
    return not (area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000"
                or d in ("078051120", "219099999"))


def valid_itin(value: str) -> bool:
    """IRS ITIN: 9xx area, group 50-65, 70-88, 90-92 or 94-99."""
    d = digits(value)
    if len(d) != 9 or d[0] != "9" or not _consistent_separators(value):
        return False
    g = int(d[3:5])
    return 50 <= g <= 65 or 70 <= g <= 88 or 90 <= g <= 92 or 94 <= g <= 99


def valid_aba(value: str) -> bool:
    """ABA routing number checksum (weights 3, 7, 1) and a valid Federal Reserve prefix."""
    d = digits(value)
    if len(d) != 9 or not (0 <= int(d[:2]) <= 12 or 21 <= int(d[:2]) <= 32 or 61 <= int(d[:2]) <= 72
                           or d[:2] == "80"):
        return False
    w = (3, 7, 1) * 3
    return sum(int(c) * k for c, k in zip(d, w, strict=True)) % 10 == 0


def valid_npi(value: str) -> bool:
    """NPI: 10 digits, Luhn over the ``80840`` prefix plus the number."""
    d = digits(value)
    # "1111111112" passes the Luhn check; no real NPI repeats one digit nine times.
    return len(d) == 10 and d[0] in "12" and len(set(d[:-1])) > 1 and luhn_valid("80840" + d)


def valid_dea(value: str) -> bool:
    """DEA registration number: (d1 + d3 + d5) + 2 * (d2 + d4 + d6) ends with the check digit d7."""
    d = value[2:]
    if len(d) != 7 or not d.isdigit():
        return False
    n = [int(c) for c in d]
    return (n[0] + n[2] + n[4] + 2 * (n[1] + n[3] + n[5])) % 10 == n[6]


def valid_iban(value: str) -> bool:
    return bool(_iban.is_valid(_NON_ALNUM.sub("", value)))


_NINO_BAD_PREFIX = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})


def valid_nino(value: str) -> bool:
    """UK National Insurance number: two prefix letters (with exclusions), six digits, suffix A-D."""
    v = _NON_ALNUM.sub("", value).upper()
    return len(v) == 9 and v[:2] not in _NINO_BAD_PREFIX and v[2:8].isdigit()


def stdnum_validator(module: ModuleType) -> Callable[[str], bool]:
    """Adapt a ``python-stdnum`` module's ``is_valid`` to our validator signature."""
    is_valid = module.is_valid

    def check(value: str) -> bool:
        return bool(is_valid(_NON_ALNUM.sub("", value)))

    return check


valid_aadhaar = stdnum_validator(_aadhaar)
valid_in_pan = stdnum_validator(_pan)
valid_ca_sin = stdnum_validator(_ca_sin)


def valid_es_nif(value: str) -> bool:
    """Spanish DNI/NIF: eight digits (older ones are written with seven) and the mod-23 check letter."""
    return bool(_es_dni.is_valid(_NON_ALNUM.sub("", value).upper().zfill(9)))


valid_it_fiscal = stdnum_validator(_it_cf)
valid_fr_nir = stdnum_validator(_fr_nir)
valid_de_tax_id = stdnum_validator(_de_idnr)
valid_nl_bsn = stdnum_validator(_nl_bsn)


def valid_phone(value: str) -> bool:
    """A number ``phonenumbers`` considers valid (US as the default region for national formats)."""
    try:
        parsed = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed)


# National formats (trunk prefix 0, no country code) of the countries whose phone recognizers Presidio has and
# our international and North American patterns miss. Each more region makes more 11-digit runs valid somewhere.
_NATIONAL_REGIONS = ("PH", "TR")


def valid_national_phone(value: str) -> bool:
    """A number ``phonenumbers`` considers valid in the national format of the Philippines or Turkey."""
    for region in _NATIONAL_REGIONS:
        try:
            parsed = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return True
    return False


def valid_ipv4(value: str) -> bool:
    parts = value.split(".")
    # 0.0.0.0, x.0.0.0 and friends are masks and placeholders, not addresses of anyone.
    return len(parts) == 4 and parts.count("0") < 3


def valid_ipv6(value: str) -> bool:
    """A real IPv6 address with at least three hex groups (so ``10:30:00`` or ``::`` never qualify)."""
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    groups = [g for g in value.split(":") if g]
    if "::" in value and groups and len(groups) <= 2:
        # "::1" (loopback) and "fe80::1" (link-local) are addresses; "12::34" is more likely a ratio or a time.
        return value == "::1" or any(not g.isdigit() for g in groups)
    return len(groups) >= 3 and any(len(g) > 2 or not g.isdigit() for g in groups)


def valid_mac(value: str) -> bool:
    return _consistent_separators_any(value) and len(set(_NON_ALNUM.sub("", value).lower())) > 1


def _consistent_separators_any(value: str) -> bool:
    return len(set(re.findall(r"[^0-9A-Fa-f]", value))) <= 1


def valid_jwt(value: str) -> bool:
    """The header segment decodes to a JSON object with an ``alg``."""
    header = value.split(".", 1)[0]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(decoded, dict) and "alg" in decoded


def not_anthropic(value: str) -> bool:
    """OpenAI keys share the ``sk-`` prefix with Anthropic's ``sk-ant-``; leave those to their own recognizer."""
    return not value.startswith("sk-ant-")
