"""A response body's content and transfer codings, undone before the guard reads it. Sans-IO.

Every request the guard sends asks for ``accept-encoding: identity``, but a provider (or a proxy in front of it)
may compress its answer anyway. The guard cannot check bytes it cannot read, and passing them on unread would let
the values in them through. So a compressed body is inflated first (gzip and deflate, with the standard library's
zlib) and the caller gets it uncompressed. A body in any other coding (``br``, ``zstd``), broken compressed
bytes, bytes after the end of a zlib stream, or a body that inflates past ``BOMB_RATIO`` times its size (beyond
``BOMB_FLOOR``) raise ``UnreadableResponseError``: nothing of what could not be read is shown. An error answer
(status 400 and up) is not refused for its body: one that cannot be read becomes empty, so the caller still gets
the status's own error (and the SDK's retries).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from deepsentinel.errors import UnreadableResponseError

#: The codings the guard can undo (``identity`` and a transfer's ``chunked`` are none at all).
SUPPORTED = frozenset({"gzip", "x-gzip", "deflate"})
#: A body may inflate to this many bytes whatever its size; past it, to at most ``BOMB_RATIO`` times its size.
BOMB_FLOOR = 64 << 20
BOMB_RATIO = 200  # JSON and event streams compress 5-20 times; deflate's own limit is about 1,000
# IANA's HTTP content coding registry, less what the guard undoes: the codings an error may name.
_REGISTERED = frozenset({"aes128gcm", "br", "compress", "dcb", "dcz", "exi", "pack200-gzip", "x-compress", "zstd"})
_GZIP_MAGIC = b"\x1f\x8b"


class _Stage:
    """Undoes one coding. The zlib stream's kind is read off its first two bytes (gzip's magic, a zlib header,
    else raw deflate, which some servers send for "deflate"); a gzip body may hold several members."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self.pending = b""  # the first byte, until a second one tells the stream's kind
        self.inflater: zlib._Decompress | None = None
        self.wbits = 0

    def decompress(self, data: bytes) -> bytes:
        if self.inflater is None:
            data = self.pending + data
            if len(data) < 2:
                self.pending = data
                return b""
            self.pending = b""
            self.wbits = _wbits(self.coding, data[:2])
            self.inflater = zlib.decompressobj(self.wbits)
        out = self.inflater.decompress(data)
        while self.inflater.eof and self.inflater.unused_data:
            rest = self.inflater.unused_data
            if self.wbits != 16 + zlib.MAX_WBITS or not rest.startswith(_GZIP_MAGIC[: len(rest)]):
                raise zlib.error("bytes after the end of the compressed stream")
            if len(rest) < 2:  # the next member's magic, cut between two reads: kept for the next one
                self.inflater, self.pending = None, rest
                return out
            self.inflater = zlib.decompressobj(self.wbits)  # the next gzip member (RFC 1952 allows several)
            out += self.inflater.decompress(rest)
        return out

    def flush(self) -> bytes:
        if self.inflater is None:
            if self.pending:
                raise zlib.error("the body ended inside its first bytes")
            return b""
        out = self.inflater.flush()
        if not self.inflater.eof:
            raise zlib.error("the body ended before its compressed stream did")
        return out


def _wbits(coding: str, head: bytes) -> int:
    if head == _GZIP_MAGIC:
        return 16 + zlib.MAX_WBITS
    if coding == "deflate" and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0:
        return zlib.MAX_WBITS  # a zlib header (RFC 1950), as "deflate" is meant
    if coding == "deflate":
        return -zlib.MAX_WBITS
    raise zlib.error("not a gzip stream")


class Inflater:
    """Undoes a body's codings chunk by chunk: ``decompress(chunk)`` as the bytes arrive, ``flush()`` at the end.
    Codings applied one after another (``gzip, gzip``) are undone last first. Raises ``UnreadableResponseError``
    unless ``lenient`` (an error answer), whose unreadable body then reads as empty."""

    def __init__(self, codings: list[str], provider: str, status: int, *, lenient: bool = False) -> None:
        self.provider, self.status, self.lenient = provider, status, lenient
        self.failed = False
        unknown = [c for c in codings if c not in SUPPORTED]
        # Named only when it is a registered coding: the header is provider text, and could carry anything.
        self._refusal = None if not unknown else (
            f"the provider sent a body in content coding {unknown[0]!r}" if unknown[0] in _REGISTERED
            else "the provider sent a body in an unknown content coding")
        self._stages = [_Stage(c) for c in reversed(codings)]  # the last applied is undone first
        self._read = self._given = 0

    def decompress(self, data: bytes) -> bytes:
        if self.failed or not data:
            return b""
        self._read += len(data)
        if self._refusal is not None:
            return self._fail(self._refusal + ", which the guard cannot read")
        try:
            for stage in self._stages:
                data = stage.decompress(data)
                if not data:
                    break
        except zlib.error:
            return self._fail(f"the {stage.coding} body could not be decompressed")
        return self._checked(data)

    def flush(self) -> bytes:
        if self.failed or not self._read:  # an empty body (a 204, say) is no trouble in any coding
            return b""
        data = b""
        try:
            for stage in self._stages:
                data = (stage.decompress(data) if data else b"") + stage.flush()
        except zlib.error:
            return self._fail(f"the {stage.coding} body ended before its compressed stream did")
        return self._checked(data)

    def _checked(self, data: bytes) -> bytes:
        self._given += len(data)
        if self._given > BOMB_FLOOR and self._given > BOMB_RATIO * self._read:
            return self._fail(f"the body inflated to more than {BOMB_RATIO} times its size")
        return data

    def _fail(self, message: str) -> bytes:
        self.failed = True
        if self.lenient:
            return b""
        raise UnreadableResponseError(f"{message}; the guard showed none of what it could not read",
                                      provider=self.provider, status_code=self.status)


def inflater_for(codings: Iterable[str], provider: str, status: int) -> Inflater | None:
    """What undoes a body's codings (``Content-Encoding`` values, then ``Transfer-Encoding`` ones, in the order
    they were applied), or ``None`` when there is nothing to undo. ``provider`` and ``status`` go into the errors
    it raises; an error answer's (``status`` >= 400) unreadable body reads as empty instead."""
    names = [c.strip().lower() for value in codings for c in value.split(",")]
    names = [c for c in names if c and c not in ("identity", "chunked")]
    return Inflater(names, provider, status, lenient=status >= 400) if names else None


__all__ = ["BOMB_FLOOR", "BOMB_RATIO", "SUPPORTED", "Inflater", "inflater_for"]
