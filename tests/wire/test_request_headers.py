"""The transport reads a request's headers by lower-case name, whatever case and repetition the caller used."""

from __future__ import annotations

import httpx2

from deepsentinel.transport import _lowered


def test_headers_are_read_by_lower_case_name() -> None:
    headers = httpx2.Headers([("X-DeepSentinel-Provider", "anthropic"), ("Authorization", "Bearer sk-1"),
                              ("Content-Type", "application/json")])
    assert _lowered(headers) == {"x-deepsentinel-provider": "anthropic", "authorization": "Bearer sk-1",
                                 "content-type": "application/json"}


def test_a_header_sent_twice_keeps_both_values() -> None:
    """As ``Headers.items()`` gives them: joined, in order (a dict built pair by pair would keep the last)."""
    headers = httpx2.Headers([("X-Trace", "a"), ("x-trace", "b"), ("Accept", "*/*")])
    assert _lowered(headers) == {"x-trace": "a, b", "accept": "*/*"}


def test_bytes_outside_ascii_are_read_not_refused() -> None:
    headers = httpx2.Headers([(b"X-Note", "café".encode())])
    assert _lowered(headers) == {"x-note": "café".encode().decode("latin-1")}
