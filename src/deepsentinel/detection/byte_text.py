"""Text as one byte per character, for the native scanners (Hyperscan, RE2) whose offsets must be the text's."""

from __future__ import annotations

import codecs

__all__ = ["one_byte_per_char"]


def _one_byte(error: UnicodeError) -> tuple[bytes, int]:
    assert isinstance(error, UnicodeEncodeError)
    return b"\x80" * (error.end - error.start), error.end


_ONE_BYTE = "deepsentinel-one-byte"
codecs.register_error(_ONE_BYTE, _one_byte)  # a named handler in the codec registry; nothing else changes


def one_byte_per_char(text: str) -> bytes:
    """``text`` as bytes with each non-ASCII character as one 0x80 byte: byte offsets are character offsets."""
    return text.encode("ascii", _ONE_BYTE)
