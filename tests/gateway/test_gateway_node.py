"""A client in another language: the official ``openai`` npm package, run by Node against the gateway.

The package is installed once per lock file with ``npm ci`` into a cache directory outside the repository
(``$XDG_CACHE_HOME`` or ``~/.cache``), so the work tree never holds ``node_modules``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from deepsentinel.testing import FakeLLMServer, Reply
from tests.dropin.node_runner import prepared_dir
from tests.gateway.conftest import CLIENT_KEY, RunningGateway

NODE_DIR = Path(__file__).resolve().parent / "node"
_FILES = ("package.json", "package-lock.json", "gateway.mjs")

pytestmark = pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None,
                                reason="node and npm are needed")


def _prepared() -> Path:
    return prepared_dir(NODE_DIR, _FILES, prefix="gateway-node")


@pytest.mark.timeout(360)
def test_openai_npm_package_through_the_gateway(gateway: RunningGateway, fake_server: FakeLLMServer) -> None:
    """Node's openai client: a chat, a streamed chat, and a blocked prompt as a 400 compliance_violation."""
    directory = _prepared()
    fake_server.enqueue(Reply(text="Hello from upstream."), Reply(chunks=["Hi", " there."]))
    blocked = "My SSN is 536-22-" + "1234"
    done = subprocess.run(["node", str(directory / "gateway.mjs"), gateway.url + "/v1", CLIENT_KEY, blocked],
                          cwd=directory, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["chat"] == "Hello from upstream."
    assert result["stream"] == "Hi there."
    assert result["blocked"] == {"status": 400, "type": "compliance_violation", "code": "compliance_violation",
                                 "violations": ["US_SSN"]}
    assert fake_server.request_count() == 2
