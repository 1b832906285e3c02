"""One walk over a request body finds its odd keys and refuses deep nesting: it must refuse exactly what the
full walk over every string refuses, or a body would pass unchecked (or a valid one be refused)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepsentinel.errors import ValidationError
from deepsentinel.wire.texts import (
    MAX_DEPTH,
    STRUCTURAL_KEYS,
    check_depth,
    odd_keys,
    string_refs,
    texts_and_odd_keys,
)

_LEAVES = st.sampled_from([None, 1, "text", {}, [], {"k": 1}, ["x"], {"a b": "v"}, {"type": "x"}])


def _nest(depth: int, leaf: Any, wrappers: list[bool]) -> Any:
    node = leaf
    for i in range(depth):
        node = {"key": node} if wrappers[i % len(wrappers)] else [node]
    return node


def _refused(check: Any, node: Any) -> bool:
    try:
        check(node)
    except ValidationError:
        return True
    return False


@given(depth=st.integers(MAX_DEPTH - 3, MAX_DEPTH + 3), leaf=_LEAVES, wrappers=st.lists(st.booleans(), min_size=1, max_size=4))
def test_odd_keys_refuses_exactly_the_bodies_the_full_walk_refuses(depth: int, leaf: Any, wrappers: list[bool]) -> None:
    node = _nest(depth, leaf, wrappers)
    assert _refused(odd_keys, node) == _refused(check_depth, node)


def test_the_refusal_names_where_the_nesting_went_too_deep() -> None:
    node = _nest(MAX_DEPTH + 1, "x", [True])
    with pytest.raises(ValidationError, match=r"nested deeper than 128 levels at key\.key"):
        odd_keys(node)


def test_odd_keys_are_found_at_every_level_within_the_limit() -> None:
    node = {"a b": [{"plain": {"x=1": 2}}], "ok": {"also ok": None}}
    assert odd_keys(node) == ["a b", "x=1", "also ok"]


def test_odd_keys_stay_found_after_many_fresh_plain_keys() -> None:
    """Plain keys are remembered (bounded) to spare a regex per key; a flood of them changes no verdict."""
    flood = {f"field_{i}": i for i in range(10_000)}
    assert odd_keys(flood) == []
    assert odd_keys({**flood, "ssn 536-22-1234": 1, "field_3": 2}) == ["ssn 536-22-1234"]
    assert odd_keys({f"k{i} x": 0 for i in range(3)}) == ["k0 x", "k1 x", "k2 x"]
    assert odd_keys({"a" * 41: 0, "a" * 40: 0}) == ["a" * 41]  # longer than a plain name may be


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["role", "content", "id", "data", "type", "input", "a b", "x=1", "ok"])
                      | st.text(max_size=4), inner, max_size=4),
    max_leaves=30,
)


@given(node=_JSON, skip=st.sampled_from([STRUCTURAL_KEYS, frozenset(), frozenset({"content"})]))
def test_one_walk_finds_what_the_two_walks_find(node: Any, skip: frozenset[str]) -> None:
    """The guard reads a body's texts and its odd keys in one walk: the same as each walk alone."""
    refs, keys = texts_and_odd_keys(node, skip)
    assert refs == string_refs(node, skip=skip)
    assert keys == odd_keys(node)


@given(depth=st.integers(MAX_DEPTH - 2, MAX_DEPTH + 2), leaf=_LEAVES, wrappers=st.lists(st.booleans(), min_size=1, max_size=4))
def test_the_one_walk_refuses_what_the_full_walk_refuses(depth: int, leaf: Any, wrappers: list[bool]) -> None:
    node = _nest(depth, leaf, wrappers)
    assert _refused(texts_and_odd_keys, node) == _refused(check_depth, node)


class _Str(str):
    pass


class _Dict(dict):  # type: ignore[type-arg]
    pass


class _List(list):  # type: ignore[type-arg]
    pass


def _reference(node: Any, path: tuple[Any, ...], skip: frozenset[str]) -> list[tuple[Any, ...]]:
    """Every string's path, plainly: what the walk must find (its fast paths test exact types first)."""
    if isinstance(node, str):
        return [path]
    found: list[tuple[Any, ...]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and key in skip and not (key == "data" and node.get("type") == "text"):
                continue
            found += _reference(value, (*path, key), frozenset() if key in ("input", "arguments", "partial_json") else skip)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _reference(value, (*path, i), skip)
    return found


_KEYS = st.sampled_from(["content", "role", "data", "type", "input", "id", "a b"])
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.sampled_from(["text", "x"])
_BODIES = st.recursive(
    _SCALARS | st.builds(_Str, st.sampled_from(["sub", "text"])),
    lambda inner: (st.lists(inner, max_size=3) | st.lists(inner, max_size=3).map(_List)
                   | st.dictionaries(_KEYS, inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4).map(_Dict)),
    max_leaves=15)


@given(_BODIES, st.sampled_from([STRUCTURAL_KEYS, frozenset()]))
def test_the_walk_finds_every_string_a_plain_walk_finds_subclasses_too(node: Any, skip: frozenset[str]) -> None:
    assert [ref.path for ref in string_refs(node, skip=skip)] == _reference(node, (), skip)
    assert [ref.path for ref in texts_and_odd_keys(node, skip)[0]] == _reference(node, (), skip)
