"""The official ``openai`` npm package, run by Node, against every drop-in path that has a Node form."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepsentinel.testing import Reply
from tests.dropin.conftest import Clients
from tests.dropin.node_runner import node_missing, prepared_dir, run_dropin


@pytest.fixture(scope="session")
def node_dir() -> Path:
    """The installed npm package (once per lock file), or a skip where Node is absent."""
    missing = node_missing()
    if missing is not None:
        pytest.skip(missing)
    return prepared_dir()


def test_node_chat_stream_and_responses(clients: Clients, node_dir: Path) -> None:
    """Chat, streamed chat, Responses and streamed Responses from Node all get the scripted text."""
    if clients.factory.node_base_url is None:
        pytest.skip(f"the {clients.name} path has no Node form")
    clients.server.enqueue(Reply(text="one"), Reply(chunks=["t", "wo"]), Reply(text="three"),
                           Reply(chunks=["fo", "ur"]))
    result = run_dropin(node_dir, clients.factory.node_base_url(clients.server.openai_base_url), "rivers?")
    assert {name: (step["ok"], step["text"]) for name, step in result.items()} == {
        "chat": (True, "one"), "chatStream": (True, "two"), "responses": (True, "three"),
        "responsesStream": (True, "four"),
    }
    seen = [(r.path, r.json.get("stream")) for r in clients.server.requests]
    assert seen == [("/v1/chat/completions", None), ("/v1/chat/completions", True),
                    ("/v1/responses", None), ("/v1/responses", True)]
