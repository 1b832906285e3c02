"""A chat request in a shape the format does not have still has every text a provider may show the model read:
a role no API defines, a ``content`` or ``messages`` that is an object. Errors about such shapes never quote
what no check has read."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deepsentinel.detection.engine import default_engine
from deepsentinel.errors import ComplianceViolationError, ValidationError
from deepsentinel.policy.actions import Action
from deepsentinel.policy.policy import DEFAULT_POLICY, CompliancePolicy
from deepsentinel.providers.anthropic_request import translate_messages
from deepsentinel.wire.guard import WireGuard
from deepsentinel.wire.inline_files import form_field

GUARD = WireGuard([DEFAULT_POLICY], default_engine())
SSN = "536-22-" + "1234"


@pytest.mark.parametrize("messages", [
    [{"role": f"my ssn is {SSN}", "content": "hi"}],
    [{"role": "user", "content": {"data": SSN}}],
    [{"role": "user", "content": {"type": SSN}}],
    [{"role": "user", "content": {"url": f"card 4111 1111 1111 {1111}"}}],
    {"id": SSN},
], ids=["role", "content-data", "content-type", "content-url", "messages-object"])
def test_a_value_in_an_unusual_shape_is_blocked(messages: Any) -> None:
    with pytest.raises(ComplianceViolationError):
        GUARD.check_request("/v1/chat/completions", json.dumps({"model": "m", "messages": messages}).encode())


def test_usual_settings_stay_unread_and_odd_ones_pass() -> None:
    """A known role or a content part's type is a setting, not text; an unknown role that holds nothing goes."""
    body = {"model": "m", "messages": [{"role": "wizard", "content": [{"type": "text", "text": "hi"}]},
                                       {"role": "user", "content": "hello"}]}
    check = GUARD.check_request("/v1/chat/completions", json.dumps(body).encode())
    assert set(check.texts) == {"wizard", "hi", "hello"}


def test_an_error_about_a_setting_quotes_only_a_plain_name() -> None:
    with pytest.raises(ValidationError, match="role 'wizard'"):
        translate_messages([{"role": "wizard", "content": "hi"}])
    with pytest.raises(ValidationError) as caught:
        translate_messages([{"role": f"my ssn is {SSN}", "content": "hi"}])
    assert SSN not in str(caught.value) and "(a str)" in str(caught.value)
    with pytest.raises(ValidationError, match="tool_calls must be a list"):
        translate_messages([{"role": "user", "content": "hi"}, {"role": "assistant", "tool_calls": 5}])


def test_a_forms_field_is_found_by_its_exact_name() -> None:
    form = (b'--b\r\nContent-Disposition: form-data; name="Stream"\r\n\r\ntrue\r\n'
            b'--b\r\nContent-Disposition: form-data; name="stream"\r\n\r\nfalse\r\n--b--\r\n')
    assert form_field(form, "stream") == "false"
    assert form_field(b"not a form", "stream") is None


PSEUDONYMS = WireGuard([CompliancePolicy(name="p", entity_actions={"EMAIL_ADDRESS": Action.ANONYMIZE})],
                       default_engine())


def _sent(body: Any) -> Any:
    return json.loads(PSEUDONYMS.check_request("/v1/chat/completions", json.dumps(body).encode()).body)


def test_an_object_shaped_content_is_rewritten_once_and_keeps_its_settings() -> None:
    """Read by both the walk and the unusual-shape pass, a text was rewritten twice and the seams between the
    copies swallowed the part's ``type``."""
    sent = _sent({"model": "m", "messages": [{"role": "user", "content": {
        "type": "text", "text": "mail john@example.com and amy@example.org"}}]})
    assert sent["messages"][0]["content"] == {"type": "text", "text": "mail <EMAIL_1> and <EMAIL_2>"}


@pytest.mark.parametrize("split", ["messages", "parts"])
def test_a_value_that_ends_one_text_does_not_run_on_into_the_next(split: str) -> None:
    """Texts are read joined, for values split between them; a whole email at the end of one text is not one
    that goes on into the next ("amy@example.org" + "thanks"): the next text is sent as it was."""
    if split == "messages":
        messages = [{"role": "user", "content": "mail amy@example.org"}, {"role": "user", "content": "thanks"}]
    else:
        messages = [{"role": "user", "content": [{"type": "text", "text": "mail amy@example.org"},
                                                 {"type": "text", "text": "thanks"}]}]
    assert "thanks" in json.dumps(_sent({"model": "m", "messages": messages}))
    half = [{"role": "user", "content": "mail amy@exa"}, {"role": "user", "content": "mple.org today"}]
    assert "amy@exa" not in json.dumps(_sent({"model": "m", "messages": half}))  # a split one is still found
