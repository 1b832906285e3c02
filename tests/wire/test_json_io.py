"""The wire's JSON parser: where it says it read a body as ``json.loads`` would, the objects are the same."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from deepsentinel.wire.json_io import parse

_SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
            | st.floats(allow_nan=False) | st.text())
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                       max_leaves=20)


def _same(a: Any, b: Any) -> bool:
    """Equal, of the same types all the way down (1 and 1.0 and True differ; -0.0 and 0.0 too)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return bool(a == b)


@settings(max_examples=300, deadline=None)
@given(_VALUES, st.booleans(), st.booleans())
@example({"a": 1, "b": [1.5e300, -0.0, 10**25]}, True, False)
def test_a_native_parse_gives_what_json_loads_gives(value: Any, ascii_only: bool, spaced: bool) -> None:
    data = json.dumps(value, ensure_ascii=ascii_only, separators=(", ", ": ") if spaced else (",", ":")).encode()
    parsed, exact = parse(data)
    if exact:
        assert _same(parsed, json.loads(data))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(['{"a":1,"a":[2]}', '"\\ud83d\\ude00"', "1e999", "-0", "[1E2]", '"\\u00e9"']),
                min_size=1, max_size=3))
def test_duplicate_keys_surrogate_pairs_and_huge_numbers_read_alike(parts: list[str]) -> None:
    data = ("[" + ",".join(parts) + "]").encode()
    parsed, exact = parse(data)
    assert exact and _same(parsed, json.loads(data))


def test_what_only_the_standard_library_reads_is_not_called_exact() -> None:
    for data in (b"NaN", b"[Infinity]", b'"\xed\xa0\x80"', b"\xef\xbb\xbf{}"):
        parsed, exact = parse(data)
        assert not exact
