"""Defects a hostile review of the lead's wire changes (jiter/orjson, string_refs, ``start=``) found, end to end
where the seam is the client."""

from __future__ import annotations

import jiter
import pytest

from deepsentinel import CompliancePolicy, ComplianceViolationError
from deepsentinel.detection.findings import Category
from deepsentinel.errors import ValidationError
from deepsentinel.policy.actions import Action
from deepsentinel.testing import FakeLLMServer, Reply
from deepsentinel.wire.json_io import loads
from deepsentinel.wire.texts import MAX_DEPTH, string_refs
from tests.conftest import collect, create, drain_text, user

CLAUDE = "claude-3-haiku-20240307"


def _text(chunks: list) -> str:  # type: ignore[type-arg]
    return "".join(c.choices[0].delta.content or "" for c in chunks)


@pytest.mark.parametrize("model", ["gpt-4o", CLAUDE])
@pytest.mark.parametrize("escaped_t", ["&#116;", "%74", "\\u0074"])
async def test_an_escaped_at_in_a_stream_never_shows_the_e_mail(make_client, fake_server: FakeLLMServer, model: str,
                                                                escaped_t: str) -> None:
    """"bob a" then an escaped "t" split over two deltas: no part of the e-mail reaches the caller, anonymized or
    cut (main showed "bob at example " and then the placeholder for "dot org")."""
    first, rest = escaped_t[:-2], escaped_t[-2:]
    fake_server.enqueue(Reply(chunks=["Mail bob a" + first, rest, " example", " dot", " org. Thanks"]))
    policy = CompliancePolicy(name="mask", category_actions={Category.PII: Action.ANONYMIZE},
                              anonymization_strategy="redact")
    text = _text(await collect(await create(make_client(compliance_policies=[policy]), model=model,
                                            messages=user("mail?"), stream=True)))
    assert text.startswith("Mail ") and text.endswith(". Thanks")
    assert "bob" not in text and "example" not in text


async def test_an_escaped_at_in_a_blocked_stream_shows_nothing_of_it(make_client, fake_server: FakeLLMServer) -> None:
    """The same stream under a blocking policy: cut before any of the e-mail is shown."""
    fake_server.enqueue(Reply(chunks=["Mail bob a&#1", "16;", " example", " dot", " org. Thanks"]))
    policy = CompliancePolicy(name="block", category_actions={Category.PII: Action.BLOCK})
    shown: list[str] = []
    stream = await create(make_client(compliance_policies=[policy]), model="gpt-4o", messages=user("mail?"), stream=True)
    with pytest.raises(ComplianceViolationError):
        await drain_text(stream, shown)
    assert "".join(shown) == "Mail "


def test_string_refs_refuses_a_read_as_text_value_past_the_depth_limit_as_before() -> None:
    """A text document's ``data`` is read even though ``data`` is structural; one level too deep it was refused
    (ValidationError) by the generator version, whatever its type. The list version skipped a non-string one."""
    node: object = {"type": "text", "data": 1}
    for _ in range(MAX_DEPTH):
        node = [node]
    with pytest.raises(ValidationError, match="nested deeper"):
        string_refs(node)


def test_parsing_a_body_keeps_none_of_its_keys_after_the_request() -> None:
    """An object key can be a value (the guard checks odd keys for that reason); jiter's key cache is process-wide
    and would keep it after the request, against json_io's own rule (main cached keys)."""
    jiter.cache_clear()
    assert loads(b'{"customer 536-22-' + b'1234": {"note": "x"}}') == {"customer 536-22-1234": {"note": "x"}}
    assert jiter.cache_usage() == 0
