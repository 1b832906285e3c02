"""Files sent inside a request (``file_data``): read as the text they hold, or not at all. Sans-IO.

A chat ``file`` part or a Responses ``input_file`` carries its file as base64, usually in a ``data:`` URL. Scanned
as it stood, a 2 MB PDF took 0.4 s and its random base64 read as five UK postcodes, which an anonymizing policy
would have rewritten, corrupting the file. So:

* a file whose bytes are UTF-8 text (notes, CSV, JSON, source code, whatever its declared type) is decoded and
  checked as that text; an anonymization is written back encoded the same way;
* a file that is not (PDF, images, audio, archives, a Windows-1252 or UTF-16 text) is checked as an upload is:
  its printable runs (a UTF-16 file as its text), read only, since rewriting its bytes would corrupt it; the
  file goes out byte for byte unless a policy blocks it (see ``docs/architecture.md``, "Limits worth knowing");
* a value that is not the base64 it claims to be is checked as it stands, and so is one shorter than
  ``ENCODED_BINARY_MIN`` that decodes to no UTF-8 text (besides its printable runs): a card number is valid
  base64 too.

Base64 broken into lines (MIME, ``base64.encodebytes``) is read as the file it encodes.

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

__all__ = ["BinaryFileRef", "EncodedTextRef", "encoded_binary", "file_refs", "form_field", "upload_texts"]

_DATA_URL = re.compile(r"data:[\w.+\-]*/?[\w.+\-]*((?:;[\w.+\-]+=[^;,]*)*)(;base64)?,", re.ASCII)
# Keys holding a whole file inline (chat ``file`` parts, Responses ``input_file``).
_FILE_KEYS = frozenset({"file_data"})
_LINE_BREAKS = re.compile(r"[\r\n]+")


def _decode(raw: str) -> bytes:
    return base64.b64decode(_LINE_BREAKS.sub("", raw), validate=True)


@dataclass(frozen=True, slots=True)
class EncodedTextRef(TextRef):
    """A text file inside the body: ``get`` decodes it, ``set`` writes new text back encoded the same way."""

    prefix: str = ""  # the ``data:...,`` head, kept as it was ("" for bare base64)
    encoded: bool = True  # base64 (else the text follows the head as it is)

    def get(self, doc: Any) -> str:
        raw = TextRef.get(self, doc)[len(self.prefix):]
        return _decode(raw).decode("utf-8") if self.encoded else raw

    def set(self, doc: Any, value: str) -> None:
        body = base64.b64encode(value.encode("utf-8")).decode("ascii") if self.encoded else value
        TextRef.set(self, doc, self.prefix + body)


@dataclass(frozen=True, slots=True)
class BinaryFileRef(TextRef):
    """A file that is no UTF-8 text: ``get`` gives the text it carries (as for an upload); ``set`` leaves the
    file as it is (rewriting its bytes would corrupt it; a blocking policy still blocks it)."""

    prefix: str = ""

    def get(self, doc: Any) -> str:
        return _text_of(_decode(TextRef.get(self, doc)[len(self.prefix):]))

    def set(self, doc: Any, value: str) -> None:
        return None


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
            data = _decode(value[len(prefix):])
        except (binascii.Error, ValueError):
            out.append(ref)  # not the base64 it claims to be: checked as it stands
            continue
        text = _utf8(data)
        if text is not None and "\x00" not in text:
            out.append(EncodedTextRef(ref.path, prefix))
        else:
            if len(value) - len(prefix) < ENCODED_BINARY_MIN:
                out.append(ref)  # "4111...": short enough to scan as written too, and maybe no file at all
            out.append(BinaryFileRef(ref.path, prefix))
    return out


def upload_texts(body: bytes) -> list[str]:
    """The texts of a body that is not JSON (a file upload, a form), to check before it is sent as it is.

    Each ``multipart/form-data`` part (its headers too: a file name may be a value) is read as UTF-8 text when it
    is; a binary one (a PDF, an image) gives only its runs of printable ASCII, as ``strings`` would: the text a
    PDF may carry is still read, while decoding megabytes of compressed bytes "with replacement" cost seconds
    and read random runs as values.
    """
    parts = _form_parts(body)
    if parts is None:
        return [_text_of(body)]
    return [_text_of(piece) for head, content in parts for piece in (head, content)]


def form_field(body: bytes, name: str) -> str | None:
    """The value of a ``multipart/form-data`` body's text field ``name`` (``stream`` of a transcription), or
    ``None`` when the body is not a form or has no such field."""
    wanted = b'name="' + name.encode() + b'"'
    for head, content in _form_parts(body) or ():
        if wanted in head and b"filename=" not in head.lower():  # field names are case-sensitive, as the API's
            return content.decode("utf-8", "replace")
    return None


def _form_parts(body: bytes) -> list[tuple[bytes, bytes]] | None:
    """A ``multipart/form-data`` body's parts, each (its headers, its content); ``None`` if it is not one."""
    line_end = body.find(b"\r\n")
    delimiter = body[:line_end] if body.startswith(b"--") and line_end > 2 else b""
    if not delimiter:
        return None
    parts: list[tuple[bytes, bytes]] = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        head, _, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        parts.append((head, content.removesuffix(b"\r\n")))
    return parts


_PRINTABLE_RUN = re.compile(rb"[\t\n\r\x20-\x7e]{8,}")


def _text_of(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # a UTF-16 text (Windows editors write these)
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
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
    return _utf8(data) is None


def _utf8(data: bytes) -> str | None:
    """``data`` as UTF-8 text, or None when it is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
