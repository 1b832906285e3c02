"""An answer that is text but not one JSON document (a file's JSONL, CSV, plain text) is checked as it streams:
never held whole, a value split across chunks still cut, bytes that are not text passed as they came."""

from __future__ import annotations

import json

from deepsentinel.detection.engine import default_engine
from deepsentinel.errors import ComplianceViolationError
from deepsentinel.policy.actions import Action
from deepsentinel.policy.policy import DEFAULT_POLICY, CompliancePolicy
from deepsentinel.wire.body import TextBody
from deepsentinel.wire.guard import WireGuard

DEFAULT = WireGuard([DEFAULT_POLICY], default_engine())
PSEUDONYMS = WireGuard([CompliancePolicy(name="pseudonymise", entity_actions={"EMAIL_ADDRESS": Action.ANONYMIZE})],
                       default_engine())
CARD = "4111 1111 1111 " + "1111"


def _body(wire: WireGuard = DEFAULT) -> TextBody:
    return TextBody(wire, wire.check_request("/v1/files/f/content", b""), None)


def _read(body: TextBody, chunks: list[bytes]) -> tuple[list[bytes], Exception | None]:
    out = []
    for chunk in chunks:
        out.append(body.feed(chunk))
        if body.error is not None:
            return out, body.error
    out.append(body.end())
    return out, body.error


def test_a_large_file_leaves_as_it_streams_byte_for_byte() -> None:
    """Two thousand JSONL lines in 4 KB chunks: most of it leaves before the end, and all of it unchanged
    (a multi-byte character cut between chunks included)."""
    data = "".join(json.dumps({"id": n, "text": f"row {n} \u00e9t\u00e9 \u65e5\u672c"}, ensure_ascii=False) + "\n"
                   for n in range(2000)).encode()
    chunks = [data[i:i + 4096] for i in range(0, len(data), 4096)]
    out, error = _read(_body(), chunks)
    assert error is None and b"".join(out) == data
    assert sum(map(len, out[:-1])) > len(data) // 2  # released as it came, not at the end


def test_a_value_split_across_chunks_is_cut_before_it_shows() -> None:
    data = f'{{"id": 1, "note": "pay with {CARD} today"}}\n'.encode()
    out, error = _read(_body(), [data[i:i + 7] for i in range(0, len(data), 7)])
    assert isinstance(error, ComplianceViolationError) and "CREDIT_CARD in body" in str(error)
    assert "1111" not in b"".join(out).decode().replace(" ", "")


def test_an_anonymized_value_is_rewritten_in_place() -> None:
    data = b'{"id": 1, "note": "write to jane.canary@corp-example.com"}\n' * 3
    out, error = _read(_body(PSEUDONYMS), [data[:30], data[30:]])
    assert error is None and b"corp-example" not in b"".join(out) and b"<EMAIL_" in b"".join(out)
    assert [json.loads(line)["id"] for line in b"".join(out).splitlines()] == [1, 1, 1]


def test_bytes_that_are_not_text_pass_as_they_came_after_the_text_before_them_is_checked() -> None:
    """A binary file (here PDF-like: a text header, then bytes that are not UTF-8) passes unchanged. A value in
    the text held when the first such byte arrives is still found: the held text is checked whole first."""
    binary = b"%PDF-1.7 header\n" + bytes(range(128, 256)) * 40 + b"more"
    out, error = _read(_body(), [binary[i:i + 1000] for i in range(0, len(binary), 1000)])
    assert error is None and b"".join(out) == binary
    out, error = _read(_body(), [f"note {CARD}".encode(), b"\xff\xfe\x00"])
    assert isinstance(error, ComplianceViolationError) and b"1111" not in b"".join(out)
