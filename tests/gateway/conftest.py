"""Fixtures: the gateway served by uvicorn on loopback (in a thread), in front of the fake LLM server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn

from deepsentinel.gateway import create_app
from deepsentinel.gateway.app import Gateway
from deepsentinel.sentinel import Sentinel
from deepsentinel.testing import FakeLLMServer

CLIENT_KEY = "gw-test-" + "k" * 24
UPSTREAM_KEY = "sk-upstream-" + "u" * 24


class RunningGateway:
    """A gateway app served on 127.0.0.1 by uvicorn in a background thread."""

    def __init__(self, app: Gateway) -> None:
        self.app = app
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="on", loop="asyncio", server_header=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RunningGateway:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the gateway did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def gateway_env(fake: FakeLLMServer, **extra: str) -> dict[str, str]:
    env = {
        "OPENAI_BASE_URL": fake.openai_base_url, "OPENAI_API_KEY": UPSTREAM_KEY,
        "ANTHROPIC_BASE_URL": fake.anthropic_base_url, "ANTHROPIC_API_KEY": UPSTREAM_KEY,
        "DEEPSENTINEL_GATEWAY_KEYS": f"tests={CLIENT_KEY}", "DEEPSENTINEL_AUDIT": "false",
    }
    env.update(extra)
    return env


StartGateway = Callable[..., RunningGateway]


@pytest.fixture
def start_gateway(fake_server: FakeLLMServer) -> Iterator[StartGateway]:
    """``start_gateway(sentinel=None, **env)``: a running gateway in front of ``fake_server``."""
    running: list[RunningGateway] = []

    def start(sentinel: Sentinel | None = None, **env: str) -> RunningGateway:
        environ = gateway_env(fake_server, **env)
        if sentinel is None:
            sentinel = Sentinel(environ=environ)
        gw = RunningGateway(create_app(environ, sentinel=sentinel)).__enter__()
        running.append(gw)
        return gw

    yield start
    for gw in running:
        gw.__exit__(None, None, None)


@pytest.fixture
def gateway(start_gateway: StartGateway) -> RunningGateway:
    return start_gateway()
