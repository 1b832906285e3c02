"""A response body's content coding, undone before the guard reads it. Sans-IO.

Every request the guard sends asks for ``accept-encoding: identity``, but a provider (or a proxy in front of it)
may compress its answer anyway. The guard cannot check bytes it cannot read, and passing them on unread would let
the values in them through. So a compressed body is inflated first (gzip and deflate, with the standard library's
zlib), and the caller gets it uncompressed; a body in any other coding (``br``, ``zstd``) is refused with
``UnreadableResponseError``, as is one whose compressed bytes are broken.
"""

from __future__ import annotations

import zlib

from deepsentinel.errors import UnreadableResponseError

#: The content codings the guard can undo (``identity`` is none at all).
SUPPORTED = frozenset({"gzip", "x-gzip", "deflate"})
# IANA's HTTP content coding registry, less what the guard undoes: the codings an error may name.
_REGISTERED = frozenset({"aes128gcm", "br", "compress", "dcb", "dcz", "exi", "pack200-gzip", "x-compress", "zstd"})


class Inflater:
    """Undoes a ``content-encoding`` chunk by chunk: ``decompress(chunk)`` as the bytes arrive, ``flush()`` at the
    end; either raises ``UnreadableResponseError``. Codings applied one after another (``gzip, gzip``) are undone
    last first."""

    def __init__(self, codings: list[str], provider: str, status: int) -> None:
        self.codings, self.provider, self.status = codings, provider, status
        unknown = [c for c in codings if c not in SUPPORTED]
        # Named only when it is a registered coding: the header is provider text, and could carry anything.
        self._refusal = None if not unknown else (
            f"the provider sent a body in content coding {unknown[0]!r}" if unknown[0] in _REGISTERED
            else "the provider sent a body in an unknown content coding")
        # wbits 32 + 15: a zlib or a gzip header, whichever the stream has (some servers send raw deflate for
        # "deflate": tried when the first bytes fit neither, see _inflate).
        self._stages = [zlib.decompressobj(32 + zlib.MAX_WBITS) for _ in codings]
        self._started = [False] * len(codings)

    def decompress(self, data: bytes) -> bytes:
        for i in range(len(self._stages) - 1, -1, -1):
            if not data:
                break
            data = self._inflate(i, data)
        return data

    def flush(self) -> bytes:
        data = b""
        for i in range(len(self._stages) - 1, -1, -1):
            stage = self._stages[i]
            data = (self._inflate(i, data) if data else b"") + stage.flush()
            if self._started[i] and not stage.eof:
                raise self._error(f"the {self.codings[i]} body ended before its compressed stream did")
        return data

    def _inflate(self, i: int, data: bytes) -> bytes:
        if self._refusal is not None:  # an empty body (a 204, say) is no trouble; any byte is
            raise self._error(self._refusal + ", which the guard cannot read")
        try:
            out = self._stages[i].decompress(data)
        except zlib.error:
            if self._started[i] or self.codings[i] != "deflate":
                raise self._error(f"the {self.codings[i]} body could not be decompressed") from None
            self._stages[i] = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, without the zlib header
            try:
                out = self._stages[i].decompress(data)
            except zlib.error:
                raise self._error("the deflate body could not be decompressed") from None
        self._started[i] = True
        return out

    def _error(self, message: str) -> UnreadableResponseError:
        return UnreadableResponseError(f"{message}: nothing of it was shown", provider=self.provider,
                                       status_code=self.status)


def inflater_for(content_encoding: str, provider: str, status: int) -> Inflater | None:
    """What undoes a body's ``content-encoding`` (the header's value), or ``None`` when there is nothing to undo.
    ``provider`` and ``status`` go into the errors it may raise."""
    if not content_encoding:
        return None
    codings = [c for c in (c.strip().lower() for c in content_encoding.split(",")) if c and c != "identity"]
    return Inflater(codings, provider, status) if codings else None


__all__ = ["SUPPORTED", "Inflater", "inflater_for"]
