"""Bitcoin wallet addresses (CRYPTO): Base58Check and bech32/bech32m checksums decide; whole tokens only."""

from __future__ import annotations

import pytest

from deepsentinel.detection import DetectionEngine
from deepsentinel.detection.recognizers.crypto import valid_bitcoin_address

ENGINE = DetectionEngine(names=None)

P2PKH = "16Yeky6GMjeNkAiNcBY7ZhrLoMSgg1BoyZ"
P2SH = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
SEGWIT = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
TAPROOT = "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"


def _spans(text: str) -> list[str]:
    return [text[f.start:f.end] for f in ENGINE.scan(text).findings if f.type == "CRYPTO"]


@pytest.mark.parametrize(("text", "expected"), [
    (P2PKH, [P2PKH]),  # pay to pubkey hash (Presidio's case)
    (P2SH, [P2SH]),  # pay to script hash
    (SEGWIT, [SEGWIT]),  # bech32, witness version 0 (BIP 173)
    (TAPROOT, [TAPROOT]),  # bech32m, witness version 1 (BIP 350; python-stdnum 2.2 refuses it)
    (SEGWIT.upper(), [SEGWIT.upper()]),  # bech32 may be written all in capitals
    (f"my wallet address is: {P2PKH}", [P2PKH]),
    (f"{P2PKH} {P2SH}", [P2PKH, P2SH]),  # one space between two addresses
    (f"send it to ({SEGWIT}).", [SEGWIT]),
    (f"data+{P2SH}/more", [P2SH]),  # '+' and '/' end a token, as they do for every word-bounded pattern
])
def test_addresses_are_found(text: str, expected: list[str]) -> None:
    """Each valid address is reported with its exact span."""
    assert _spans(text) == expected


@pytest.mark.parametrize("text", [
    P2PKH[:-1] + "z",  # one character changed: Base58Check fails
    P2PKH + "2",  # one character too many (Presidio's negative)
    SEGWIT[:-1] + "z",  # bech32 checksum fails
    "bc1qAr0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",  # mixed case is no bech32 string
    TAPROOT.replace("bc1p", "bc1q", 1),  # the witness version changed: the checksum fails
    "x" + P2PKH,  # inside a longer token
    P2PKH + "_v2",
    "8f953371d3e85eddb89b05ed6b9e680791055315c73e1025ab5dba7bb2aee189",  # a SHA-256 (Presidio's negative)
    "1111111111111111111111111",  # 25 characters: too short for an address
])
def test_near_misses_are_not_found(text: str) -> None:
    """Wrong checksums, mixed case, longer tokens and hashes are not addresses."""
    assert _spans(text) == []


def test_an_address_is_logged_not_blocked() -> None:
    """A wallet address is MEDIUM: its risk stays below the default policy's blocking threshold (0.8)."""
    finding = ENGINE.scan(f"bitcoin wallet {P2PKH}").findings[0]
    assert finding.type == "CRYPTO" and finding.risk < 0.8


def test_validator_checks_each_format() -> None:
    """The validator takes the three formats and refuses an unknown human-readable part."""
    assert all(valid_bitcoin_address(a) for a in (P2PKH, P2SH, SEGWIT, TAPROOT))
    assert not valid_bitcoin_address("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx")  # testnet
