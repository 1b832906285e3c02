"""Server-sent events at the wire: an incremental decoder from bytes, and the encoder back. Sans-IO.

The decoder keeps each event's own field lines, so an event the guard does not change is re-sent byte for byte
(comments, ``id:`` and ``retry:`` lines included).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Event:
    """One server-sent event: its ``event`` name (empty for the default), ``data`` and its original bytes."""

    event: str = ""
    data: str = ""
    raw: bytes | None = field(default=None, repr=False)  # ``None`` once changed: encode() rebuilds it
    # The lines of ``raw`` that are not ``event:`` or ``data:`` (comments, ``id:``, a body that is not events at
    # all): an SSE client ignores them, but ``raw`` carries them to a caller reading bytes.
    stray: str = field(default="", repr=False)

    def encode(self) -> bytes:
        if self.raw is not None:
            return self.raw
        head = f"event: {self.event}\n" if self.event else ""
        body = "".join(f"data: {line}\n" for line in self.data.split("\n"))
        return (head + body + "\n").encode()

    def with_data(self, data: str) -> Event:
        return Event(self.event, data)


class SSEDecoder:
    """Feed bytes as they arrive; get whole events back. Lines may end in LF, CRLF or CR."""

    def __init__(self) -> None:
        self._buffer = b""
        self._lines: list[bytes] = []

    def feed(self, chunk: bytes) -> list[Event]:
        buffer = self._buffer + chunk if self._buffer else chunk
        events: list[Event] = []
        if not self._lines and b"\r" not in buffer:
            # LF only, as every provider sends: the whole events in one split, in C; the rest below.
            end = buffer.rfind(b"\n\n")
            if end >= 0:
                for block in buffer[:end].split(b"\n\n"):
                    if block.startswith(b"data: ") and b"\n" not in block:
                        events.append(_data_line(block))
                        continue
                    block = block.strip(b"\n")  # blank lines between events separate nothing more
                    if block:
                        events.append(_parse(block.split(b"\n")))
                buffer = buffer[end + 2:]
        # Read by position, each line end searched for once: a burst of many events in one chunk stays linear.
        pos, cr = 0, buffer.find(b"\r")
        while True:
            if 0 <= cr < pos:
                cr = buffer.find(b"\r", pos)
            cut, width = _line_end(buffer, pos, cr)
            if cut < 0:
                break
            line, pos = buffer[pos:cut], cut + width
            if line:
                self._lines.append(line)
            elif self._lines:
                events.append(_parse(self._lines))
                self._lines = []
        self._buffer = buffer[pos:]
        return events

    def flush(self) -> list[Event]:
        """The last event of a stream that ended without its blank line."""
        if self._buffer:
            self._lines.append(self._buffer)
            self._buffer = b""
        if not self._lines:
            return []
        event, self._lines = _parse(self._lines), []
        return [event]

    @property
    def pending(self) -> int:
        return len(self._buffer) + sum(len(x) for x in self._lines)


def _line_end(buffer: bytes, pos: int, cr: int) -> tuple[int, int]:
    """Where the line starting at ``pos`` ends, and the width of its end; ``cr``: the first CR at or after
    ``pos`` (-1: none)."""
    lf = buffer.find(b"\n", pos)
    if cr < 0:
        return lf, 1
    if cr == len(buffer) - 1:  # a CR at the end may be the first half of CRLF: wait for more
        return (lf, 1) if 0 <= lf < cr else (-1, 0)
    if lf < 0 or cr < lf:
        return (cr, 2) if buffer[cr + 1 : cr + 2] == b"\n" else (cr, 1)
    return lf, 1


def _data_line(line: bytes) -> Event:
    """The usual event: one ``data: `` line and nothing else."""
    return Event("", line[6:].decode("utf-8", errors="replace"), line + b"\n\n")


def _parse(lines: list[bytes]) -> Event:
    if len(lines) == 1 and lines[0].startswith(b"data: "):
        return _data_line(lines[0])
    name, data, stray = "", [], []
    for raw in lines:
        line = raw.decode("utf-8", errors="replace")
        key, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if key == "event":
            name = value
        elif key == "data":
            data.append(value)
        else:
            stray.append(line)
    return Event(name, "\n".join(data), b"\n".join(lines) + b"\n\n", "\n".join(stray))


__all__ = ["Event", "SSEDecoder"]
