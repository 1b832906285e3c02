"""A request's headers as the guard reads them, and as it sends them on. Sans-IO.

A call reads a handful of the dozen headers an SDK sends (the routing headers, the key, ``accept-encoding``), and
only a request sent to another target, or rewritten, needs them all. So both are built lazily: ``CallerHeaders``
decodes a value when it is read, and ``SendHeaders`` builds the outgoing set when it is first read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

#: What every request the guard sends asks for (``accept-encoding``): the guard reads every answer, and a
#: compressed one is inflated first (``encoding.py``), which costs time the provider need not have cost it.
UNCOMPRESSED = "identity"


class CallerHeaders(Mapping[str, str]):
    """The caller's headers by lower-case name, from their raw byte pairs, read as Latin-1 (as an ASGI server
    reads them). A name sent twice reads as its values joined with ", " (as ``httpx.Headers`` reads it)."""

    __slots__ = ("_by_name", "_raw")

    def __init__(self, raw: Sequence[tuple[bytes, bytes]]) -> None:
        self._raw = raw
        self._by_name: dict[bytes, bytes] | None = None

    def _index(self) -> dict[bytes, bytes]:
        index = self._by_name
        if index is None:
            index = {k.lower(): v for k, v in self._raw}
            if len(index) != len(self._raw):  # a name sent twice
                index = {}
                for k, v in self._raw:
                    k = k.lower()
                    index[k] = index[k] + b", " + v if k in index else v
            self._by_name = index
        return index

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        """The value of ``name`` (lower-case), decoded, or ``default``."""
        value = self._index().get(name.encode("latin-1"))
        return default if value is None else value.decode("latin-1")

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return (k.decode("latin-1") for k in self._index())

    def __len__(self) -> int:
        return len(self._index())

    def __repr__(self) -> str:  # values may be keys: names only
        return f"CallerHeaders({sorted(self)})"


class SendHeaders(Mapping[str, str]):
    """The caller's headers as sent upstream: without ``drop`` (the routing headers, a length the rewrite may
    change), asking for an uncompressed answer (the guard reads the body), built when first read."""

    __slots__ = ("_built", "_caller", "_drop")

    def __init__(self, caller: Mapping[str, str], drop: frozenset[str]) -> None:
        self._caller, self._drop = caller, drop
        self._built: dict[str, str] | None = None

    def without(self, name: str) -> SendHeaders:
        """These headers without ``name`` as well."""
        return SendHeaders(self._caller, self._drop | {name})

    def _dict(self) -> dict[str, str]:
        built = self._built
        if built is None:
            built = {k: v for k, v in self._caller.items() if k not in self._drop}
            built["accept-encoding"] = UNCOMPRESSED
            self._built = built
        return built

    def __getitem__(self, name: str) -> str:
        return self._dict()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict())

    def __len__(self) -> int:
        return len(self._dict())

    def __repr__(self) -> str:  # values may be keys: names only
        return f"SendHeaders({sorted(self)})"


__all__ = ["UNCOMPRESSED", "CallerHeaders", "SendHeaders"]
