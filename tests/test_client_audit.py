"""Every decision the client makes leaves exactly one audit event, with no raw values, and feeds metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepsentinel import ComplianceViolationError, ProviderError
from deepsentinel.audit.events import AuditEvent, Outcome
from deepsentinel.testing import FakeLLMServer, Reply
from tests.conftest import close, collect, create, drain_text, user

SSN = "123-45-" + "6789"
CARD = "4111 1111 " + "1111 1111"


async def test_each_outcome_is_one_event_in_the_chained_store(make_client, fake_server: FakeLLMServer, tmp_path: Path) -> None:
    """Allowed, blocked request, blocked response, terminated stream and provider error: one row each."""
    db = tmp_path / "trail.sqlite3"
    client = make_client(audit=str(db))
    seen: list[AuditEvent] = []
    client.monitor.on("violation_detected", seen.append)

    await create(client, model="gpt-4o", messages=user("hello"))
    with pytest.raises(ComplianceViolationError):
        await create(client, model="gpt-4o", messages=user(f"my ssn is {SSN}"))
    fake_server.enqueue(Reply(text=f"card {CARD}"))
    with pytest.raises(ComplianceViolationError):
        await create(client, model="gpt-4o", messages=user("card?"))
    fake_server.enqueue(Reply(chunks=["Number: ", CARD[:7], CARD[7:], " ok"]))
    stream = await create(client, model="gpt-4o", messages=user("number?"), stream=True)
    with pytest.raises(ComplianceViolationError):
        await drain_text(stream, [])
    with pytest.raises(ProviderError):
        await create(client, model="non-existent-model", messages=user("hi"))
    await collect(await create(client, model="gpt-4o", messages=user("stream please"), stream=True))

    log = client.audit
    events = sorted(log.list(), key=lambda e: e.timestamp)
    assert [e.outcome for e in events] == [
        Outcome.ALLOWED, Outcome.BLOCKED, Outcome.BLOCKED, Outcome.STREAM_TERMINATED,
        Outcome.PROVIDER_ERROR, Outcome.ALLOWED,
    ]
    assert [e.direction for e in events[1:4]] == ["request", "response", "response"]
    assert events[1].finding_counts() == {"US_SSN": 1}
    assert events[2].finding_counts() == {"CREDIT_CARD": 1} and events[3].finding_counts() == {"CREDIT_CARD": 1}
    assert events[3].streamed and events[5].streamed and events[5].chunks > 0
    assert events[4].error_type == "NotFoundError"  # a ProviderError, and the openai SDK's own
    assert log.verify().ok
    assert len(seen) == 3  # the three violations, in real time
    snapshot = client.metrics.snapshot()
    assert snapshot  # the collector saw the calls
    assert b"deepsentinel" in client.metrics.to_prometheus()

    await close(client)
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("trail.sqlite3*"))
    for secret in (SSN, CARD, CARD.replace(" ", "")):
        assert secret.encode() not in raw


async def test_stored_prompt_text_is_opt_in_and_fully_redacted(make_client, fake_server: FakeLLMServer, sink) -> None:
    """store_anonymized_text keeps the prompt's shape with every finding redacted, logged ones included."""
    from deepsentinel import SentinelConfig

    email = "jane@" + "example.com"
    await create(make_client(), model="gpt-4o", messages=user(f"Write to {email} today"))
    await create(make_client(config=SentinelConfig(store_anonymized_text=True)), model="gpt-4o",
                 messages=user(f"Write to {email} today"))
    off, on = sink.events
    assert off.anonymized_text is None
    assert on.anonymized_text == "Write to [EMAIL_ADDRESS] today"
    assert fake_server.request_count() == 2 and email in str(fake_server.last_request.json)  # logged, not altered
