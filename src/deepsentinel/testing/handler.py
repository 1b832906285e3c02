"""The HTTP side of the fake server: one handler per connection, routing and the endpoints."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from deepsentinel.testing import anthropic_wire, audio_wire, openai_wire, responses_wire
from deepsentinel.testing.replies import estimate_tokens
from deepsentinel.testing.request_log import RecordedRequest
from deepsentinel.testing.responder import Abort, ClientGone, Responder
from deepsentinel.testing.wire import (
    CallFacts,
    all_text,
    completion_prompt,
    last_user_text,
    responses_input_text,
    responses_prompt,
    unmatched_call_output,
    wants_obfuscation,
)


class FakeLLMHandler(Responder):
    """Serves one connection; the server object carries ``state`` (a :class:`ServerState`)."""

    protocol_version = "HTTP/1.1"  # keep-alive, and chunked SSE bodies
    server_version = "DeepSentinelFakeLLM/1.0"
    timeout = 30.0  # an idle keep-alive connection is dropped after this many seconds

    def setup(self) -> None:
        super().setup()
        # Small SSE writes must leave at once; Nagle would add ~40 ms to latency figures.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        """Silent: tests read ``server.requests`` instead."""

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's naming
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    # -- routing -------------------------------------------------------------------------------------

    def _serve(self) -> None:
        try:
            self._route()
        except ClientGone:  # before its answer began (a stream's hang-up is counted as the stream's)
            self.state.count_request_abandoned()
            self.close_connection = True
        except Abort:
            self.close_connection = True
        except OSError:  # the client went away mid-write
            self.close_connection = True

    def _route(self) -> None:
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        body = self._read_body()
        # A fault lasts one response, not the keep-alive connection.
        self._trickle, self._compress, self._compressor = 0.0, None, None
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = None
        self.state.log.append(RecordedRequest(self.command, path, headers, parsed, body, split.query))
        anthropic = path.startswith("/v1/messages") or "anthropic-version" in headers
        if path in ("/", "/health"):
            self._send_json(200, {"status": "ok"})
            return
        if not self._authorized(headers, anthropic):
            return
        if self.command == "POST" and path in audio_wire.PATHS:
            self._transcription(headers.get("content-type", ""), body)
            return
        if body and parsed is None:
            self._send_error(400, anthropic, "We could not parse the JSON body of your request.")
            return
        routes: dict[tuple[str, str], Callable[[Any, bool], None]] = {
            ("POST", "/v1/chat/completions"): self._chat,
            ("POST", "/v1/completions"): self._completions,
            ("POST", "/v1/responses"): self._responses,
            ("POST", "/v1/embeddings"): self._embeddings,
            ("POST", "/v1/audio/speech"): self._speech,
            ("POST", "/v1/images/generations"): self._images,
            ("POST", "/v1/messages"): self._messages,
            ("POST", "/v1/messages/count_tokens"): self._count_tokens,
            ("GET", "/v1/models"): self._models,
        }
        route = routes.get((self.command, path))
        if route is not None:
            route(parsed if isinstance(parsed, dict) else {}, anthropic)
        elif self.command == "GET" and path.startswith("/v1/models/"):
            self._model(path.removeprefix("/v1/models/"), anthropic)
        elif self.command == "GET" and path.startswith("/v1/files/") and path.endswith("/content"):
            self._file_content()
        elif anthropic:
            self._send_error(404, True, "Not Found")
        else:
            self._send_error(404, False, f"Invalid URL ({self.command} {path})", code="")

    def _authorized(self, headers: Mapping[str, str], anthropic: bool) -> bool:
        expected = self.state.api_key
        if expected is None:
            return True
        bearer = headers.get("authorization", "")
        offered = bearer.removeprefix("Bearer ").strip() if bearer.startswith("Bearer ") else None
        if anthropic and offered is None:
            offered = headers.get("x-api-key")
        if offered == expected:
            return True
        if anthropic:
            self._send_error(401, True, "invalid x-api-key")
        else:
            self._send_error(401, False, "Incorrect API key provided.")
        return False

    # -- endpoints -----------------------------------------------------------------------------------

    def _check_model(self, body: dict[str, Any], anthropic: bool) -> str | None:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            message = "model: Field required" if anthropic else "you must provide a model parameter"
            self._send_error(400, anthropic, message)
            return None
        if not self.state.is_known_model(model):
            if anthropic:
                self._send_error(404, True, f"model: {model}")
            else:
                message = f"The model `{model}` does not exist or you do not have access to it."
                self._send_error(404, False, message, code="model_not_found")
            return None
        return model

    def _facts(self, model: str, prompt_tokens: int) -> CallFacts:
        return CallFacts(model, prompt_tokens, self.state.next_number(), int(time.time()))

    def _chat(self, body: dict[str, Any], anthropic: bool) -> None:
        messages = body.get("messages")
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        prompt = last_user_text(messages)
        reply = self.state.reply_for(prompt, max_tokens)
        if self._send_if_fault(reply, False, prompt):
            return
        model = self._check_model(body, False)
        if model is None:
            return
        if not isinstance(messages, list) or not messages:
            self._send_error(400, False, "[] is too short - 'messages'", param="messages")
            return
        facts = self._facts(model, estimate_tokens(all_text(messages)))
        raw_n = body.get("n")
        n = raw_n if isinstance(raw_n, int) and raw_n > 0 else 1
        if body.get("stream") is True:
            options = body.get("stream_options") or {}
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            events = openai_wire.stream_events(reply, facts, n=n, include_usage=include_usage,
                                               obfuscate=wants_obfuscation(body))
            self._send_sse(reply, events, "openai")
        else:
            self._send_json(200, openai_wire.chat_completion(reply, facts, n), reply)

    def _completions(self, body: dict[str, Any], anthropic: bool) -> None:
        prompt = completion_prompt(body.get("prompt"))
        reply = self.state.reply_for(prompt, body.get("max_tokens"))
        if self._send_if_fault(reply, False, prompt):
            return
        model = self._check_model(body, False)
        if model is None:
            return
        if "prompt" not in body:
            self._send_error(400, False, "'prompt' is a required property", param="prompt")
            return
        facts = self._facts(model, estimate_tokens(prompt))
        if body.get("stream") is True:
            options = body.get("stream_options") or {}
            include_usage = isinstance(options, dict) and options.get("include_usage") is True
            self._send_sse(reply, openai_wire.completion_events(reply, facts, include_usage=include_usage), "openai")
        else:
            self._send_json(200, openai_wire.text_completion(reply, facts), reply)

    def _responses(self, body: dict[str, Any], anthropic: bool) -> None:
        raw_input = body.get("input")
        prompt = responses_prompt(raw_input)
        reply = self.state.reply_for(prompt, body.get("max_output_tokens"))
        if self._send_if_fault(reply, False, prompt):
            return
        model = self._check_model(body, False)
        if model is None:
            return
        orphan = unmatched_call_output(raw_input) if body.get("previous_response_id") is None else None
        if orphan is not None:
            self._send_error(400, False, f"No tool call found for function call output with call_id {orphan}.",
                             param="input")
            return
        facts = self._facts(model, estimate_tokens(responses_input_text(raw_input, body.get("instructions"))))
        if body.get("stream") is True:
            self._send_sse(reply, responses_wire.stream_events(reply, facts, body), "responses")
        else:
            self._send_json(200, responses_wire.response(reply, facts, body), reply)

    def _messages(self, body: dict[str, Any], anthropic: bool) -> None:
        messages = body.get("messages")
        prompt = last_user_text(messages)
        reply = self.state.reply_for(prompt, body.get("max_tokens"))
        if self._send_if_fault(reply, True, prompt):
            return
        for name in ("model", "max_tokens", "messages"):
            if name not in body:
                self._send_error(400, True, f"{name}: Field required")
                return
        model = self._check_model(body, True)
        if model is None:
            return
        facts = self._facts(model, estimate_tokens(all_text(messages, body.get("system"))))
        if body.get("stream") is True:
            self._send_sse(reply, anthropic_wire.stream_events(reply, facts), "anthropic")
        else:
            self._send_json(200, anthropic_wire.message(reply, facts), reply)

    def _count_tokens(self, body: dict[str, Any], anthropic: bool) -> None:
        if self._check_model(body, True) is not None:
            self._send_json(200, {"input_tokens": estimate_tokens(all_text(body.get("messages"), body.get("system")))})

    def _speech(self, body: dict[str, Any], anthropic: bool) -> None:
        text = body.get("input")
        if not isinstance(text, str) or not text:
            self._send_error(400, False, "'input' is a required property", param="input")
            return
        self._send_bytes(200, openai_wire.speech_audio(text), "audio/mpeg", {})

    def _transcription(self, content_type: str, body: bytes) -> None:
        fields = audio_wire.form_fields(content_type, body)
        if fields is None:
            self._send_error(400, False, "Expected a multipart/form-data body with the audio file.")
            return
        reply = self.state.reply_for(fields.get("prompt", ""))
        if self._send_if_fault(reply, False):
            return
        if not fields.get("model"):
            self._send_error(400, False, "you must provide a model parameter", param="model")
            return
        if fields.get("stream") == "true":
            self._send_sse(reply, audio_wire.stream_events(reply), "openai")
            return
        data, kind = audio_wire.transcript(reply, fields.get("response_format", "json"))
        self._wait(reply.delay_before)
        self._send_bytes(200, data, kind, reply.headers)

    def _images(self, body: dict[str, Any], anthropic: bool) -> None:
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            self._send_error(400, False, "'prompt' is a required property", param="prompt")
            return
        self._send_json(200, openai_wire.generated_images(prompt, body.get("n")))

    def _embeddings(self, body: dict[str, Any], anthropic: bool) -> None:
        raw = body.get("input")
        prompt = raw if isinstance(raw, str) else " ".join(x for x in raw if isinstance(x, str)) if isinstance(raw, list) else ""
        reply = self.state.reply_for(prompt)
        if self._send_if_fault(reply, False, prompt):
            return
        model = self._check_model(body, False)
        if model is None:
            return
        if raw is None or raw == "" or raw == []:
            self._send_error(400, False, "'input' is a required property", param="input")
            return
        self._send_json(200, openai_wire.embeddings(body, model), reply)

    def _file_content(self) -> None:
        """A stored file's bytes (``files.content``): the reply's text, as OpenAI serves a file."""
        reply = self.state.reply_for("")
        if self._send_if_fault(reply, False):
            return
        self._wait(reply.delay_before)
        self._send_bytes(200, reply.content_text().encode(), "application/octet-stream", reply.headers)

    def _models(self, body: dict[str, Any], anthropic: bool) -> None:
        reply = self.state.reply_for("")
        if self._send_if_fault(reply, anthropic):
            return
        wire = anthropic_wire if anthropic else openai_wire
        self._send_json(200, wire.model_list(self.state.listed_models()), reply)

    def _model(self, model: str, anthropic: bool) -> None:
        reply = self.state.reply_for("")
        if self._send_if_fault(reply, anthropic):
            return
        if self._check_model({"model": model}, anthropic) is not None:
            wire = anthropic_wire if anthropic else openai_wire
            self._send_json(200, wire.model_object(model), reply)
