"""Timeouts: the SDK's defaults unless ``PerformanceConfig`` sets some (field by field), ``timeout=`` over both."""

from __future__ import annotations

import httpx2

from deepsentinel import PerformanceConfig, SentinelConfig
from deepsentinel.testing import FakeLLMServer
from tests.conftest import create, user


async def test_timeouts_set_in_performance_config_win_field_by_field(make_client, fake_server: FakeLLMServer) -> None:
    """read_timeout set: calls read with it, and the limits left unset are the SDK's (connect 5 s, else 600 s);
    the official timeout= still wins over PerformanceConfig."""
    config = SentinelConfig(performance_config=PerformanceConfig(read_timeout=30.0))
    client = make_client(config=config)
    assert client.timeout == httpx2.Timeout(connect=5.0, read=30.0, write=600, pool=600)
    await create(client, model="gpt-4o", messages=user("hi"))
    assert fake_server.last_request.headers["x-stainless-read-timeout"] == "30.0"

    official = make_client(config=config, timeout=12.0)
    assert official.timeout == 12.0
    await create(official, model="gpt-4o", messages=user("hi"))
    assert fake_server.last_request.headers["x-stainless-read-timeout"] == "12.0"
