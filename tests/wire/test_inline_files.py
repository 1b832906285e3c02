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


def _upload(client: Any, content: bytes, name: str = "report.pdf") -> None:
    import openai

    with pytest.raises(openai.APIStatusError):  # the fake server takes no uploads: reaching it is the point
        client.files.create(file=(name, content, "application/pdf"), purpose="assistants")


def test_a_binary_upload_is_sent_and_its_printable_text_still_checked(fake_server: FakeLLMServer) -> None:
    """Uploads go out as they are. A PDF's compressed bytes once went through UTF-8 "with replacement" (seconds
    for a large file); now only its printable runs are read, so text it carries is still found."""
    from deepsentinel import SentinelClient

    client = SentinelClient(openai_api_key="k", base_url=fake_server.openai_base_url, audit=False, max_retries=0)
    pdf = b"%PDF-1.7\n" + random.Random(5).randbytes(200_000)
    _upload(client, pdf)
    [sent] = fake_server.requests
    assert pdf in sent.body
    with pytest.raises(ComplianceViolationError):
        client.files.create(file=("r.pdf", pdf + f"BT (SSN {SSN}) Tj ET".encode() + pdf[:50], "application/pdf"),
                            purpose="assistants")
    with pytest.raises(ComplianceViolationError):
        client.files.create(file=("notes.txt", f"call {SSN}".encode(), "text/plain"), purpose="assistants")
    assert len(fake_server.requests) == 1
    client.close()
