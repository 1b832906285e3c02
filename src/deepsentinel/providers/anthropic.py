"""The Anthropic Messages API behind the OpenAI-shaped adapter contract.

Requests are translated in ``anthropic_request``, replies and streams in ``anthropic_response``; this module
holds the adapter (URLs, headers, errors) and the models listing. Usage::

    adapter = AnthropicAdapter(api_key=key)
    http = adapter.build_chat_request(ChatRequest("claude-sonnet-4-5", [{"role": "user", "content": "Hi"}]))
    completion = adapter.parse_chat_response(body, "claude-sonnet-4-5")  # an openai ChatCompletion
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import pydantic
from openai.types import Model
from openai.types.chat import ChatCompletion

from deepsentinel.errors import ProviderError
from deepsentinel.providers.anthropic_request import build_messages_body
from deepsentinel.providers.anthropic_response import AnthropicStreamParser, error_from_payload, parse_message
from deepsentinel.providers.base import ChatRequest, HttpRequest, ModelsPage, load_json, without_key

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_VERSION = "2023-06-01"
# The Messages API requires max_tokens; this is what a call that gives none gets. Every current Claude model
# can produce at least this much, and callers wanting longer answers say so.
DEFAULT_MAX_TOKENS = 4096


@dataclass(frozen=True)
class AnthropicAdapter:
    """Builds Messages API requests from OpenAI-style calls and parses the replies into OpenAI types.

    ``base_url`` is the API root without ``/v1`` (as in the ``anthropic`` SDK); a trailing ``/v1`` is tolerated.
    """

    api_key: str | None = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    name: str = "anthropic"
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    default_max_tokens: int = DEFAULT_MAX_TOKENS
    version: str = DEFAULT_VERSION
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)
    timeout: float | None = None

    def _headers(self, accept: str = "application/json") -> dict[str, str]:
        h = {"content-type": "application/json", "accept": accept, "anthropic-version": self.version}
        if self.api_key:
            h["x-api-key"] = self.api_key
        h.update(self.headers)
        return h

    def url(self, path: str) -> str:
        """``path`` (starting with ``/v1``) under ``base_url``."""
        root = self.base_url.rstrip("/")
        if root.endswith("/v1"):
            root = root[: -len("/v1")]
        return root + path

    def build_chat_request(self, request: ChatRequest) -> HttpRequest:
        """``POST /v1/messages`` for ``request``. Raises ``ValidationError`` for what cannot be translated."""
        body = build_messages_body(request, self.default_max_tokens)
        headers = self._headers("text/event-stream" if request.stream else "application/json")
        return HttpRequest("POST", self.url("/v1/messages"), headers, body, stream=request.stream, timeout=self.timeout)

    def parse_chat_response(self, body: bytes, model: str) -> ChatCompletion:
        """A Messages API reply as an OpenAI ``ChatCompletion``."""
        return parse_message(load_json(body, self.name), model, self.name, self.clock)

    def parse_error(self, status_code: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
        """The DeepSentinel error for an HTTP error reply (429 carries ``retry_after``, 529 is overload)."""
        try:
            payload: Any = load_json(body, self.name)
        except ProviderError:
            payload = None  # a proxy's HTML error page: the status still says what happened
        return without_key(error_from_payload(payload, status_code, headers, self.name), self.api_key)

    def stream_parser(self, request: ChatRequest) -> AnthropicStreamParser:
        """A parser for one streamed reply; honours ``stream_options.include_usage``."""
        options = request.params.get("stream_options")
        include_usage = isinstance(options, Mapping) and bool(options.get("include_usage"))
        return AnthropicStreamParser(self.name, request.model, include_usage=include_usage, clock=self.clock)

    # Models: Anthropic's listing, shaped like OpenAI's so ``client.models.list()`` can merge providers.
    def build_models_request(self, after_id: str | None = None, limit: int = 1000) -> HttpRequest:
        """``GET /v1/models``; page with ``after_id`` while ``ModelsPage.has_more``."""
        query: dict[str, str | int] = {"limit": limit}
        if after_id:
            query["after_id"] = after_id
        return HttpRequest("GET", self.url("/v1/models?" + urlencode(query)), self._headers(), timeout=self.timeout)

    def build_model_request(self, model_id: str) -> HttpRequest:
        """``GET /v1/models/{model_id}``."""
        return HttpRequest("GET", self.url("/v1/models/" + quote(model_id, safe="")), self._headers(), timeout=self.timeout)

    def parse_models_response(self, body: bytes) -> ModelsPage:
        """One page of Anthropic's model listing as OpenAI ``Model`` objects."""
        payload = load_json(body, self.name)
        if not isinstance(payload, Mapping) or not isinstance(payload.get("data"), list):
            raise ProviderError("provider returned a malformed model list", provider=self.name)
        models = [self._model(item) for item in payload["data"]]
        last_id = payload.get("last_id")
        return ModelsPage(models, bool(payload.get("has_more")), last_id if isinstance(last_id, str) else None)

    def parse_model_response(self, body: bytes) -> Model:
        """One Anthropic model description as an OpenAI ``Model``."""
        return self._model(load_json(body, self.name))

    def _model(self, item: Any) -> Model:
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            raise ProviderError("provider returned a malformed model", provider=self.name)
        try:
            created = int(datetime.fromisoformat(str(item.get("created_at")).replace("Z", "+00:00")).timestamp())
        except ValueError:
            created = 0  # the listing is still useful without a date
        try:
            return Model(id=item["id"], created=created, object="model", owned_by="anthropic")
        except pydantic.ValidationError as exc:
            raise ProviderError("provider returned a malformed model", provider=self.name) from exc
