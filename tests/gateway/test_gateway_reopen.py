"""Through the gateway, a stream reopened before any of it was shown shows the client one attempt."""

from __future__ import annotations

import anthropic
import openai

from deepsentinel.testing import FakeLLMServer, Reply, ToolCall
from tests.gateway.conftest import CLIENT_KEY, StartGateway

WEATHER = ToolCall("get_weather", '{"city": "Paris"}', argument_chunks=['{"city":', ' "Paris"}'])
HI = [{"role": "user", "content": "hi"}]


def test_through_the_gateway_a_reopened_stream_shows_one_attempt(
    start_gateway: StartGateway, fake_server: FakeLLMServer
) -> None:
    gateway = start_gateway(DEEPSENTINEL_MAX_RETRIES="1", DEEPSENTINEL_RETRY_BACKOFF="0")
    fake_server.enqueue(Reply(text="lost", error_after=0), Reply(text="Second try."),
                        Reply(tool_calls=[WEATHER], disconnect_after=1), Reply(tool_calls=[WEATHER]))
    with openai.OpenAI(base_url=gateway.url + "/v1", api_key=CLIENT_KEY, max_retries=0) as client:
        with client.chat.completions.stream(model="claude-3-5-haiku-20241022", messages=HI) as stream:
            message = stream.get_final_completion().choices[0].message
        assert (message.role, message.content) == ("assistant", "Second try.")
    with anthropic.Anthropic(base_url=gateway.url, api_key=CLIENT_KEY, max_retries=0) as native, \
            native.messages.stream(model="claude-3-5-haiku-20241022", max_tokens=64, messages=HI,
                                   tools=[{"name": "get_weather", "input_schema": {"type": "object"}}]) as nstream:
        blocks = nstream.get_final_message().content
    assert [(b.type, b.name) for b in blocks] == [("tool_use", "get_weather")]
    assert fake_server.request_count() == 4
