"""The official ``openai`` surface on every drop-in path: chat helpers, options, raw responses, Responses API."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
from typing import Any

import openai
import pydantic
import pytest

from deepsentinel.testing import Reply, ToolCall
from tests.dropin.conftest import API_KEY, OPENAI_MODEL, Clients

USER = [{"role": "user", "content": "tell me about rivers"}]
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


class City(pydantic.BaseModel):
    name: str
    country: str


def test_constructor_arguments(clients: Clients) -> None:
    """api_key, base_url, timeout and max_retries are taken and used (a 500 is retried once)."""
    key = "sk-" + "t" * 20
    client = clients.openai(api_key=key, timeout=7.5, max_retries=1)
    assert isinstance(client, openai.OpenAI)
    assert client.api_key == key and client.timeout == 7.5 and client.max_retries == 1
    assert str(client.base_url).rstrip("/") == clients.server.openai_base_url
    clients.server.enqueue(Reply(status=500, headers={"retry-after-ms": "1"}), Reply(text="fine"))
    completion = client.chat.completions.create(model=OPENAI_MODEL, messages=USER)  # type: ignore[arg-type]
    assert completion.choices[0].message.content == "fine"
    assert clients.server.request_count("/v1/chat/completions") == 2
    assert clients.server.last_request.headers["authorization"] == f"Bearer {key}"


def test_a_callable_api_key_is_asked_for_each_request(clients: Clients) -> None:
    """api_key may be a function (a rotating token): the SDK calls it per request and sends what it returns."""
    issued = itertools.count()
    client = clients.openai(api_key=lambda: f"sk-rotating-{next(issued)}")
    for _ in range(2):
        client.chat.completions.create(model=OPENAI_MODEL, messages=USER)  # type: ignore[arg-type]
    sent = [r.headers["authorization"] for r in clients.server.requests]
    assert sent == ["Bearer sk-rotating-0", "Bearer sk-rotating-1"]


async def test_an_async_callable_api_key_is_awaited_for_each_request(clients: Clients) -> None:
    """The async client's api_key may be a coroutine function: awaited per request, its result sent."""
    issued = itertools.count()

    async def token() -> str:
        return f"sk-async-{next(issued)}"

    client = clients.async_openai(api_key=token)
    for _ in range(2):
        await client.chat.completions.create(model=OPENAI_MODEL, messages=USER)  # type: ignore[arg-type]
    sent = [r.headers["authorization"] for r in clients.server.requests]
    assert sent == ["Bearer sk-async-0", "Bearer sk-async-1"]


def test_the_default_timeout_is_the_sdks(clients: Clients) -> None:
    """Built without timeout=, a client keeps the SDK's default timeout and sends its read limit as the SDK does."""
    client = clients.openai()
    assert client.timeout == openai.DEFAULT_TIMEOUT
    client.chat.completions.create(model=OPENAI_MODEL, messages=USER)  # type: ignore[arg-type]
    assert clients.server.last_request.headers["x-stainless-read-timeout"] == "600"


async def test_the_default_pool_keeps_the_sdks_connection_limit(clients: Clients) -> None:
    """Built without an http_client, a client has the SDK's pool (1,000 connections): 120 slow calls are all
    in flight at once, none waiting for a free connection."""
    if clients.name == "protected_http":
        pytest.skip("the user's own httpx2 client sets this path's pool")
    calls = 120
    clients.server.enqueue(*[Reply(text="slow", delay_before=3.0) for _ in range(calls)])
    client = clients.async_openai()
    started = []
    for _ in range(calls):  # a few ms apart: the fake server's listen backlog is short
        started.append(asyncio.ensure_future(client.chat.completions.create(model=OPENAI_MODEL, messages=USER)))  # type: ignore[arg-type]
        await asyncio.sleep(0.005)
    await asyncio.sleep(1.5)  # every request has reached the server by now; none has been answered
    arrived = clients.server.request_count("/v1/chat/completions")
    answers = await asyncio.gather(*started)
    assert arrived == calls and len(answers) == calls


@pytest.mark.parametrize(("status", "error_class"), [
    (400, openai.BadRequestError), (401, openai.AuthenticationError), (404, openai.NotFoundError),
    (429, openai.RateLimitError), (500, openai.InternalServerError),
])
def test_an_error_answers_text_is_the_sdks(clients: Clients, status: int, error_class: type[Exception]) -> None:
    """str() of an error answer is the SDK's own text, nothing before it; its message and body are the provider's."""
    clients.server.enqueue(Reply(status=status, error_message="bad thing"))
    with pytest.raises(error_class) as caught:
        clients.openai().chat.completions.create(model=OPENAI_MODEL, messages=USER)  # type: ignore[arg-type]
    assert str(caught.value) == f"Error code: {status} - bad thing"


# model and messages the raw client sends as they are, and what the fake server says to them (None: it answers).
ODD_ARGUMENTS: dict[str, tuple[Any, Any, str | None]] = {
    "model-empty": ("", USER, "you must provide a model"),  # a single-model server (llama.cpp) takes it
    "model-none": (None, USER, "you must provide a model"),
    "messages-empty": (OPENAI_MODEL, [], "too short"),
    "messages-none": (OPENAI_MODEL, None, "too short"),
    "messages-str": (OPENAI_MODEL, "tell me about rivers", "too short"),
    "content-int": (OPENAI_MODEL, [{"role": "user", "content": 5}], None),
    "content-missing": (OPENAI_MODEL, [{"role": "user"}], None),
    "content-part-none": (OPENAI_MODEL, [{"role": "user", "content": [None, {"type": "text", "text": "hi"}]}], None),
    "text-part-without-text": (OPENAI_MODEL, [{"role": "user", "content": [{"type": "text"}]}], None),
    "role-unknown": (OPENAI_MODEL, [{"role": "wizard", "content": "hi"}], None),
    "tool-without-id": (OPENAI_MODEL, [{"role": "tool", "content": "x"}], None),
}


async def _create(client: openai.OpenAI | openai.AsyncOpenAI, **kwargs: Any) -> Any:
    """``chat.completions.create`` on a sync or an async client."""
    result = client.chat.completions.create(**kwargs)
    return await result if inspect.isawaitable(result) else result


@pytest.mark.parametrize("case", list(ODD_ARGUMENTS))
async def test_odd_arguments_are_the_servers_to_judge(clients: Clients, case: str) -> None:
    """model and messages go out as given, whatever their shape (sync and async): what the server refuses is the
    SDK's BadRequestError with the server's words, what it takes is answered."""
    model, messages, refusal = ODD_ARGUMENTS[case]
    for client in (clients.openai(), clients.async_openai()):
        if refusal is None:
            await _create(client, model=model, messages=messages)
        else:
            with pytest.raises(openai.BadRequestError, match=refusal):
                await _create(client, model=model, messages=messages)
        sent = clients.server.last_request.json
        assert sent["model"] == model and sent["messages"] == messages
    assert clients.server.request_count("/v1/chat/completions") == 2


def test_per_request_options_stay_out_of_the_body(clients: Clients) -> None:
    """timeout, extra_headers and extra_body act on the request; none of their names is in the JSON."""
    client = clients.openai()
    client.chat.completions.create(
        model=OPENAI_MODEL, messages=USER,  # type: ignore[arg-type]
        timeout=5.0, extra_headers={"X-Trace-Id": "trace-1"}, extra_body={"custom_flag": True},
    )
    seen = clients.server.last_request
    assert seen.headers["x-trace-id"] == "trace-1"
    assert seen.json["custom_flag"] is True  # extra_body is merged at the top level, as the SDK does
    assert not {"timeout", "extra_headers", "extra_body", "extra_query"} & set(seen.json)


def test_per_request_timeout_is_enforced(clients: Clients) -> None:
    """A per-request timeout shorter than the server's delay raises the SDK's timeout error."""
    clients.server.enqueue(Reply(text="late", delay_before=1.0))
    with pytest.raises(openai.APITimeoutError):
        clients.openai().chat.completions.create(model=OPENAI_MODEL, messages=USER, timeout=0.2)  # type: ignore[arg-type]


def test_not_given_and_omit_are_left_out(clients: Clients) -> None:
    """NOT_GIVEN and omit values never reach the wire."""
    clients.openai().chat.completions.create(
        model=OPENAI_MODEL, messages=USER,  # type: ignore[arg-type]
        temperature=openai.NOT_GIVEN, top_p=openai.omit, user=openai.omit,
    )
    body = clients.server.last_request.json
    assert set(body) == {"model", "messages"}


def test_with_options_returns_a_client_of_the_same_kind(clients: Clients) -> None:
    """with_options() copies the client with new settings; the copy works."""
    client = clients.openai()
    copy = client.with_options(timeout=3.0, max_retries=0)
    assert type(copy) is type(client) and copy.timeout == 3.0
    clients.server.enqueue(Reply(text="copied"))
    answer = copy.chat.completions.create(model=OPENAI_MODEL, messages=USER)  # type: ignore[arg-type]
    assert answer.choices[0].message.content == "copied"


def test_with_raw_response(clients: Clients) -> None:
    """with_raw_response gives the HTTP response with headers and parse() to the typed object."""
    clients.server.enqueue(Reply(text="raw ok"))
    raw = clients.openai().chat.completions.with_raw_response.create(model=OPENAI_MODEL, messages=USER)  # type: ignore[arg-type]
    assert raw.http_response.status_code == 200 and raw.headers["x-request-id"].startswith("req_fake")
    assert raw.parse().choices[0].message.content == "raw ok"


def test_with_streaming_response(clients: Clients) -> None:
    """with_streaming_response streams the body lines of an SSE answer."""
    clients.server.enqueue(Reply(chunks=["a", "b"]))
    client = clients.openai()
    with client.chat.completions.with_streaming_response.create(
        model=OPENAI_MODEL, messages=USER, stream=True,  # type: ignore[arg-type]
    ) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    deltas = [json.loads(line[6:])["choices"][0]["delta"].get("content") for line in lines[1:-2]]
    assert clients.same_deltas(deltas, ["a", "b"])


def test_chat_parse_with_a_pydantic_model(clients: Clients) -> None:
    """completions.parse(response_format=Model) sends a json_schema and parses the answer."""
    clients.server.enqueue(Reply(text='{"name": "Paris", "country": "France"}'))
    completion = clients.openai().chat.completions.parse(model=OPENAI_MODEL, messages=USER,  # type: ignore[arg-type]
                                                         response_format=City)
    assert completion.choices[0].message.parsed == City(name="Paris", country="France")
    assert clients.server.last_request.json["response_format"]["type"] == "json_schema"


def test_chat_stream_helper(clients: Clients) -> None:
    """The completions.stream helper yields content deltas and a final completion."""
    clients.server.enqueue(Reply(chunks=["Hel", "lo"]))
    with clients.openai().chat.completions.stream(model=OPENAI_MODEL, messages=USER) as stream:  # type: ignore[arg-type]
        deltas = [event.delta for event in stream if event.type == "content.delta" and event.delta]
        final = stream.get_final_completion()
    assert clients.same_deltas(deltas, ["Hel", "lo"]) and final.choices[0].message.content == "Hello"


async def test_async_chat_create_and_stream(clients: Clients) -> None:
    """The async client: create, then a raw stream."""
    client = clients.async_openai()
    clients.server.enqueue(Reply(text="one"), Reply(chunks=["t", "wo"]))
    first = await client.chat.completions.create(model=OPENAI_MODEL, messages=USER)  # type: ignore[arg-type]
    stream = await client.chat.completions.create(model=OPENAI_MODEL, messages=USER, stream=True)  # type: ignore[arg-type]
    async with stream:
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert first.choices[0].message.content == "one" and text == "two"


def test_models_list(clients: Clients) -> None:
    """models.list().data lists model objects; retrieve gets one."""
    client = clients.openai()
    ids = [model.id for model in client.models.list().data]
    assert OPENAI_MODEL in ids
    assert client.models.retrieve(OPENAI_MODEL).id == OPENAI_MODEL


def test_legacy_completions(clients: Clients) -> None:
    """The legacy completions endpoint, JSON and streamed."""
    clients.server.enqueue(Reply(text="once upon"), Reply(chunks=["once ", "upon"]))
    client = clients.openai()
    assert client.completions.create(model="gpt-3.5-turbo-instruct", prompt="story").choices[0].text == "once upon"
    with client.completions.create(model="gpt-3.5-turbo-instruct", prompt="story", stream=True) as stream:
        assert "".join(c.choices[0].text for c in stream) == "once upon"


def test_responses_string_input(clients: Clients) -> None:
    """responses.create with a string input."""
    clients.server.enqueue(Reply(text="a river flows"))
    result = clients.openai().responses.create(model=OPENAI_MODEL, input="rivers?")
    assert result.output_text == "a river flows" and result.status == "completed"


def test_responses_item_input(clients: Clients) -> None:
    """responses.create with message items; the fake sees the items as sent."""
    clients.server.enqueue(Reply(text="noted"))
    items: Any = [{"role": "developer", "content": "Be brief."},
                  {"role": "user", "content": [{"type": "input_text", "text": "rivers?"}]}]
    result = clients.openai().responses.create(model=OPENAI_MODEL, input=items)
    assert result.output_text == "noted" and clients.server.last_request.json["input"] == items


def test_responses_parse_with_a_pydantic_model(clients: Clients) -> None:
    """responses.parse(text_format=Model) sends a json_schema format and parses the output text."""
    clients.server.enqueue(Reply(text='{"name": "Paris", "country": "France"}'))
    result = clients.openai().responses.parse(model=OPENAI_MODEL, input="capital?", text_format=City)
    assert result.output_parsed == City(name="Paris", country="France")
    assert clients.server.last_request.json["text"]["format"]["type"] == "json_schema"


def test_responses_function_call_round_trip(clients: Clients) -> None:
    """A function_call comes back; its output goes in with the call; the final answer follows."""
    client = clients.openai()
    clients.server.enqueue(Reply(tool_calls=[ToolCall(name="get_weather", arguments='{"city":"Oslo"}')]),
                           Reply(text="Sunny in Oslo."))
    first = client.responses.create(model=OPENAI_MODEL, input="weather?", tools=[WEATHER_TOOL])  # type: ignore[list-item]
    [call] = first.output
    assert call.type == "function_call"
    items: Any = [{"role": "user", "content": "weather?"}, call.model_dump(exclude_none=True),
                  {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}]
    second = client.responses.create(model=OPENAI_MODEL, input=items, tools=[WEATHER_TOOL])  # type: ignore[list-item]
    assert second.output_text == "Sunny in Oslo."


def test_responses_raw_stream_and_stream_helper(clients: Clients) -> None:
    """responses.create(stream=True) and responses.stream both see the deltas and the final text."""
    client = clients.openai()
    clients.server.enqueue(Reply(chunks=["a", "b"]), Reply(chunks=["c", "d"]))
    with client.responses.create(model=OPENAI_MODEL, input="x", stream=True) as stream:
        events = list(stream)
    assert clients.same_deltas([e.delta for e in events if e.type == "response.output_text.delta"], ["a", "b"])
    assert events[-1].type == "response.completed" and events[-1].response.output_text == "ab"
    with client.responses.stream(model=OPENAI_MODEL, input="x") as helper:
        deltas = [e.delta for e in helper if e.type == "response.output_text.delta"]
        assert helper.get_final_response().output_text == "cd"
    assert clients.same_deltas(deltas, ["c", "d"])


async def test_async_responses_stream(clients: Clients) -> None:
    """The async Responses stream helper."""
    clients.server.enqueue(Reply(chunks=["e", "f"]))
    async with clients.async_openai().responses.stream(model=OPENAI_MODEL, input="x") as helper:
        deltas = [e.delta async for e in helper if e.type == "response.output_text.delta"]
        final = await helper.get_final_response()
    assert clients.same_deltas(deltas, ["e", "f"]) and final.output_text == "ef"


def test_authentication_error_is_the_sdks(clients: Clients) -> None:
    """A 401 arrives as openai.AuthenticationError with the server's message."""
    clients.server.enqueue(Reply(status=401))
    with pytest.raises(openai.AuthenticationError):
        clients.openai(api_key=API_KEY).chat.completions.create(model=OPENAI_MODEL, messages=USER)  # type: ignore[arg-type]


async def test_the_user_agent_is_the_official_sdks(clients: Clients) -> None:
    """The provider sees the SDK it knows (``OpenAI/Python x.y``, ``AsyncOpenAI/Python x.y``), not our class name."""
    clients.openai().chat.completions.create(model=OPENAI_MODEL, messages=USER)  # type: ignore[arg-type]
    assert clients.server.last_request.headers["user-agent"] == f"OpenAI/Python {openai.__version__}"
    await clients.async_openai().chat.completions.create(model=OPENAI_MODEL, messages=USER)  # type: ignore[arg-type]
    assert clients.server.last_request.headers["user-agent"] == f"AsyncOpenAI/Python {openai.__version__}"


@pytest.mark.parametrize("response_format", ["json", "verbose_json", "text", "srt", "vtt"])
def test_transcriptions(clients: Clients, response_format: str) -> None:
    """A transcript comes back as the raw client gets it, in every format (a form goes out, not JSON)."""
    clients.server.enqueue(Reply(text="The meeting starts at noon."))
    answer = clients.openai().audio.transcriptions.create(file=("a.wav", b"RIFF....WAVE"), model="whisper-1",
                                                          response_format=response_format)  # type: ignore[call-overload]
    text = answer if isinstance(answer, str) else answer.text
    assert "The meeting starts at noon." in text
    assert clients.server.last_request.path == "/v1/audio/transcriptions"


def test_streamed_transcription(clients: Clients) -> None:
    """A streamed transcript: its deltas, then the whole text."""
    clients.server.enqueue(Reply(chunks=["The meeting ", "starts at ", "noon."]))
    events = list(clients.openai().audio.transcriptions.create(file=("a.wav", b"RIFF....WAVE"),
                                                               model="gpt-4o-transcribe", stream=True))
    deltas = [e.delta for e in events if e.type == "transcript.text.delta"]
    assert clients.same_deltas(deltas, ["The meeting ", "starts at ", "noon."])
    assert events[-1].type == "transcript.text.done" and events[-1].text == "The meeting starts at noon."


def test_file_content(clients: Clients) -> None:
    """A stored file's bytes come back as the raw client gets them, read whole or streamed."""
    lines = "".join(json.dumps({"custom_id": f"r{n}", "response": {"body": {"text": f"answer {n}"}}}) + "\n"
                    for n in range(200))
    clients.server.enqueue(Reply(text=lines), Reply(text=lines))
    client = clients.openai()
    assert client.files.content("file-abc").read() == lines.encode()
    with client.files.with_streaming_response.content("file-abc") as answer:
        assert b"".join(answer.iter_bytes()) == lines.encode()
