"""Review of the hand-over of the guard's parse to the SDK's first ``json()``: it must not change what a response
is (a copy parses its body), nor hold the parse in a response nobody parses."""

from __future__ import annotations

import copy
import gc
import json
import pickle
import tracemalloc
from typing import Any

import pytest

from deepsentinel import AsyncSentinelClient, SentinelClient
from deepsentinel.testing import FakeLLMServer, Reply

from ..conftest import user


async def _raw(client: Any) -> Any:
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=user("hello"))
    return await raw if hasattr(raw, "__await__") else raw


async def _close(client: Any) -> None:
    closed = client.close()
    if closed is not None:
        await closed


@pytest.mark.parametrize("client_class", [SentinelClient, AsyncSentinelClient])
@pytest.mark.parametrize("clone", [lambda r: pickle.loads(pickle.dumps(r)),
                                   lambda r: pickle.loads(pickle.dumps(r, protocol=0)), copy.deepcopy],
                         ids=["pickle", "pickle-protocol-0", "deepcopy"])
async def test_a_copied_response_still_parses_its_body(fake_server: FakeLLMServer, client_class: type, clone: Any) -> None:
    """An httpx response is picklable and deep-copyable; its copy's json() is its body parsed (the SDK's parse()
    already called json() once on the original)."""
    fake_server.enqueue(Reply(text="Mountains stand tall."))
    client = client_class(openai_api_key="k", base_url=fake_server.openai_base_url, audit=False)
    try:
        raw = await _raw(client)
        raw.parse()  # the SDK reads json() once, as every create() does
        response = raw.http_response
        assert clone(response).json() == json.loads(response.content)
    finally:
        await _close(client)


def test_a_response_nobody_parses_holds_only_its_body(fake_server: FakeLLMServer) -> None:
    """A caller that reads a raw answer's bytes and never calls json() keeps the body, not also the guard's parse
    of it, for as long as it keeps the response."""
    text = "Mountains stand tall over quiet valleys. " * 25_000  # about 1 MB of answer
    client = SentinelClient(openai_api_key="k", base_url=fake_server.openai_base_url, audit=False)
    fake_server.enqueue(Reply(text="warm up"), Reply(text=text))
    client.chat.completions.create(model="gpt-4o", messages=user("hello"))
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        with client.chat.completions.with_streaming_response.create(model="gpt-4o", messages=user("hello")) as raw:
            body = b"".join(raw.iter_bytes())
            response = raw.http_response
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        client.close()
    assert len(body) > len(text)
    assert held < 1.5 * len(body), f"{held} bytes held for a {len(body)}-byte body"
    del response
