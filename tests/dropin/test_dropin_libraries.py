"""Third-party libraries that take an OpenAI client, on every drop-in path: instructor, LangChain, openai-agents."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pydantic
import pytest
from agents import (
    Agent,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    Runner,
    function_tool,
    set_tracing_disabled,
)
from langchain_openai import ChatOpenAI

from deepsentinel.testing import Reply, ToolCall
from tests.dropin.conftest import API_KEY, OPENAI_MODEL, Clients

instructor = pytest.importorskip(
    "instructor", reason="instructor caps jiter<0.15 while openai>=3.57 needs jiter>=0.16: installed with --no-deps"
)



@pytest.fixture(autouse=True, scope="module")
def no_agent_tracing() -> Iterator[None]:
    """openai-agents exports traces to the internet by default; nothing here may reach it."""
    set_tracing_disabled(True)
    yield


CITY_JSON = '{"name": "Paris", "country": "France"}'


class City(pydantic.BaseModel):
    name: str
    country: str


# -- instructor ----------------------------------------------------------------------------------------


def test_instructor_sync(clients: Clients) -> None:
    """instructor.from_openai accepts the client and returns the pydantic model from a tool call."""
    client = instructor.from_openai(clients.openai())
    clients.server.enqueue(Reply(tool_calls=[ToolCall(name="City", arguments=CITY_JSON)]))
    city = client.chat.completions.create(model=OPENAI_MODEL, response_model=City,
                                          messages=[{"role": "user", "content": "capital of France?"}])
    assert city.model_dump() == {"name": "Paris", "country": "France"}  # instructor adds private attributes
    assert clients.server.last_request.json["tool_choice"]["function"]["name"] == "City"


async def test_instructor_async(clients: Clients) -> None:
    """The async client through instructor.from_openai."""
    client = instructor.from_openai(clients.async_openai())
    clients.server.enqueue(Reply(tool_calls=[ToolCall(name="City", arguments=CITY_JSON)]))
    city = await client.chat.completions.create(model=OPENAI_MODEL, response_model=City,
                                                messages=[{"role": "user", "content": "capital of France?"}])
    assert city.name == "Paris"


# -- LangChain -----------------------------------------------------------------------------------------


def injected_chat_model(clients: Clients) -> ChatOpenAI:
    """ChatOpenAI with the SDK clients injected as LangChain documents it (the resource and the root client)."""
    sync_client, async_client = clients.openai(), clients.async_openai()
    return ChatOpenAI(model=OPENAI_MODEL, api_key=API_KEY,  # type: ignore[arg-type]
                      client=sync_client.chat.completions, root_client=sync_client,
                      async_client=async_client.chat.completions, root_async_client=async_client)


def test_langchain_invoke_and_stream(clients: Clients) -> None:
    """invoke and stream through the injected client reach the fake and return its text."""
    model = injected_chat_model(clients)
    clients.server.enqueue(Reply(text="Rivers flow."), Reply(chunks=["Riv", "ers"]))
    assert model.invoke("rivers?").content == "Rivers flow."
    assert "".join(str(chunk.content) for chunk in model.stream("rivers?")) == "Rivers"
    assert clients.server.request_count("/v1/chat/completions") == 2


def test_langchain_ainvoke(clients: Clients) -> None:
    """ainvoke goes through the injected async client."""
    model = injected_chat_model(clients)
    clients.server.enqueue(Reply(text="async ok"))
    # asyncio.run, not an async test: the injected async client must close on the loop that used it.
    async def run() -> str:
        try:
            return str((await model.ainvoke("rivers?")).content)
        finally:
            await model.root_async_client.close()  # type: ignore[union-attr]
    assert asyncio.run(run()) == "async ok"


def test_langchain_structured_output(clients: Clients) -> None:
    """with_structured_output: json_schema (default, via parse) and function_calling."""
    model = injected_chat_model(clients)
    clients.server.enqueue(Reply(text=CITY_JSON), Reply(tool_calls=[ToolCall(name="City", arguments=CITY_JSON)]))
    assert model.with_structured_output(City).invoke("capital?") == City(name="Paris", country="France")
    assert clients.server.last_request.json["response_format"]["type"] == "json_schema"
    by_tool = model.with_structured_output(City, method="function_calling").invoke("capital?")
    assert by_tool == City(name="Paris", country="France")


def test_langchain_http_client(clients: Clients) -> None:
    """ChatOpenAI(http_client=...) with the path's httpx2 client."""
    model = ChatOpenAI(model=OPENAI_MODEL, api_key=API_KEY, base_url=clients.server.openai_base_url,  # type: ignore[arg-type]
                       http_client=clients.http_client(), max_retries=0)
    clients.server.enqueue(Reply(text="via http_client"), Reply(chunks=["a", "b"]))
    assert model.invoke("hi").content == "via http_client"
    assert "".join(str(chunk.content) for chunk in model.stream("hi")) == "ab"


# -- openai-agents -------------------------------------------------------------------------------------


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def agent_models(clients: Clients) -> dict[str, OpenAIChatCompletionsModel | OpenAIResponsesModel]:
    client = clients.async_openai()
    return {"/v1/chat/completions": OpenAIChatCompletionsModel(model=OPENAI_MODEL, openai_client=client),
            "/v1/responses": OpenAIResponsesModel(model=OPENAI_MODEL, openai_client=client)}


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/responses"])
async def test_agent_run_with_a_tool(clients: Clients, path: str) -> None:
    """Runner.run: a tool call, the tool's result sent back, then the final answer."""
    agent = Agent(name="weather", instructions="Answer briefly.", model=agent_models(clients)[path],
                  tools=[get_weather])
    clients.server.enqueue(Reply(tool_calls=[ToolCall(name="get_weather", arguments='{"city":"Oslo"}')]),
                           Reply(text="It is sunny in Oslo."))
    result = await Runner.run(agent, "weather in Oslo?")
    assert result.final_output == "It is sunny in Oslo."
    assert clients.server.request_count(path) == 2
    assert "sunny in Oslo" in clients.server.last_request.body.decode()  # the tool's output went back


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/responses"])
async def test_agent_run_streamed(clients: Clients, path: str) -> None:
    """Runner.run_streamed: text deltas arrive as raw events and add up to the final output."""
    agent = Agent(name="plain", instructions="Answer briefly.", model=agent_models(clients)[path])
    clients.server.enqueue(Reply(chunks=["It ", "is ", "sunny."]))
    run = Runner.run_streamed(agent, "weather?")
    deltas = [event.data.delta async for event in run.stream_events()
              if event.type == "raw_response_event" and event.data.type == "response.output_text.delta"]
    assert clients.same_deltas(deltas, ["It ", "is ", "sunny."]) and run.final_output == "It is sunny."
    assert clients.server.last_request.json["stream"] is True
