"""Texts inside JSON bodies: where they are (a path), and how to read and rewrite them. Sans-IO."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from deepsentinel.errors import ValidationError

Path = tuple[int | str, ...]

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,39}")
# Plain keys met so far: an API's bodies use a few dozen names, so a set lookup replaces a regex per key. Bounded,
# so bodies full of fresh names cannot grow it without end (past the bound, the regex decides).
_PLAIN_SEEN: set[str] = set()
_PLAIN_SEEN_MAX = 4096


def plain_key(key: str) -> bool:
    """Whether an object key is a plain name (letters, digits, ``_`` and ``-``; at most 40): no value hides in it."""
    if key in _PLAIN_SEEN:
        return True
    if _PLAIN_KEY.fullmatch(key) is None:
        return False
    if len(_PLAIN_SEEN) < _PLAIN_SEEN_MAX:
        _PLAIN_SEEN.add(key)
    return True

# Deeper than any real request; deeper input is refused with a typed error instead of a RecursionError.
MAX_DEPTH = 128

# Keys whose string values are identifiers or settings the model does not read as text. Inside a tool call's
# input or arguments (the model's own JSON) every key is text: ``{"id": "536-22-..."}`` is checked.
STRUCTURAL_KEYS = frozenset({
    "model", "role", "type", "id", "object", "tool_call_id", "call_id", "item_id", "previous_response_id",
    "encoding_format", "stop_reason", "finish_reason", "status", "service_tier", "reasoning_effort", "detail",
    "media_type", "format", "prompt_cache_key", "safety_identifier", "truncation", "cache_control",
    "image_url", "url", "file_id", "data", "signature",
})


# Values whose every string is content: tool-call inputs and arguments, function parameters' examples.
FREE_FORM_KEYS = frozenset({"input", "arguments", "partial_json"})


@dataclass(frozen=True, slots=True)
class TextRef:
    """One string inside a JSON document, with a readable location (``messages[1].content``)."""

    path: Path

    @property
    def location(self) -> str:
        out = ""
        for key in self.path:
            if not isinstance(key, int) and not plain_key(key):
                key = "<key>"  # a key that is not a plain name may itself be a value: never shown
            out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else key)
        return out

    def get(self, doc: Any) -> str:
        node = doc
        for key in self.path:
            node = node[key]
        return str(node)

    def set(self, doc: Any, value: str) -> None:
        node = doc
        for key in self.path[:-1]:
            node = node[key]
        node[self.path[-1]] = value


def string_refs(node: Any, path: Path = (), *, skip: frozenset[str] = STRUCTURAL_KEYS, depth: int = 0) -> list[TextRef]:
    """Every string in ``node`` (depth first, document order), except values of ``skip`` keys.

    Raises ``ValidationError`` past ``MAX_DEPTH`` levels of nesting.
    """
    out: list[TextRef] = []
    _collect(node, path, skip, depth, out, None)
    return out


def texts_and_odd_keys(node: Any, skip: frozenset[str] = STRUCTURAL_KEYS) -> tuple[list[TextRef], list[str]]:
    """``string_refs(node, skip=skip)`` and ``odd_keys(node)`` from one walk (a whole body is read for both)."""
    out: list[TextRef] = []
    odd: list[str] = []
    _collect(node, (), skip, 0, out, odd)
    return out, odd


def _collect(node: Any, path: Path, skip: frozenset[str], depth: int, out: list[TextRef], odd: list[str] | None) -> None:
    # A list filled by plain recursion: this runs on every body and streamed event, where nested generators cost
    # more than the rest of the event's bookkeeping. A string child is appended in place. Nesting near
    # MAX_DEPTH takes ``_collect_deepest``, so the loops here test no depth per child. A child's exact type is
    # tested first (a parsed body holds nothing else; 18% faster on an answer than isinstance alone), and an
    # empty container holds no text (nor a key, nor nesting too deep: ``_collect_deepest`` lets it pass).
    if depth >= MAX_DEPTH:
        _collect_deepest(node, path, skip, depth, out, odd)
    elif isinstance(node, dict):
        for key, value in node.items():
            if odd is not None and key not in _PLAIN_SEEN and isinstance(key, str) and not plain_key(key):
                odd.append(key)
            kind = type(value)
            if kind is str:
                if key not in skip or _read(node, key, skip):
                    out.append(TextRef((*path, key)))
            elif kind is dict or kind is list:
                if value:
                    _collect(value, (*path, key), frozenset() if key in FREE_FORM_KEYS else skip, depth + 1, out, odd)
            elif kind not in _SCALARS and isinstance(value, (str, dict, list)) and (
                    not isinstance(value, str) or _read(node, key, skip)):  # a subclass: as its base
                _collect(value, (*path, key), frozenset() if key in FREE_FORM_KEYS else skip, depth + 1, out, odd)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            kind = type(value)
            if kind is str:
                out.append(TextRef((*path, i)))
            elif kind is dict or kind is list:
                if value:
                    _collect(value, (*path, i), skip, depth + 1, out, odd)
            elif kind not in _SCALARS and isinstance(value, (str, dict, list)):  # a subclass: as its base
                _collect(value, (*path, i), skip, depth + 1, out, odd)
    elif isinstance(node, str):
        out.append(TextRef(path))


def _read(node: dict[str, Any], key: str, skip: frozenset[str]) -> bool:
    """Whether the string under ``key`` is text the model reads: not a ``skip`` key's value, except a plain-text
    document's ``data`` (Anthropic ``source: {type: "text"}``)."""
    return key not in skip or (key == "data" and node.get("type") == "text")


_SCALARS = frozenset({int, float, bool, type(None)})  # what else a parsed body holds: no text, nothing inside


def _collect_deepest(node: Any, path: Path, skip: frozenset[str], depth: int, out: list[TextRef], odd: list[str] | None) -> None:
    """``_collect`` at MAX_DEPTH and past it, where any child the walk reads is too deep: the first one raises,
    naming where the nesting went too deep."""
    # A whole body's walk (``odd`` given) refuses what ``odd_keys`` refuses: a non-empty container at MAX_DEPTH,
    # even one whose children are all skipped values.
    if depth > MAX_DEPTH or (odd is not None and isinstance(node, (dict, list)) and node):
        raise ValidationError(f"the body is nested deeper than {MAX_DEPTH} levels at {TextRef(path).location or 'its root'}")
    if isinstance(node, str):
        out.append(TextRef(path))
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in skip and not isinstance(value, (dict, list)) and (key != "data" or node.get("type") != "text"):
                continue
            _collect(value, (*path, key), skip, depth + 1, out, odd)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _collect(value, (*path, i), skip, depth + 1, out, odd)


def odd_keys(node: Any) -> list[str]:
    """Object keys in ``node`` that are not plain names (a plain name holds no value worth a scan).

    Raises ``ValidationError`` past ``MAX_DEPTH`` levels of nesting, as ``string_refs`` does.
    """
    out: list[str] = []
    if not _odd_keys(node, 0, out):
        check_depth(node)  # a body nested too deeply: the walk that names where
        raise ValidationError(f"the body is nested deeper than {MAX_DEPTH} levels")
    return out


def _odd_keys(node: Any, depth: int, out: list[str]) -> bool:
    # False as soon as a non-empty container sits at MAX_DEPTH: its children would be deeper than allowed.
    if isinstance(node, dict):
        if depth >= MAX_DEPTH and node:
            return False
        for key, value in node.items():
            if isinstance(key, str) and key not in _PLAIN_SEEN and not plain_key(key):
                out.append(key)
            if isinstance(value, (dict, list)) and not _odd_keys(value, depth + 1, out):
                return False
    elif isinstance(node, list):
        if depth >= MAX_DEPTH and node:
            return False
        for value in node:
            if isinstance(value, (dict, list)) and not _odd_keys(value, depth + 1, out):
                return False
    return True


def check_depth(node: Any, depth: int = 0) -> None:
    """Raise ``ValidationError`` when ``node`` nests deeper than ``MAX_DEPTH``."""
    for _ in string_refs(node, skip=frozenset(), depth=depth):
        pass


__all__ = ["MAX_DEPTH", "STRUCTURAL_KEYS", "Path", "TextRef", "check_depth", "odd_keys", "string_refs",
           "texts_and_odd_keys"]
