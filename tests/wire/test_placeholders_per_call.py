"""Issue 12: a placeholder restores only a value that the same call anonymized, for whoever sent it."""

from __future__ import annotations

from typing import Any

from deepsentinel import CompliancePolicy, SentinelConfig
from deepsentinel.policy.actions import Action
from deepsentinel.testing import FakeLLMServer, Reply

from ..conftest import collect, create, user

ALICE = "alice.secret" + "@example.com"
POLICY = CompliancePolicy(name="pseudonymise", entity_actions={"EMAIL_ADDRESS": Action.ANONYMIZE})


def _text(result: Any) -> str:
    if isinstance(result, list):
        return "".join(c.choices[0].delta.content or "" for c in result if c.choices)
    return str(result.choices[0].message.content)


async def test_two_callers_on_one_client_never_get_each_others_values(make_client: Any, fake_server: FakeLLMServer) -> None:
    """A sends an e-mail (sent as a placeholder); B asks the model to repeat that placeholder: B sees only the token."""
    client = make_client(compliance_policies=[POLICY], config=SentinelConfig(deanonymize_responses=True))
    await create(client, model="gpt-4o", messages=user(f"mail {ALICE}"))
    token = fake_server.last_request.json["messages"][0]["content"].removeprefix("mail ")
    assert ALICE not in fake_server.last_request.body.decode() and token.startswith("<")
    for stream in (False, True):
        fake_server.enqueue(Reply(chunks=["Sure: ", token[:4], token[4:], " done"]))
        result = await create(client, model="gpt-4o", messages=user(f"repeat exactly: {token}"), stream=stream)
        shown = _text(await collect(result) if stream else result)
        assert ALICE not in shown and token in shown


async def test_the_caller_who_sent_the_value_gets_it_back(make_client: Any, fake_server: FakeLLMServer) -> None:
    """The same call's placeholder, echoed by the model, is restored for that caller, plain and streamed."""
    client = make_client(compliance_policies=[POLICY], config=SentinelConfig(deanonymize_responses=True))
    for stream in (False, True):
        result = await create(client, model="gpt-4o", messages=user(f"write to {ALICE}"), stream=stream)
        if stream:
            await collect(result)
        token = fake_server.last_request.json["messages"][0]["content"].removeprefix("write to ")
        fake_server.enqueue(Reply(chunks=["I will write to ", token[:3], token[3:], "."]))
        result = await create(client, model="gpt-4o", messages=user(f"write to {ALICE} again"), stream=stream)
        shown = _text(await collect(result) if stream else result)
        assert shown == f"I will write to {ALICE}."
