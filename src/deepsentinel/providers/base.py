"""The provider adapter contract: translation between OpenAI-style calls and a provider's wire format.

Adapters do no I/O. They build an ``HttpRequest`` and parse what comes back (a JSON body, an error, or one
server-sent event at a time); the transport (``providers/transport.py``) sends and receives. The same adapters
can therefore serve the sync client, the async client and a gateway server.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from openai.types import Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from deepsentinel.errors import ProviderError

#: What a provider answers when it, not the request, failed (a timeout, a rate limit, overload, a server error): worth
#: another target, or reopening a stream that failed before any of it was shown. A 4xx request error would fail
#: anywhere. (A retry of the same target follows the SDKs' own rule instead: ``stream_bodies._worth_another_try``.)
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504, 529})


@dataclass(frozen=True)
class HttpRequest:
    """Everything the transport needs to send one request. ``headers`` may hold keys: never log them."""

    method: str
    url: str
    headers: Mapping[str, str]
    json: Mapping[str, Any] | None = None
    stream: bool = False
    timeout: float | None = None  # the provider's own timeout (``ProviderConfig.timeout``), else the pool's

    def __repr__(self) -> str:  # headers carry credentials
        return f"HttpRequest({self.method} {self.url}, stream={self.stream})"


@dataclass(frozen=True)
class ChatRequest:
    """An OpenAI-style chat call after validation: what every adapter translates from."""

    model: str
    messages: list[dict[str, Any]]
    stream: bool = False
    params: dict[str, Any] = field(default_factory=dict)


class StreamParser(Protocol):
    """Turns a provider's server-sent events into OpenAI chunks, one event at a time."""

    done: bool

    def feed(self, event: str, data: str) -> list[ChatCompletionChunk]:
        """Parse one event; return the chunks it produces (possibly none). Raises ``ProviderError``."""
        ...


class ChatAdapter(Protocol):
    """A provider's chat wire format."""

    @property
    def name(self) -> str: ...

    def build_chat_request(self, request: ChatRequest) -> HttpRequest: ...

    def parse_chat_response(self, body: bytes, model: str) -> ChatCompletion: ...

    def parse_error(self, status_code: int, headers: Mapping[str, str], body: bytes) -> ProviderError: ...

    def stream_parser(self, request: ChatRequest) -> StreamParser: ...


def load_json(body: bytes, provider: str) -> Any:
    """Decode a JSON body, turning garbage into a ``ProviderError`` that names the provider."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProviderError("provider returned a body that is not valid JSON", provider=provider) from exc


def without_key(error: ProviderError, api_key: str | None) -> ProviderError:
    """``error`` with ``api_key`` blanked from its message: some servers echo the key they rejected."""
    if api_key and api_key in error.message:
        error.message = error.message.replace(api_key, "***")
        error.args = (error.message,)
    return error


def error_message(payload: Any, fallback: str) -> tuple[str, str | None]:
    """Extract ``(message, type)`` from the ``{"error": {...}}`` envelope both OpenAI and Anthropic use."""
    if isinstance(payload, Mapping):
        err = payload.get("error")
        if isinstance(err, Mapping):
            msg = err.get("message")
            kind = err.get("type") or err.get("code")
            return (str(msg) if msg else fallback), (str(kind) if kind else None)
        if isinstance(err, str):
            return err, None
    return fallback, None


@dataclass(frozen=True)
class ModelsPage:
    """One page of a model listing: the models, and the cursor for the next page when ``has_more``."""

    models: list[Model]
    has_more: bool = False
    last_id: str | None = None
