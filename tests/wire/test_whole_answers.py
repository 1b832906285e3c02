"""A whole (non-streamed) answer: the provider's own response when the guard left its bytes alone, a response
with headers that fit the new body when it rewrote them. Sync and asyncio shells alike."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deepsentinel import AsyncSentinelClient, CompliancePolicy, SentinelClient
from deepsentinel.testing import FakeLLMServer, Reply
from deepsentinel.transport import PROVIDER_EXTENSION

from ..conftest import create, user

EMAIL = "jane.canary" + "@corp-example.com"


async def _raw_answer(client: Any) -> Any:
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=user("hello"))
    raw = await raw if hasattr(raw, "__await__") else raw
    return raw.http_response


@pytest.mark.parametrize("client_class", [SentinelClient, AsyncSentinelClient])
async def test_an_unchanged_answer_keeps_the_providers_headers(fake_server: FakeLLMServer, client_class: type) -> None:
    fake_server.enqueue(Reply(text="Mountains stand tall.", headers={"x-trace": "t-1"}))
    client = client_class(openai_api_key="k", base_url=fake_server.openai_base_url, audit=False)
    response = await _raw_answer(client)
    assert json.loads(response.content)["choices"][0]["message"]["content"] == "Mountains stand tall."
    assert response.headers["x-trace"] == "t-1"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.extensions[PROVIDER_EXTENSION] == "openai"
    assert response.elapsed.total_seconds() >= 0  # set once the SDK closed it, as on any response
    closed = client.close()
    if closed is not None:
        await closed


@pytest.mark.parametrize("client_class", [SentinelClient, AsyncSentinelClient])
async def test_a_rewritten_answer_gets_headers_that_fit_it(fake_server: FakeLLMServer, client_class: type) -> None:
    fake_server.enqueue(Reply(text=f"Write to {EMAIL} today.", headers={"x-trace": "t-2"}))
    policy = CompliancePolicy(name="mask", entity_actions={"EMAIL_ADDRESS": "anonymize"})
    client = client_class(openai_api_key="k", base_url=fake_server.openai_base_url, audit=False,
                          compliance_policies=[policy])
    response = await _raw_answer(client)
    content = json.loads(response.content)["choices"][0]["message"]["content"]
    assert EMAIL not in content and content.startswith("Write to ")
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["x-trace"] == "t-2"
    completion = await create(client, model="gpt-4o", messages=user("hello"))  # the next call still works
    assert completion.choices[0].message.content
    closed = client.close()
    if closed is not None:
        await closed
