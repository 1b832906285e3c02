"""The fake server driven by the official ``openai`` SDK: chat (JSON and SSE), tools, embeddings, models."""

from __future__ import annotations

import base64
import json
import math
import struct
from collections.abc import Iterator

import openai
import pytest

from deepsentinel.testing import FakeLLMServer, Reply, ToolCall, Usage

MODEL = "gpt-4o-mini"


@pytest.fixture
def client(fake_server: FakeLLMServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=fake_server.openai_base_url, api_key="test", max_retries=0) as built:
        yield built


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_default_reply_is_safe_prose_about_the_topic(client: openai.OpenAI) -> None:
    """An unscripted prompt gets several digit-free sentences naming the prompt's plain words."""
    completion = client.chat.completions.create(model=MODEL, messages=user("explain photosynthesis to Alice 555"))
    text = completion.choices[0].message.content or ""
    assert "photosynthesis" in text
    assert "Alice" not in text and not any(ch.isdigit() for ch in text)
    assert text.count(". ") >= 3
    assert completion.object == "chat.completion" and completion.model == MODEL
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens


def test_stream_matches_the_json_reply_in_word_sized_deltas(client: openai.OpenAI) -> None:
    """Streaming gives a role chunk, one word per delta and a final chunk with finish_reason."""
    whole = client.chat.completions.create(model=MODEL, messages=user("tell me about rivers"))
    with client.chat.completions.create(model=MODEL, messages=user("tell me about rivers"), stream=True) as stream:
        chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content for c in chunks[1:-1]]
    assert "".join(p or "" for p in pieces) == whole.choices[0].message.content
    assert all(p and len(p.split()) == 1 for p in pieces)
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)


def test_scripted_chunks_arrive_exactly_as_given(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """A reply's chunks are the content deltas, one for one (a number can be split anywhere)."""
    parts = ["Card 4111 11", "11 1111 ", "1111 ok"]
    fake_server.enqueue(Reply(chunks=parts))
    with client.chat.completions.create(model=MODEL, messages=user("hi"), stream=True) as stream:
        deltas = [c.choices[0].delta.content for c in stream if c.choices[0].delta.content]
    assert deltas == parts


def test_include_usage_adds_a_final_chunk_with_empty_choices(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """stream_options.include_usage ends the stream with a usage-only chunk carrying the scripted counts."""
    fake_server.enqueue(Reply(chunks=["a", "b"], usage=Usage(prompt_tokens=7, completion_tokens=2)))
    with client.chat.completions.create(
        model=MODEL, messages=user("hi"), stream=True, stream_options={"include_usage": True}
    ) as stream:
        chunks = list(stream)
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (7, 2)
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks[:-1])


def test_n_choices_have_their_own_indexes(client: openai.OpenAI) -> None:
    """n=2 gives two choices, indexed 0 and 1, in JSON and interleaved in a stream."""
    completion = client.chat.completions.create(model=MODEL, messages=user("hi"), n=2)
    assert [c.index for c in completion.choices] == [0, 1]
    texts: dict[int, str] = {0: "", 1: ""}
    finished: list[int] = []
    with client.chat.completions.create(model=MODEL, messages=user("hi"), n=2, stream=True) as stream:
        for chunk in stream:
            choice = chunk.choices[0]
            texts[choice.index] += choice.delta.content or ""
            if choice.finish_reason:
                finished.append(choice.index)
    assert texts[0] == texts[1] == completion.choices[0].message.content
    assert sorted(finished) == [0, 1]


def test_tool_calls_in_json_and_streamed_argument_deltas(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """A tool-call reply has tool_calls and finish_reason tool_calls; streamed, the arguments come in deltas."""
    call = ToolCall(name="get_weather", arguments='{"city": "Paris", "unit": "celsius"}', id="call_abc")
    fake_server.enqueue(Reply(tool_calls=[call]), Reply(tool_calls=[call]))
    completion = client.chat.completions.create(model=MODEL, messages=user("weather?"))
    message = completion.choices[0].message
    assert completion.choices[0].finish_reason == "tool_calls" and message.content is None
    assert message.tool_calls is not None
    function = message.tool_calls[0].function  # type: ignore[union-attr]
    assert (message.tool_calls[0].id, function.name, json.loads(function.arguments)) == (
        "call_abc", "get_weather", {"city": "Paris", "unit": "celsius"},
    )

    argument_deltas: list[str] = []
    with client.chat.completions.create(model=MODEL, messages=user("weather?"), stream=True) as stream:
        chunks = list(stream)
    for chunk in chunks:
        for delta_call in chunk.choices[0].delta.tool_calls or []:
            assert delta_call.index == 0
            if delta_call.function and delta_call.function.arguments:
                argument_deltas.append(delta_call.function.arguments)
    head = next(c.choices[0].delta.tool_calls[0] for c in chunks if c.choices[0].delta.tool_calls)
    assert (head.id, head.function.name) == ("call_abc", "get_weather")  # type: ignore[union-attr]
    assert len(argument_deltas) > 1 and "".join(argument_deltas) == call.arguments
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_refusal_and_max_tokens(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """A refusal reply fills message.refusal; max_tokens cuts the default reply with finish_reason length."""
    fake_server.enqueue(Reply(refusal="I can't help with that."))
    refused = client.chat.completions.create(model=MODEL, messages=user("hi")).choices[0].message
    assert (refused.content, refused.refusal) == (None, "I can't help with that.")
    short = client.chat.completions.create(model=MODEL, messages=user("hi"), max_tokens=3).choices[0]
    assert short.finish_reason == "length" and len((short.message.content or "").split()) == 3


def test_embeddings_are_deterministic_unit_vectors(client: openai.OpenAI) -> None:
    """Equal inputs give equal vectors, different inputs differ, in float and base64 encodings alike."""
    first = client.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta", "alpha"])
    vectors = [item.embedding for item in first.data]
    assert [item.index for item in first.data] == [0, 1, 2]
    assert vectors[0] == vectors[2] != vectors[1] and len(vectors[0]) == 1536
    assert math.isclose(sum(v * v for v in vectors[0]), 1.0, rel_tol=1e-5)
    as_float = client.embeddings.create(model="text-embedding-3-small", input="alpha", encoding_format="float")
    assert as_float.data[0].embedding == vectors[0]
    assert first.usage.prompt_tokens == 3
    small = client.embeddings.create(model="text-embedding-3-large", input="alpha", dimensions=8)
    assert len(small.data[0].embedding) == 8


def test_embeddings_base64_wire_format(client: openai.OpenAI) -> None:
    """encoding_format=base64 sends little-endian float32 values, decoding to the float vector."""
    raw = client.embeddings.with_raw_response.create(
        model="text-embedding-3-small", input="alpha", encoding_format="base64", dimensions=4
    )
    payload = json.loads(raw.http_response.text)
    decoded = struct.unpack("<4f", base64.b64decode(payload["data"][0]["embedding"]))
    floats = client.embeddings.create(model="text-embedding-3-small", input="alpha", encoding_format="float",
                                      dimensions=4)
    assert list(decoded) == floats.data[0].embedding


def test_models_list_and_retrieve(client: openai.OpenAI) -> None:
    """models.list shows known models; retrieve works for any known name and 404s for others."""
    listed = [model.id for model in client.models.list()]
    assert "gpt-4o-mini" in listed and "text-embedding-3-small" in listed
    assert client.models.retrieve("gpt-5-anything").id == "gpt-5-anything"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("llama-unknown")


def test_unknown_model_gets_openais_404(client: openai.OpenAI) -> None:
    """An unknown model gets OpenAI's exact model_not_found envelope."""
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="nope-1", messages=user("hi"))
    assert caught.value.status_code == 404
    assert caught.value.body == {
        "message": "The model `nope-1` does not exist or you do not have access to it.",
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_found",
    }


def test_extra_models_are_known() -> None:
    """Names given to the constructor are accepted and listed."""
    with FakeLLMServer(models=["my-local-model"]) as server, openai.OpenAI(
        base_url=server.openai_base_url, api_key="test", max_retries=0
    ) as client:
        assert client.chat.completions.create(model="my-local-model", messages=user("hi")).choices
        assert "my-local-model" in [m.id for m in client.models.list()]


def test_api_key_is_checked_when_configured() -> None:
    """With api_key set, a wrong bearer key gets 401 invalid_api_key and the right one passes."""
    key = "sk-" + "k" * 20
    with FakeLLMServer(api_key=key) as server:
        with openai.OpenAI(base_url=server.openai_base_url, api_key="wrong", max_retries=0) as bad, pytest.raises(
            openai.AuthenticationError
        ) as caught:
            bad.models.list()
        assert caught.value.code == "invalid_api_key"
        with openai.OpenAI(base_url=server.openai_base_url, api_key=key, max_retries=0) as good:
            assert good.chat.completions.create(model=MODEL, messages=user("hi")).choices


def test_request_log_records_method_path_headers_and_body(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """Every request is recorded with lower-case header names and the parsed JSON body; repr hides both."""
    client.chat.completions.create(model=MODEL, messages=user("hello there"), extra_headers={"X-Trace": "t1"})
    client.models.list()
    first, second = fake_server.requests
    assert (first.method, first.path, second.method, second.path) == (
        "POST", "/v1/chat/completions", "GET", "/v1/models",
    )
    assert first.headers["authorization"] == "Bearer test" and first.headers["x-trace"] == "t1"
    assert first.json["messages"] == user("hello there") and json.loads(first.body) == first.json
    assert second.json is None and second.body == b""
    assert "Bearer" not in repr(first) and "hello" not in repr(first)
    assert fake_server.request_count() == 2 and fake_server.request_count("/v1/models") == 1


def test_rules_match_the_last_user_message(client: openai.OpenAI, fake_server: FakeLLMServer) -> None:
    """A rule answers prompts containing its text; once=True answers only the first; the queue comes first."""
    fake_server.add_rule("card", Reply(text="ruled"))
    fake_server.add_rule("once", Reply(text="one time"), once=True)
    fake_server.enqueue(Reply(text="queued"))

    def ask(text: str) -> str | None:
        return client.chat.completions.create(model=MODEL, messages=user(text)).choices[0].message.content

    assert ask("my card") == "queued"
    assert ask("my card") == "ruled"
    assert ask("just once") == "one time"
    assert ask("just once") != "one time"
    fake_server.reset()
    assert ask("my card") != "ruled" and fake_server.request_count() == 1


async def test_async_client_json_and_stream(fake_server: FakeLLMServer) -> None:
    """AsyncOpenAI gets the same replies, streamed or not."""
    fake_server.enqueue(Reply(text="async hello"), Reply(chunks=["as", "ync"]))
    async with openai.AsyncOpenAI(base_url=fake_server.openai_base_url, api_key="test", max_retries=0) as client:
        completion = await client.chat.completions.create(model=MODEL, messages=user("hi"))
        assert completion.choices[0].message.content == "async hello"
        stream = await client.chat.completions.create(model=MODEL, messages=user("hi"), stream=True)
        async with stream:
            deltas = [c.choices[0].delta.content async for c in stream if c.choices and c.choices[0].delta.content]
        assert deltas == ["as", "ync"]


def test_stream_chunks_carry_openais_obfuscation_padding_unless_turned_off(client: openai.OpenAI) -> None:
    """Like OpenAI, every streamed chunk carries random ``obfuscation`` padding by default (so a guard in front
    of a real stream meets it), and ``stream_options.include_obfuscation: false`` turns it off."""
    with client.chat.completions.create(model=MODEL, messages=user("tell me about rivers"), stream=True) as stream:
        padded = [c.obfuscation for c in stream]
    assert all(p and p.isalnum() for p in padded) and len(set(padded)) > 1
    with client.chat.completions.create(model=MODEL, messages=user("tell me about rivers"), stream=True,
                                        stream_options={"include_obfuscation": False}) as stream:
        assert all(c.obfuscation is None for c in stream)
