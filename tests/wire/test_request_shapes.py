"""A chat request in a shape the format does not have still has every text a provider may show the model read:
a role no API defines, a ``content`` or ``messages`` that is an object. Errors about such shapes never quote
what no check has read."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deepsentinel.detection.engine import default_engine
from deepsentinel.errors import ComplianceViolationError, ValidationError
from deepsentinel.policy.policy import DEFAULT_POLICY
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
