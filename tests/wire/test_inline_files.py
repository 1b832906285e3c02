"""Files sent inline (``file_data``): a text file is checked as its text; a PDF is neither scanned nor touched."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import pytest

from deepsentinel import CompliancePolicy
from deepsentinel.errors import ComplianceViolationError
from deepsentinel.testing import FakeLLMServer
from tests.conftest import create

SSN = "536-22-" + "1234"
EMAIL = "jane.doe@" + "example.com"


def data_url(media: str, payload: bytes) -> str:
    return f"data:{media};base64," + base64.b64encode(payload).decode()


def chat_file(file_data: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"type": "text", "text": "Summarise the attachment."},
                                         {"type": "file", "file": {"filename": "notes", "file_data": file_data}}]}]


async def test_a_text_file_with_an_ssn_is_blocked_before_sending(make_client, fake_server: FakeLLMServer) -> None:
    with pytest.raises(ComplianceViolationError) as caught:
        await create(make_client(), model="gpt-4o", messages=chat_file(data_url("text/plain", f"SSN {SSN}".encode())))
    assert fake_server.requests == [] and SSN not in str(caught.value)
    assert "file_data" in str(caught.value)


async def test_a_text_file_declared_as_a_pdf_is_still_read(make_client, fake_server: FakeLLMServer) -> None:
    """Its bytes decide, not its label: calling notes a PDF does not hide them."""
    with pytest.raises(ComplianceViolationError):
        await create(make_client(), model="gpt-4o",
                     messages=chat_file(data_url("application/pdf", f"SSN {SSN}".encode())))
    assert fake_server.requests == []


async def test_a_binary_file_goes_out_byte_for_byte_and_unscanned(make_client, fake_server: FakeLLMServer) -> None:
    """Random base64 reads as UK postcodes here and there: an anonymizing policy once rewrote them in the file."""
    policy = CompliancePolicy(name="mask", entity_actions={"UK_POSTCODE": "anonymize"})
    pdf = data_url("application/pdf", b"%PDF-1.7\n" + random.Random(3).randbytes(300_000))
    await create(make_client(compliance_policies=[policy]), model="gpt-4o", messages=chat_file(pdf))
    sent = json.loads(fake_server.last_request.body)
    assert sent["messages"][0]["content"][1]["file"]["file_data"] == pdf


async def test_an_anonymized_csv_is_sent_back_as_a_valid_file(make_client, fake_server: FakeLLMServer) -> None:
    policy = CompliancePolicy(name="mask", block_on_violation=False, entity_actions={"EMAIL_ADDRESS": "anonymize"})
    csv = f"name,email\nJane,{EMAIL}\n"
    client = make_client(compliance_policies=[policy])
    result = client.responses.create(model="gpt-4o", input=[{"role": "user", "content": [
        {"type": "input_text", "text": "Count the rows."},
        {"type": "input_file", "filename": "people.csv", "file_data": data_url("text/csv", csv.encode())}]}])
    if hasattr(result, "__await__"):
        await result
    sent = json.loads(fake_server.last_request.body)["input"][0]["content"][1]["file_data"]
    assert sent.startswith("data:text/csv;base64,")
    text = base64.b64decode(sent.split(",", 1)[1]).decode()
    assert text == "name,email\nJane,<EMAIL_1>\n"


async def test_a_data_url_typed_into_a_message_is_text_like_any_other(make_client, fake_server: FakeLLMServer) -> None:
    with pytest.raises(ComplianceViolationError):
        await create(make_client(), model="gpt-4o",
                     messages=[{"role": "user", "content": f"data:image/png;base64, my SSN is {SSN}"}])
    assert fake_server.requests == []
