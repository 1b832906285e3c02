"""A fake LLM server for tests, examples, benchmarks and ``deepsentinel demo``.

``FakeLLMServer`` is a real HTTP server on loopback speaking the OpenAI (chat completions, the
Responses API, legacy completions, embeddings, models) and Anthropic (messages, count_tokens) wire formats, with scripted replies and faults::

    from deepsentinel.testing import FakeLLMServer, Reply

    with FakeLLMServer() as server:
        server.enqueue(Reply(chunks=["Hello", " world"]), Reply(status=429, headers={"Retry-After": "1"}))
        ...  # point any client at server.openai_base_url or server.anthropic_base_url

Run one from a shell with ``python -m deepsentinel.testing --port 8765``.
"""

from __future__ import annotations

from deepsentinel.testing.replies import Reply, Rule, ToolCall, Usage
from deepsentinel.testing.request_log import RecordedRequest
from deepsentinel.testing.server import FakeLLMServer

__all__ = ["FakeLLMServer", "RecordedRequest", "Reply", "Rule", "ToolCall", "Usage"]
