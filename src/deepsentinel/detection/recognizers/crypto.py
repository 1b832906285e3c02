"""Cryptocurrency wallet addresses (Presidio's CRYPTO): Bitcoin, the three formats in use.

* P2PKH and P2SH (``1...``, ``3...``): Base58Check, a 32-bit checksum (``python-stdnum``'s ``bitcoin``);
* SegWit (``bc1q...``, BIP 173) and Taproot (``bc1p...``, BIP 350): bech32 and bech32m checksums, 30 bits.

A random string passes either check about once in a billion, so an address is found alone. It names no one by
itself (the ledger is public) but ties payments to whoever is asked about it: reported at MEDIUM (logged by the
default policy, a risk of 0.51), never blocking alone.
"""

from __future__ import annotations

from stdnum import bitcoin

from deepsentinel.detection.findings import Category, Severity
from deepsentinel.detection.recognizer import Pattern, PatternRecognizer
from deepsentinel.detection.recognizers.fragments import WORD_AFTER, WORD_BEFORE, loose

__all__ = ["CRYPTO", "CRYPTO_RECOGNIZERS", "valid_bitcoin_address"]

_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_CONST, _BECH32M_CONST = 1, 0x2BC830A3
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i, g in enumerate(_GENERATOR):
            chk ^= g if (top >> i) & 1 else 0
    return chk


def _valid_segwit(address: str) -> bool:
    """A ``bc1`` address: one case throughout, bech32 for witness version 0, bech32m for 1-16 (BIP 350)."""
    if address != address.lower() and address != address.upper():
        return False
    address = address.lower()
    hrp, _, data = address.rpartition("1")
    if hrp != "bc" or not 8 <= len(data) <= 87 or any(c not in _BECH32_CHARSET for c in data):
        return False
    values = [_BECH32_CHARSET.index(c) for c in data]
    check = _polymod([ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + values)
    version = values[0]
    if version > 16 or check != (_BECH32_CONST if version == 0 else _BECH32M_CONST):
        return False
    program_bits = (len(values) - 7) * 5  # the version and the six checksum characters are not the program
    if version == 0:
        return program_bits // 8 in (20, 32)
    return 2 <= program_bits // 8 <= 40


def valid_bitcoin_address(value: str) -> bool:
    """A Bitcoin address whose checksum holds: Base58Check for ``1``/``3``, bech32(m) for ``bc1``."""
    if value[:3].lower() == "bc1":
        return _valid_segwit(value)
    return bool(bitcoin.is_valid(value))


_BASE58 = r"[13][1-9A-HJ-NP-Za-km-z]{25,34}"
_SEGWIT = r"(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{8,87}"

# The gates ask for a whole token, as the look-arounds do: without that, every long base64 or hex token holds
# runs that look like an address (or a "bc1"), and the pattern would run over it for nothing. (The body keeps
# the look-arounds rather than consuming the boundary: a consumed character could be a non-ASCII one, which
# the stream boundary's rule for values holding such characters would then have to wait for.)
_TOKEN_START, _TOKEN_END = r"(?:^|[^0-9A-Za-z_])", r"(?:[^0-9A-Za-z_]|$)"


def _address(name: str, body: str, gate: str) -> Pattern:
    return Pattern(name, body, 0.85, WORD_BEFORE, WORD_AFTER, gate=_TOKEN_START + gate + _TOKEN_END)


CRYPTO = PatternRecognizer(
    "CRYPTO", Category.PII, Severity.MEDIUM,
    (_address("Base58Check address", _BASE58, _BASE58), _address("bech32 address", _SEGWIT, loose(_SEGWIT))),
    validator=valid_bitcoin_address,
    context=("bitcoin", "btc", "wallet", "crypto", "address"),
    max_length=90,
    detector="pii",
)

CRYPTO_RECOGNIZERS = (CRYPTO,)
