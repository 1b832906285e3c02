"""Files sent inside a request (``file_data``): read as the text they hold, or not at all. Sans-IO.

A chat ``file`` part or a Responses ``input_file`` carries its file as base64, usually in a ``data:`` URL. Scanned
as it stood, a 2 MB PDF took 0.4 s and its random base64 read as five UK postcodes, which an anonymizing policy
would have rewritten, corrupting the file. So:

* a file whose bytes are UTF-8 text (notes, CSV, JSON, source code, whatever its declared type) is decoded and
  checked as that text; an anonymization is written back encoded the same way;
* a file that is not (PDF, images, audio, archives) holds no text this guard can read and is left out (see
  ``docs/architecture.md``, "Limits worth knowing"), provided it is the base64 it claims to be: anything else
  is checked as it stands.

Only the keys that hold a file are read this way: a ``data:`` URL typed into a message is text like any other
(else "data:image/png;base64," before a value would hide it). Image and audio keys (``image_url``, ``url``,
``data``) are not scanned at all (``STRUCTURAL_KEYS``).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from deepsentinel.wire.texts import TextRef

__all__ = ["EncodedTextRef", "encoded_binary", "file_refs", "upload_texts"]

_DATA_URL = re.compile(r"data:[\w.+\-]*/?[\w.+\-]*((?:;[\w.+\-]+=[^;,]*)*)(;base64)?,", re.ASCII)
# Keys holding a whole file inline (chat ``file`` parts, Responses ``input_file``).
_FILE_KEYS = frozenset({"file_data"})


@dataclass(frozen=True, slots=True)
class EncodedTextRef(TextRef):
    """A text file inside the body: ``get`` decodes it, ``set`` writes new text back encoded the same way."""

    prefix: str = ""  # the ``data:...,`` head, kept as it was ("" for bare base64)
    encoded: bool = True  # base64 (else the text follows the head as it is)

    def get(self, doc: Any) -> str:
        raw = TextRef.get(self, doc)[len(self.prefix):]
        return base64.b64decode(raw, validate=True).decode("utf-8") if self.encoded else raw

    def set(self, doc: Any, value: str) -> None:
        body = base64.b64encode(value.encode("utf-8")).decode("ascii") if self.encoded else value
        TextRef.set(self, doc, self.prefix + body)


def file_refs(refs: list[TextRef], doc: Any) -> list[TextRef]:
    """``refs`` with inline files read as their text, and files that hold no text left out."""
    out: list[TextRef] = []
    for ref in refs:
        if not ref.path or ref.path[-1] not in _FILE_KEYS:
            out.append(ref)
            continue
        value = ref.get(doc)
        head = _DATA_URL.match(value)
        prefix = head.group(0) if head is not None else ""
        encoded = head is None or head.group(2) is not None
        if not encoded:
            out.append(EncodedTextRef(ref.path, prefix, encoded=False))
            continue
        try:
            data = base64.b64decode(value[len(prefix):], validate=True)
        except (binascii.Error, ValueError):
            out.append(ref)  # not the base64 it claims to be: checked as it stands
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue  # a PDF, an image, audio: no text this guard can read
        if "\x00" not in text:
            out.append(EncodedTextRef(ref.path, prefix))
    return out


def upload_texts(body: bytes) -> list[str]:
    """The texts of a body that is not JSON (a file upload, a form), to check before it is sent as it is.

    Each ``multipart/form-data`` part (its headers too: a file name may be a value) is read as UTF-8 text when it
    is; a binary one (a PDF, an image) gives only its runs of printable ASCII, as ``strings`` would: the text a
    PDF may carry is still read, while decoding megabytes of compressed bytes "with replacement" cost seconds
    and read random runs as values.
    """
    line_end = body.find(b"\r\n")
    delimiter = body[:line_end] if body.startswith(b"--") and line_end > 2 else b""
    if not delimiter:
        return [_text_of(body)]
    pieces: list[bytes] = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        head, _, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        pieces += [head, content.removesuffix(b"\r\n")]
    return [_text_of(piece) for piece in pieces]


_PRINTABLE_RUN = re.compile(rb"[\t\n\r\x20-\x7e]{8,}")


def _text_of(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "\n".join(run.decode("ascii") for run in _PRINTABLE_RUN.findall(data))


_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_\-]+={0,2}", re.ASCII)
ENCODED_BINARY_MIN = 1024  # shorter strings are cheap to scan and may be a token or a key: always scanned


def encoded_binary(text: str) -> bool:
    """Whether ``text`` is a long base64 string of bytes that are not text: an image the model drew
    (``b64_json``, an image generation call's ``result``), audio, a file. Scanning it read random runs as
    values, and rewriting one would have corrupted the bytes."""
    if len(text) < ENCODED_BINARY_MIN or _BASE64.fullmatch(text) is None:
        return False
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if "-" in text or "_" in text else None)
    except (binascii.Error, ValueError):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False
