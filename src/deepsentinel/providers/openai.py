"""The OpenAI chat-completions wire format, for OpenAI and any compatible server (vLLM, Ollama, Azure-style)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pydantic
from openai.types import CreateEmbeddingResponse, Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from deepsentinel.errors import ProviderError
from deepsentinel.providers.base import (
    ChatRequest,
    HttpRequest,
    ModelsPage,
    error_message,
    load_json,
    without_key,
)
from deepsentinel.providers.retry import error_for_status

DEFAULT_BASE_URL = "https://api.openai.com/v1"


@dataclass
class OpenAIStreamParser:
    """Parses ``data: {...}`` events into chunks until ``data: [DONE]``."""

    provider: str
    done: bool = False

    def feed(self, event: str, data: str) -> list[ChatCompletionChunk]:
        if self.done:
            return []
        if data.strip() == "[DONE]":
            self.done = True
            return []
        if not data.strip():
            return []
        payload = load_json(data.encode(), self.provider)
        if isinstance(payload, Mapping) and "error" in payload:
            message, kind = error_message(payload, "provider reported an error mid-stream")
            raise ProviderError(message, provider=self.provider, error_type=kind)
        try:
            return [ChatCompletionChunk.model_validate(payload)]
        except pydantic.ValidationError as exc:
            raise ProviderError("provider sent a malformed stream chunk", provider=self.provider) from exc


@dataclass(frozen=True)
class OpenAIAdapter:
    """Builds chat-completions requests and parses their replies. Unknown parameters pass through untouched.

    ``api_version`` adds Azure's ``?api-version=`` query and ``api-key`` header when set.
    """

    api_key: str | None = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    name: str = "openai"
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    api_version: str | None = None
    timeout: float | None = None

    def _headers(self) -> dict[str, str]:
        h = {"content-type": "application/json", "accept": "application/json"}
        if self.api_key:
            if self.api_version:
                h["api-key"] = self.api_key
            else:
                h["authorization"] = f"Bearer {self.api_key}"
        h.update(self.headers)
        return h

    def url(self, path: str) -> str:
        url = self.base_url.rstrip("/") + path
        if self.api_version:
            url += f"?api-version={self.api_version}"
        return url

    def build_chat_request(self, request: ChatRequest) -> HttpRequest:
        body: dict[str, Any] = {"model": request.model, "messages": request.messages, **request.params}
        if request.stream:
            body["stream"] = True
        headers = self._headers()
        if request.stream:
            headers["accept"] = "text/event-stream"
        return HttpRequest("POST", self.url("/chat/completions"), headers, body, stream=request.stream, timeout=self.timeout)

    def parse_chat_response(self, body: bytes, model: str) -> ChatCompletion:
        payload = load_json(body, self.name)
        try:
            return ChatCompletion.model_validate(payload)
        except pydantic.ValidationError as exc:
            raise ProviderError("provider returned a malformed chat completion", provider=self.name) from exc

    def parse_error(self, status_code: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
        try:
            payload: Any = load_json(body, self.name)
        except ProviderError:
            payload = None
        message, kind = error_message(payload, f"HTTP {status_code}")
        return without_key(error_for_status(status_code, headers, message, self.name, kind), self.api_key)

    def stream_parser(self, request: ChatRequest) -> OpenAIStreamParser:
        return OpenAIStreamParser(self.name)

    def build_embeddings_request(self, body: Mapping[str, Any]) -> HttpRequest:
        return HttpRequest("POST", self.url("/embeddings"), self._headers(), dict(body), timeout=self.timeout)

    def parse_embeddings_response(self, body: bytes) -> CreateEmbeddingResponse:
        try:
            return CreateEmbeddingResponse.model_validate(load_json(body, self.name))
        except pydantic.ValidationError as exc:
            raise ProviderError("provider returned a malformed embeddings response", provider=self.name) from exc

    def build_models_request(self) -> HttpRequest:
        return HttpRequest("GET", self.url("/models"), self._headers(), timeout=self.timeout)

    def build_model_request(self, model_id: str) -> HttpRequest:
        return HttpRequest("GET", self.url("/models/" + quote(model_id, safe="")), self._headers(), timeout=self.timeout)

    def parse_models_response(self, body: bytes) -> ModelsPage:
        payload = load_json(body, self.name)
        if not isinstance(payload, Mapping) or not isinstance(payload.get("data"), list):
            raise ProviderError("provider returned a malformed model list", provider=self.name)
        return ModelsPage([self.parse_model(item) for item in payload["data"]])

    def parse_model_response(self, body: bytes) -> Model:
        return self.parse_model(load_json(body, self.name))

    def parse_model(self, item: Any) -> Model:
        try:
            return Model.model_validate(item)
        except pydantic.ValidationError as exc:
            raise ProviderError("provider returned a malformed model", provider=self.name) from exc
