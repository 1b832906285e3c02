"""Answers that are not text (text-to-speech audio, file bytes) arrive byte for byte; text answers are checked."""

from __future__ import annotations

import json
import random

import openai
import pytest

import deepsentinel
from deepsentinel import SentinelClient
from deepsentinel.errors import ComplianceViolationError
from deepsentinel.sentinel import Sentinel
from deepsentinel.testing import FakeLLMServer

SPEECH = {"model": "tts-1", "voice": "alloy", "input": "The quarterly review is ready for you."}


def test_speech_through_a_guarded_client_is_the_raw_clients_audio(fake_server: FakeLLMServer) -> None:
    """Decoded "with replacement" and encoded back, an MP3 once grew from 7 KB to 12 KB of noise."""
    raw = openai.OpenAI(api_key="k", base_url=fake_server.openai_base_url).audio.speech.create(**SPEECH).content
    assert raw.startswith(b"ID3")
    for client in (SentinelClient(openai_api_key="k", base_url=fake_server.openai_base_url, audit=False),
                   deepsentinel.protect(openai.OpenAI(api_key="k", base_url=fake_server.openai_base_url), audit=False)):
        assert client.audio.speech.create(**SPEECH).content == raw
        with client.audio.speech.with_streaming_response.create(**SPEECH) as streamed:
            assert b"".join(streamed.iter_bytes(1024)) == raw
        client.close()


def test_a_binary_body_of_any_type_is_passed_unchanged() -> None:
    guard = Sentinel(audit=False).guard
    check = guard.check_request("/v1/files/file-1/content", b"")
    data = b"%PDF-1.7\n" + random.Random(2).randbytes(4000)
    out, decision = guard.check_response(check, data)
    assert out is data and not decision.violations


def test_a_text_body_that_is_not_json_is_still_checked() -> None:
    """A JSONL batch output or a text file read back: model text, checked as text."""
    guard = Sentinel(audit=False).guard
    check = guard.check_request("/v1/files/file-1/content", b"")
    lines = [json.dumps({"custom_id": "a", "response": {"body": {"text": "SSN 536-22-" + "1234"}}}) for _ in range(2)]
    with pytest.raises(ComplianceViolationError):
        guard.check_response(check, "\n".join(lines).encode())
    safe = b"just some words\nand more words\n"
    assert guard.check_response(check, safe)[0] is safe


def test_a_generated_image_is_the_raw_clients_image_under_an_anonymizing_policy(fake_server: FakeLLMServer) -> None:
    """Its base64 once read as UK postcodes here and there, and a policy anonymizing them rewrote the image."""
    from deepsentinel import CompliancePolicy

    kwargs = {"model": "gpt-image-1", "prompt": "a lighthouse at dusk", "n": 2}
    raw = openai.OpenAI(api_key="k", base_url=fake_server.openai_base_url).images.generate(**kwargs)
    policy = CompliancePolicy(name="mask", entity_actions={"UK_POSTCODE": "anonymize"})
    client = SentinelClient(openai_api_key="k", base_url=fake_server.openai_base_url, audit=False,
                            compliance_policies=[policy])
    guarded = client.images.generate(**kwargs)
    assert [d.b64_json for d in guarded.data] == [d.b64_json for d in raw.data]
    assert all(d.b64_json and len(d.b64_json) > 60_000 for d in raw.data)
    client.close()
