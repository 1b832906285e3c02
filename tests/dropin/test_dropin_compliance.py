"""Compliance on every guarded drop-in path: an SSN prompt never leaves, a card number in an answer never shows.

Each test takes ``guarded`` (the factories in GUARDED); while that list is empty they are skipped.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import openai
import pydantic
import pytest

from deepsentinel.testing import Reply, ToolCall
from tests.dropin.compliance_checks import (
    assert_no_card,
    assert_prompt_blocked,
    assert_prompt_blocked_async,
    card_reply,
    card_tool_reply,
    collect,
    collect_async,
    one,
    ssn_prompt,
)
from tests.dropin.conftest import ANTHROPIC_MODEL, API_KEY, OPENAI_MODEL, Clients

CHAT, RESPONSES, COMPLETIONS, MESSAGES = "/v1/chat/completions", "/v1/responses", "/v1/completions", "/v1/messages"


def user(text: str) -> Any:
    return [{"role": "user", "content": text}]


# -- the openai surface --------------------------------------------------------------------------------

OPENAI_PROMPT_CALLS: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    "chat.create": (CHAT, lambda c, p: c.chat.completions.create(model=OPENAI_MODEL, messages=user(p))),
    "chat.create-stream": (CHAT, lambda c, p: list(c.chat.completions.create(model=OPENAI_MODEL, messages=user(p),
                                                                             stream=True))),
    "chat.stream-helper": (CHAT, lambda c, p: c.chat.completions.stream(model=OPENAI_MODEL,
                                                                        messages=user(p)).__enter__()),
    "chat.parse": (CHAT, lambda c, p: c.chat.completions.parse(model=OPENAI_MODEL, messages=user(p),
                                                               response_format=_Answer)),
    "chat.with_raw_response": (CHAT, lambda c, p: c.chat.completions.with_raw_response.create(
        model=OPENAI_MODEL, messages=user(p))),
    "chat.with_options": (CHAT, lambda c, p: c.with_options(timeout=5.0).chat.completions.create(
        model=OPENAI_MODEL, messages=user(p))),
    "responses.string": (RESPONSES, lambda c, p: c.responses.create(model=OPENAI_MODEL, input=p)),
    "responses.items": (RESPONSES, lambda c, p: c.responses.create(model=OPENAI_MODEL, input=[
        {"role": "user", "content": [{"type": "input_text", "text": p}]}])),
    "responses.function-output": (RESPONSES, lambda c, p: c.responses.create(model=OPENAI_MODEL, input=[
        {"role": "user", "content": "look me up"},
        {"type": "function_call", "call_id": "call_1", "name": "lookup", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": p}])),
    "responses.parse": (RESPONSES, lambda c, p: c.responses.parse(model=OPENAI_MODEL, input=p,
                                                                  text_format=_Answer)),
    "responses.stream": (RESPONSES, lambda c, p: c.responses.stream(model=OPENAI_MODEL, input=p).__enter__()),
    "completions": (COMPLETIONS, lambda c, p: c.completions.create(model="gpt-3.5-turbo-instruct", prompt=p)),
}


class _Answer(pydantic.BaseModel):
    answer: str


@pytest.mark.parametrize("call", list(OPENAI_PROMPT_CALLS))
def test_openai_ssn_prompt_is_blocked(guarded: Clients, call: str) -> None:
    """Every openai call shape with an SSN in the prompt fails before anything is sent."""
    path, run = OPENAI_PROMPT_CALLS[call]
    client = guarded.openai()
    assert_prompt_blocked(guarded.server, path, lambda: run(client, ssn_prompt()))


def _odd_shapes(ssn_text: str) -> dict[str, tuple[str, Any]]:
    """Chat calls whose SSN sits where no chat message puts text: the guard reads every string of the body."""
    return {
        "part-with-odd-keys": (OPENAI_MODEL, [{"role": "user", "content": [{"kind": "note", "body": {"value": ssn_text}}]}]),
        "int-content-next-to-text": (OPENAI_MODEL, [{"role": "user", "content": 5, "text": ssn_text}]),
        "text-part-a-dict": (OPENAI_MODEL, [{"role": "user", "content": [{"type": "text", "text": {"v": ssn_text}}]}]),
        "text-part-a-list": (OPENAI_MODEL, [{"role": "user", "content": [{"type": "text", "text": [ssn_text]}]}]),
        "messages-a-string": (OPENAI_MODEL, ssn_text),
        "model-empty": ("", user(ssn_text)),
        "unknown-role": (OPENAI_MODEL, [{"role": "wizard", "content": ssn_text}]),
    }


@pytest.mark.parametrize("shape", list(_odd_shapes("")))
async def test_openai_ssn_in_an_odd_shape_is_blocked(guarded: Clients, shape: str) -> None:
    """An SSN anywhere in a chat body of an odd shape (which the provider may refuse, or read) is blocked,
    sync and async, and nothing is sent."""
    model, messages = _odd_shapes(ssn_prompt())[shape]
    client, async_client = guarded.openai(), guarded.async_openai()
    assert_prompt_blocked(guarded.server, CHAT, lambda: client.chat.completions.create(model=model, messages=messages))
    await assert_prompt_blocked_async(
        guarded.server, CHAT, lambda: async_client.chat.completions.create(model=model, messages=messages))
    assert guarded.server.request_count() == 0


def _chat_text(client: Any) -> str:
    return str(client.chat.completions.create(model=OPENAI_MODEL, messages=user("hi")).choices[0].message.content)


def _chat_stream(client: Any) -> Iterator[str]:
    with client.chat.completions.create(model=OPENAI_MODEL, messages=user("hi"), stream=True) as stream:
        for chunk in stream:
            if chunk.choices:
                yield chunk.choices[0].delta.content or ""


def _chat_stream_helper(client: Any) -> Iterator[str]:
    with client.chat.completions.stream(model=OPENAI_MODEL, messages=user("hi")) as stream:
        for event in stream:
            if event.type == "content.delta":
                yield event.delta
        yield str(stream.get_final_completion().choices[0].message.content)


def _responses_text(client: Any) -> str:
    return str(client.responses.create(model=OPENAI_MODEL, input="hi").output_text)


def _responses_stream(client: Any) -> Iterator[str]:
    """Deltas, the .done text and the final snapshot: each must be clean."""
    with client.responses.create(model=OPENAI_MODEL, input="hi", stream=True) as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                yield event.delta
            elif event.type == "response.output_text.done":
                yield event.text
            elif event.type == "response.completed":
                yield event.response.output_text


def _completions_stream(client: Any) -> Iterator[str]:
    with client.completions.create(model="gpt-3.5-turbo-instruct", prompt="hi", stream=True) as stream:
        for chunk in stream:
            yield chunk.choices[0].text if chunk.choices else ""


AUDIO = ("a.wav", b"RIFF\x24\x00\x00\x00WAVEfmt ")


def _transcript(client: Any, response_format: str) -> str:
    answer = client.audio.transcriptions.create(file=AUDIO, model="whisper-1", response_format=response_format)
    return str(answer if isinstance(answer, str) else answer.text)


def _translation(client: Any) -> str:
    with warnings.catch_warnings():  # the SDK marks translations deprecated; the API still serves them
        warnings.simplefilter("ignore", DeprecationWarning)
        return str(client.audio.translations.create(file=AUDIO, model="whisper-1").text)


def _transcript_stream(client: Any) -> Iterator[str]:
    for event in client.audio.transcriptions.create(file=AUDIO, model="gpt-4o-transcribe", stream=True):
        yield event.delta if event.type == "transcript.text.delta" else event.text


OPENAI_ANSWER_READS: dict[str, Callable[[Any], Iterable[str]]] = {
    "chat.create": lambda c: one(lambda: _chat_text(c))(),
    "chat.create-stream": _chat_stream,
    "chat.stream-helper": _chat_stream_helper,
    "responses.create": lambda c: one(lambda: _responses_text(c))(),
    "responses.stream": _responses_stream,
    "completions.stream": _completions_stream,
    "transcriptions.json": lambda c: one(lambda: _transcript(c, "json"))(),
    "transcriptions.text": lambda c: one(lambda: _transcript(c, "text"))(),
    "transcriptions.srt": lambda c: one(lambda: _transcript(c, "srt"))(),
    "transcriptions.stream": _transcript_stream,
    "translations.json": lambda c: one(lambda: _translation(c))(),
    "files.content": lambda c: one(lambda: c.files.content("file-abc").read().decode())(),
}


@pytest.mark.parametrize("read", list(OPENAI_ANSWER_READS))
def test_openai_card_answer_is_cut(guarded: Clients, read: str) -> None:
    """A card number split across chunks never reaches the caller, whatever the call shape."""
    client = guarded.openai()
    guarded.server.enqueue(card_reply())
    assert_no_card(collect(lambda: OPENAI_ANSWER_READS[read](client)))


def test_openai_card_in_streamed_tool_arguments_is_cut(guarded: Clients) -> None:
    """Tool-call argument deltas carrying a card number are cut too."""
    client = guarded.openai()
    guarded.server.enqueue(card_tool_reply("pay"))

    def arguments() -> Iterator[str]:
        with client.chat.completions.create(model=OPENAI_MODEL, messages=user("hi"), stream=True) as stream:
            for chunk in stream:
                for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
                    yield (call.function.arguments or "") if call.function else ""

    assert_no_card(collect(arguments))


async def test_async_openai(guarded: Clients) -> None:
    """The async client: SSN prompt blocked; card cut from a stream."""
    client = guarded.async_openai()
    await assert_prompt_blocked_async(guarded.server, CHAT, lambda: client.chat.completions.create(
        model=OPENAI_MODEL, messages=user(ssn_prompt())))
    guarded.server.enqueue(card_reply())

    async def pieces() -> Any:
        stream = await client.chat.completions.create(model=OPENAI_MODEL, messages=user("hi"), stream=True)
        async with stream:
            async for chunk in stream:
                yield chunk.choices[0].delta.content or "" if chunk.choices else ""

    assert_no_card(await collect_async(pieces))


def test_openai_error_text_is_the_sdks_with_values_redacted(guarded: Clients) -> None:
    """An error answer quoting an SSN: str() is the SDK's own text ("Error code: 400 - ...", nothing before it),
    with the value redacted; neither str() nor repr() shows it."""
    ssn = "-".join(["536", "22", "1234"])
    guarded.server.enqueue(Reply(status=400, error_message=f"bad value {ssn} in messages"))
    with pytest.raises(openai.BadRequestError) as caught:
        guarded.openai().chat.completions.create(model=OPENAI_MODEL, messages=user("hi"))
    assert str(caught.value) == "Error code: 400 - bad value [US_SSN] in messages"
    assert ssn not in repr(caught.value)


# -- anthropic -----------------------------------------------------------------------------------------

def test_anthropic_ssn_prompt_is_blocked(guarded: Clients) -> None:
    """messages.create, messages.stream and count_tokens with an SSN: nothing sent."""
    client = guarded.anthropic()
    kwargs: Any = {"model": ANTHROPIC_MODEL, "max_tokens": 64, "messages": user(ssn_prompt())}
    assert_prompt_blocked(guarded.server, MESSAGES, lambda: client.messages.create(**kwargs))
    assert_prompt_blocked(guarded.server, MESSAGES, lambda: client.messages.stream(**kwargs).__enter__())
    assert_prompt_blocked(guarded.server, MESSAGES + "/count_tokens", lambda: client.messages.count_tokens(
        model=ANTHROPIC_MODEL, messages=user(ssn_prompt())))


def test_anthropic_card_answer_is_cut(guarded: Clients) -> None:
    """Card number in text (JSON and streamed) and in streamed input_json never shows."""
    client = guarded.anthropic()
    kwargs: Any = {"model": ANTHROPIC_MODEL, "max_tokens": 64, "messages": user("hi")}
    guarded.server.enqueue(card_reply(), card_reply(), card_tool_reply("pay"))

    def created() -> str:
        return "".join(b.text for b in client.messages.create(**kwargs).content if b.type == "text")

    def streamed() -> Iterator[str]:
        with client.messages.stream(**kwargs) as stream:
            yield from stream.text_stream

    def tool_json() -> Iterator[str]:
        tool = {"name": "pay", "input_schema": {"type": "object"}}
        with client.messages.stream(**kwargs, tools=[tool]) as stream:
            for event in stream:
                if event.type == "input_json":
                    yield event.partial_json
            yield str(stream.get_final_message().content)

    for read in (one(created), streamed, tool_json):
        assert_no_card(collect(read))


async def test_async_anthropic(guarded: Clients) -> None:
    """The async Anthropic client: SSN prompt blocked; card cut from the stream helper's text."""
    client = guarded.async_anthropic()
    await assert_prompt_blocked_async(guarded.server, MESSAGES, lambda: client.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=64, messages=user(ssn_prompt())))
    guarded.server.enqueue(card_reply())

    async def pieces() -> Any:
        async with client.messages.stream(model=ANTHROPIC_MODEL, max_tokens=64, messages=user("hi")) as stream:
            async for text in stream.text_stream:
                yield text

    assert_no_card(await collect_async(pieces))


# -- instructor ----------------------------------------------------------------------------------------

class _Card(pydantic.BaseModel):
    card: str


def test_instructor(guarded: Clients) -> None:
    """instructor: SSN prompt blocked; a tool call carrying a card never yields it."""
    instructor = pytest.importorskip("instructor")
    client = instructor.from_openai(guarded.openai())
    assert_prompt_blocked(guarded.server, CHAT, lambda: client.chat.completions.create(
        model=OPENAI_MODEL, response_model=_Answer, messages=user(ssn_prompt()), max_retries=0))
    guarded.server.enqueue(Reply(tool_calls=[ToolCall(name="_Card", arguments='{"card": "4111 1111 1111 1111"}')]))
    assert_no_card(collect(one(lambda: client.chat.completions.create(
        model=OPENAI_MODEL, response_model=_Card, messages=user("hi"), max_retries=0).card)))


# -- LangChain -----------------------------------------------------------------------------------------

def _chat_openai(guarded: Clients, *, http: bool) -> Any:
    from langchain_openai import ChatOpenAI

    if http:
        return ChatOpenAI(model=OPENAI_MODEL, api_key=API_KEY, base_url=guarded.server.openai_base_url,
                          http_client=guarded.http_client(), max_retries=0)
    sync_client = guarded.openai()
    return ChatOpenAI(model=OPENAI_MODEL, api_key=API_KEY, client=sync_client.chat.completions,
                      root_client=sync_client)


@pytest.mark.parametrize("http", [False, True], ids=["client", "http_client"])
def test_langchain(guarded: Clients, http: bool) -> None:
    """LangChain invoke/stream/structured output: SSN blocked; card cut from invoke and stream."""
    model = _chat_openai(guarded, http=http)
    assert_prompt_blocked(guarded.server, CHAT, lambda: model.invoke(ssn_prompt()))
    assert_prompt_blocked(guarded.server, CHAT, lambda: list(model.stream(ssn_prompt())))
    assert_prompt_blocked(guarded.server, CHAT, lambda: model.with_structured_output(_Answer).invoke(ssn_prompt()))
    guarded.server.enqueue(card_reply(), card_reply())
    assert_no_card(collect(one(lambda: str(model.invoke("hi").content))))
    assert_no_card(collect(lambda: (str(chunk.content) for chunk in model.stream("hi"))))


def test_langchain_ainvoke(guarded: Clients) -> None:
    """LangChain ainvoke through the injected async client: SSN blocked."""
    from langchain_openai import ChatOpenAI

    async def run() -> None:
        client = guarded.factory.async_openai(base_url=guarded.server.openai_base_url, api_key=API_KEY,
                                              max_retries=0)
        model = ChatOpenAI(model=OPENAI_MODEL, api_key=API_KEY, client=guarded.openai().chat.completions,
                           root_client=guarded.openai(), async_client=client.chat.completions,
                           root_async_client=client)
        try:
            await assert_prompt_blocked_async(guarded.server, CHAT, lambda: model.ainvoke(ssn_prompt()))
        finally:
            await client.close()

    asyncio.run(run())


# -- openai-agents -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [CHAT, RESPONSES])
async def test_agents(guarded: Clients, path: str) -> None:
    """openai-agents run and streamed run: SSN blocked; card cut from the final output and the deltas."""
    from agents import Agent, OpenAIChatCompletionsModel, OpenAIResponsesModel, Runner, set_tracing_disabled

    set_tracing_disabled(True)
    client = guarded.async_openai()
    model = (OpenAIChatCompletionsModel if path == CHAT else OpenAIResponsesModel)(model=OPENAI_MODEL,
                                                                                   openai_client=client)
    agent = Agent(name="plain", instructions="Answer briefly.", model=model)
    await assert_prompt_blocked_async(guarded.server, path, lambda: Runner.run(agent, ssn_prompt()))
    guarded.server.enqueue(card_reply(), card_reply())

    async def final() -> Any:
        yield str((await Runner.run(agent, "hi")).final_output)

    async def deltas() -> Any:
        run = Runner.run_streamed(agent, "hi")
        async for event in run.stream_events():
            if event.type == "raw_response_event" and event.data.type == "response.output_text.delta":
                yield event.data.delta
        yield str(run.final_output)

    assert_no_card(await collect_async(final))
    assert_no_card(await collect_async(deltas))


# -- Node ----------------------------------------------------------------------------------------------

def test_node(guarded: Clients) -> None:
    """The openai npm client on a guarded base URL: SSN blocked with no request; card never shown."""
    from tests.dropin.node_runner import node_missing, prepared_dir, run_dropin

    if guarded.factory.node_base_url is None:
        pytest.skip(f"the {guarded.name} path has no Node form")
    if node_missing() is not None:
        pytest.skip(str(node_missing()))
    directory: Path = prepared_dir()
    base_url = guarded.factory.node_base_url(guarded.server.openai_base_url)
    blocked = run_dropin(directory, base_url, ssn_prompt())
    assert all(not step["ok"] for step in blocked.values()), blocked
    assert guarded.server.request_count(CHAT) == 0 and guarded.server.request_count(RESPONSES) == 0
    guarded.server.enqueue(*[card_reply() for _ in range(4)])
    for step in run_dropin(directory, base_url, "hi").values():
        assert_no_card(step["text"])
