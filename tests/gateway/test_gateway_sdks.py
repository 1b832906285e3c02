"""The official openai and anthropic SDKs against the gateway, over real HTTP, with the fake server upstream."""

from __future__ import annotations

import anthropic
import openai

from deepsentinel.testing import FakeLLMServer, Reply
from tests.gateway.conftest import CLIENT_KEY, UPSTREAM_KEY, RunningGateway

MESSAGES = [{"role": "user", "content": "Explain recursion briefly"}]


def _openai(gw: RunningGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key=CLIENT_KEY, max_retries=0)


def _anthropic(gw: RunningGateway) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0)


def test_chat_completion_goes_upstream_with_the_gateway_key(gateway: RunningGateway, fake_server: FakeLLMServer) -> None:
    """A chat completion arrives upstream with the provider key, never the client's key, and comes back whole."""
    fake_server.enqueue(Reply(text="Recursion is a function calling itself."))
    with _openai(gateway) as client:
        answer = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert answer.choices[0].message.content == "Recursion is a function calling itself."
    sent = fake_server.last_request
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert CLIENT_KEY not in str(sent.headers)


def test_streamed_chat(gateway: RunningGateway, fake_server: FakeLLMServer) -> None:
    """A streamed chat arrives as the SDK's chunks, in order."""
    fake_server.enqueue(Reply(chunks=["One", " two", " three."]))
    with _openai(gateway) as client:
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "One two three."


def test_responses_api_plain_and_streamed(gateway: RunningGateway, fake_server: FakeLLMServer) -> None:
    """The Responses API, plain and streamed, passes through the gateway."""
    fake_server.enqueue(Reply(text="Plain answer."), Reply(chunks=["Streamed", " answer."]))
    with _openai(gateway) as client:
        assert client.responses.create(model="gpt-4o-mini", input="hello").output_text == "Plain answer."
        with client.responses.stream(model="gpt-4o-mini", input="hello") as stream:
            deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
            final = stream.get_final_response()
    assert "".join(deltas) == "Streamed answer." == final.output_text


def test_embeddings_and_models(gateway: RunningGateway, fake_server: FakeLLMServer) -> None:
    """Embeddings and the model list come back as the SDK's types."""
    with _openai(gateway) as client:
        vectors = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
        models = [m.id for m in client.models.list().data]
    assert len(vectors.data) == 2 and len(vectors.data[0].embedding) > 0
    assert "gpt-4o-mini" in models
    assert fake_server.request_count("/v1/models") == 1


def test_anthropic_messages_plain_stream_and_count_tokens(gateway: RunningGateway, fake_server: FakeLLMServer) -> None:
    """messages.create, messages.stream and count_tokens through the gateway, with the gateway's Anthropic key."""
    fake_server.enqueue(Reply(text="Hi from Claude."), Reply(chunks=["Streamed", " Claude."]))
    with _anthropic(gateway) as client:
        message = client.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=MESSAGES)
        with client.messages.stream(model="claude-haiku-4-5", max_tokens=64, messages=MESSAGES) as stream:
            text = "".join(stream.text_stream)
        tokens = client.messages.count_tokens(model="claude-haiku-4-5", messages=MESSAGES)
    assert message.content[0].type == "text" and message.content[0].text == "Hi from Claude."
    assert text == "Streamed Claude."
    assert tokens.input_tokens > 0
    sent = fake_server.last_request
    assert sent.path == "/v1/messages/count_tokens" and sent.headers["x-api-key"] == UPSTREAM_KEY


def test_claude_model_through_the_openai_api_is_translated(gateway: RunningGateway, fake_server: FakeLLMServer) -> None:
    """Routing as in the SDK: a Claude model called through chat completions goes to Anthropic's API."""
    fake_server.enqueue(Reply(chunks=["Routed", " answer."]))
    with _openai(gateway) as client:
        stream = client.chat.completions.create(model="claude-haiku-4-5", messages=MESSAGES, stream=True)
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Routed answer."
    assert fake_server.last_request.path == "/v1/messages"


def test_transcriptions_through_the_gateway_are_guarded(gateway: RunningGateway, fake_server: FakeLLMServer) -> None:
    """A transcription (a form, not JSON) passes through the gateway, whole and streamed; a card in a
    transcript is cut there as in any answer."""
    audio = ("a.wav", b"RIFF....WAVE")
    fake_server.enqueue(Reply(text="The meeting starts at noon."), Reply(chunks=["The meeting ", "starts at noon."]),
                        Reply(chunks=["my card is 4111 1111 ", "1111 1111 ok"]))
    with _openai(gateway) as client:
        assert client.audio.transcriptions.create(file=audio, model="whisper-1").text == "The meeting starts at noon."
        events = list(client.audio.transcriptions.create(file=audio, model="gpt-4o-transcribe", stream=True))
        assert events[-1].type == "transcript.text.done" and events[-1].text == "The meeting starts at noon."
        shown = ""
        try:
            for event in client.audio.transcriptions.create(file=audio, model="gpt-4o-transcribe", stream=True):
                shown += getattr(event, "delta", "")
        except openai.APIError:
            pass  # the gateway ends the stream with an error event in the provider's format
    assert "1111 1111" not in shown
