"""Which API a path belongs to decides how its body is read, routed and named."""

from __future__ import annotations

import openai
import pytest

from deepsentinel import SentinelClient
from deepsentinel.errors import ComplianceViolationError
from deepsentinel.testing import FakeLLMServer


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks the Assistants API deprecated
def test_an_assistants_thread_message_is_an_openai_call(fake_server: FakeLLMServer) -> None:
    """/v1/threads/{id}/messages ends in "/messages" like Anthropic's endpoint: it was checked, routed and
    named as an Anthropic call ("[anthropic 404]")."""
    client = SentinelClient(openai_api_key="k", base_url=fake_server.openai_base_url, audit=False, max_retries=0)
    with pytest.raises(openai.NotFoundError) as caught:  # the fake server has no Assistants API
        client.beta.threads.messages.create(thread_id="thread_abc", role="user", content="hello there")
    assert "anthropic" not in str(caught.value)
    assert "anthropic-version" not in fake_server.last_request.headers
    with pytest.raises(ComplianceViolationError):
        client.beta.threads.messages.create(thread_id="thread_abc", role="user", content="my SSN is 536-22-" + "1234")
    assert len(fake_server.requests) == 1
    client.close()
