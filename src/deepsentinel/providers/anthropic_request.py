"""OpenAI-style chat requests translated to Anthropic's Messages API body. Pure functions, no I/O.

What is translated:

- ``system`` and ``developer`` messages are lifted, wherever they appear, into ``system`` (joined by a blank line);
- consecutive messages of the same role are merged, since the Messages API wants user and assistant to alternate;
- text and ``image_url`` parts (``data:`` URLs become base64 sources, http(s) URLs become url sources), PDF
  ``file`` parts given as ``data:`` URLs become ``document`` blocks;
- assistant ``tool_calls`` become ``tool_use`` blocks and ``role: "tool"`` messages become ``tool_result`` blocks;
- ``max_tokens``/``max_completion_tokens`` (defaulted), ``stop``, ``tools``, ``tool_choice``,
  ``parallel_tool_calls``, ``user``/``safety_identifier`` (to ``metadata.user_id``), ``response_format``
  ``json_schema`` and ``reasoning_effort`` (to ``output_config``);
- ``temperature``, ``top_p``, ``top_k`` pass through untouched (the caller owns them: recent Claude models reject
  sampling parameters, and OpenAI's temperature goes up to 2 where Anthropic's stops at 1).

What is refused with ``ValidationError`` because it cannot be honoured: ``n`` > 1, ``response_format`` of type
``json_object``, legacy ``functions``/``function_call``, the ``function`` role, audio and unknown content parts.

What is dropped (``DROPPED_PARAMS``) because the Messages API has no equivalent; everything else passes through
to the body, so Anthropic-only parameters (``thinking``, ``metadata``, ``container``...) can be given directly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from deepsentinel.errors import ValidationError
from deepsentinel.providers.base import ChatRequest

# OpenAI parameters with no Messages API meaning. Dropping them keeps one call site working for both providers.
DROPPED_PARAMS = frozenset(
    {
        "audio",
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "modalities",
        "prediction",
        "presence_penalty",
        "prompt_cache_key",
        "seed",
        "store",
        "stream_options",  # read by the stream parser, not sent
        "top_logprobs",
        "verbosity",
        "web_search_options",
    }
)
# Keys consumed by the translation itself (they never reach the body under their OpenAI name).
_TRANSLATED = frozenset(
    {
        "max_tokens",
        "max_completion_tokens",
        "n",
        "parallel_tool_calls",
        "reasoning_effort",
        "response_format",
        "safety_identifier",
        "service_tier",
        "stop",
        "stream",  # ChatRequest.stream decides
        "tool_choice",
        "tools",
        "user",
        "functions",
        "function_call",
    }
)
_ANTHROPIC_SERVICE_TIERS = frozenset({"auto", "standard_only"})
_EFFORT = {"minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "xhigh"}
_IMAGE_MEDIA = {
    "image/jpeg": "image/jpeg",
    "image/jpg": "image/jpeg",  # a common misspelling OpenAI tolerates
    "image/png": "image/png",
    "image/gif": "image/gif",
    "image/webp": "image/webp",
}
_DATA_URL = re.compile(r"^data:(?P<media>[\w.+-]+/[\w.+-]+)(?:;[\w=.+-]+)*;base64,(?P<data>.*)$", re.DOTALL)


def build_messages_body(request: ChatRequest, default_max_tokens: int) -> dict[str, Any]:
    """The Messages API JSON body for ``request``. Raises ``ValidationError`` for what cannot be translated."""
    params = dict(request.params)
    system, messages = translate_messages(request.messages)
    body: dict[str, Any] = {"model": request.model, "messages": messages}
    if system:
        body["system"] = system
    body["max_tokens"] = _max_tokens(params, default_max_tokens)

    n = params.get("n")
    if n is not None and n != 1:
        raise ValidationError("n > 1 is not supported by Anthropic: make several calls instead")
    if "functions" in params or "function_call" in params:
        raise ValidationError("legacy functions/function_call are not translated for Anthropic: use tools")

    stop = params.get("stop")
    if stop is not None:
        body["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)

    if params.get("tools"):
        body["tools"] = [translate_tool(t) for t in params["tools"]]
    tool_choice = translate_tool_choice(params.get("tool_choice"), params.get("parallel_tool_calls"))
    if tool_choice is not None:
        body["tool_choice"] = tool_choice

    user_id = params.get("user") or params.get("safety_identifier")
    if user_id is not None:
        metadata = dict(params.pop("metadata", None) or {})
        metadata.setdefault("user_id", user_id)
        body["metadata"] = metadata

    output_config = _output_config(params)
    if output_config:
        body["output_config"] = output_config

    tier = params.get("service_tier")
    if tier in _ANTHROPIC_SERVICE_TIERS:  # OpenAI's tiers ("default", "flex", "priority") mean nothing here
        body["service_tier"] = tier

    for key, value in params.items():
        if key in DROPPED_PARAMS or key in _TRANSLATED or key in body:
            continue
        body[key] = value  # unknown provider parameters pass through
    if request.stream:
        body["stream"] = True
    return body


def _max_tokens(params: Mapping[str, Any], default: int) -> int:
    value = params.get("max_completion_tokens")
    if value is None:
        value = params.get("max_tokens")
    if value is None:
        return default  # the Messages API requires max_tokens; OpenAI lets it default to the model's limit
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValidationError("max_tokens must be a positive integer")
    return value


def _output_config(params: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = dict(params.pop("output_config", None) or {})
    fmt = params.get("response_format")
    if isinstance(fmt, Mapping):
        kind = fmt.get("type")
        if kind == "json_schema":
            spec = fmt.get("json_schema") or {}
            schema = spec.get("schema") if isinstance(spec, Mapping) else None
            if not isinstance(schema, Mapping):
                raise ValidationError("response_format json_schema needs a 'schema' object")
            config["format"] = {"type": "json_schema", "schema": dict(schema)}
        elif kind == "json_object":
            raise ValidationError(
                "response_format json_object has no Anthropic equivalent: use a json_schema response_format"
            )
        elif kind not in (None, "text"):
            raise ValidationError(f"response_format type {_named(kind)} is not supported for Anthropic")
    effort = params.get("reasoning_effort")
    if effort in _EFFORT:
        config["effort"] = _EFFORT[effort]
    return config


def translate_messages(messages: Sequence[Mapping[str, Any]]) -> tuple[str | None, list[dict[str, Any]]]:
    """Split OpenAI messages into Anthropic's ``system`` text and alternating user/assistant messages."""
    # The guard sends messages as the caller gave them, for the provider to judge; here they must first be translated.
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise ValidationError("messages must be a list of messages to translate for Anthropic")
    system_parts: list[str] = []
    turns: list[dict[str, Any]] = []
    for position, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise ValidationError(f"message {position}: must be an object, not {type(message).__name__}")
        role = message.get("role")
        if role in ("system", "developer"):
            text = _plain_text(message.get("content"), position)
            if text:
                system_parts.append(text)
            continue
        if role == "user":
            blocks = _content_blocks(message.get("content"), position)
            role_out = "user"
        elif role == "assistant":
            blocks = _assistant_blocks(message, position)
            role_out = "assistant"
        elif role == "tool":
            blocks = [_tool_result(message, position)]
            role_out = "user"  # tool results travel in a user turn
        else:
            raise ValidationError(f"message {position}: role {_named(role)} is not supported for Anthropic")
        if not blocks:
            continue  # the Messages API rejects empty content; an empty OpenAI message carries nothing
        if turns and turns[-1]["role"] == role_out:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role_out, "content": blocks})
    for turn in turns:
        if turn["role"] == "user":
            # tool_result blocks must open the user turn that answers the tool calls
            turn["content"].sort(key=lambda b: b.get("type") != "tool_result")
    if not turns:
        raise ValidationError("at least one user or assistant message is required")
    system = "\n\n".join(system_parts) if system_parts else None
    return system, turns


def _plain_text(content: Any, position: int) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, Mapping) or part.get("type") != "text":
                raise ValidationError(f"message {position}: system messages may only hold text parts")
            texts.append(str(part.get("text", "")))
        return "\n".join(texts)
    raise ValidationError(f"message {position}: content must be a string or a list of parts")


def _content_blocks(content: Any, position: int) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        raise ValidationError(f"message {position}: content must be a string or a list of parts")
    blocks: list[dict[str, Any]] = []
    for index, part in enumerate(content):
        if not isinstance(part, Mapping):
            raise ValidationError(f"message {position} part {index}: parts must be objects")
        blocks.append(_part_block(part, f"message {position} part {index}"))
    return blocks


def _part_block(part: Mapping[str, Any], where: str) -> dict[str, Any]:
    kind = part.get("type")
    if kind == "text":
        block: dict[str, Any] = {"type": "text", "text": str(part.get("text", ""))}
    elif kind == "refusal":  # an earlier assistant refusal, replayed as text
        block = {"type": "text", "text": str(part.get("refusal", ""))}
    elif kind == "image_url":
        spec = part.get("image_url")
        url = spec.get("url") if isinstance(spec, Mapping) else spec
        source = _source(url, where, "image")
        if source["type"] == "base64":
            media = _IMAGE_MEDIA.get(source["media_type"])
            if media is None:
                raise ValidationError(f"{where}: Anthropic takes JPEG, PNG, GIF or WebP images only")
            source["media_type"] = media
        block = {"type": "image", "source": source}
    elif kind == "file":
        spec = part.get("file")
        data = spec.get("file_data") if isinstance(spec, Mapping) else None
        source = _source(data, where, "file")
        if source.get("media_type") != "application/pdf":
            raise ValidationError(f"{where}: only PDF files given as data: URLs are supported for Anthropic")
        block = {"type": "document", "source": source}
    elif kind in ("image", "document", "tool_use", "tool_result"):
        return dict(part)  # already an Anthropic block: the caller wrote the native format
    else:
        raise ValidationError(f"{where}: content part type {_named(kind)} is not supported for Anthropic")
    if "cache_control" in part:  # Anthropic's prompt caching marker, allowed on OpenAI-style parts too
        block["cache_control"] = part["cache_control"]
    return block


def _source(url: Any, where: str, what: str) -> dict[str, Any]:
    if not isinstance(url, str) or not url:
        raise ValidationError(f"{where}: {what} part needs a URL")
    match = _DATA_URL.match(url)
    if match:
        return {"type": "base64", "media_type": match.group("media"), "data": match.group("data")}
    if url.startswith(("https://", "http://")):
        return {"type": "url", "url": url}
    raise ValidationError(f"{where}: {what} URL must be a base64 data: URL or an http(s) URL")


def _assistant_blocks(message: Mapping[str, Any], position: int) -> list[dict[str, Any]]:
    blocks = _content_blocks(message.get("content"), position)
    if message.get("function_call"):
        raise ValidationError(f"message {position}: legacy function_call is not translated: use tool_calls")
    calls = message.get("tool_calls") or []
    if not isinstance(calls, list):
        raise ValidationError(f"message {position}: tool_calls must be a list")
    for call in calls:
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(function, Mapping) or not call.get("id") or not function.get("name"):
            raise ValidationError(f"message {position}: each tool call needs an id and a function name")
        blocks.append(
            {
                "type": "tool_use",
                "id": call["id"],
                "name": function["name"],
                "input": _arguments(function.get("arguments"), position),
            }
        )
    return blocks


def _arguments(raw: Any, position: int) -> Any:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, Mapping):
        return dict(raw)
    try:
        value = json.loads(raw)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"message {position}: tool call arguments are not valid JSON") from exc
    if not isinstance(value, dict):
        raise ValidationError(f"message {position}: tool call arguments must be a JSON object")
    return value


def _tool_result(message: Mapping[str, Any], position: int) -> dict[str, Any]:
    tool_use_id = message.get("tool_call_id")
    if not tool_use_id:
        raise ValidationError(f"message {position}: tool messages need a tool_call_id")
    content = message.get("content")
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id}
    if isinstance(content, list):
        block["content"] = _content_blocks(content, position)
    else:
        block["content"] = "" if content is None else str(content)
    return block


def translate_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAI function tool as an Anthropic tool; tools already in Anthropic's shape pass through."""
    if tool.get("type") == "function" or "function" in tool:
        function = tool.get("function")
        if not isinstance(function, Mapping) or not function.get("name"):
            raise ValidationError("each function tool needs a function name")
        out: dict[str, Any] = {
            "name": function["name"],
            "input_schema": dict(function.get("parameters") or {"type": "object", "properties": {}}),
        }
        if function.get("description"):
            out["description"] = function["description"]
        if function.get("strict") is not None:
            out["strict"] = function["strict"]
        return out
    if tool.get("type") == "custom":
        raise ValidationError("custom (free-form) tools are not supported for Anthropic")
    return dict(tool)  # a native Anthropic tool (server tools, or {name, input_schema})


def translate_tool_choice(choice: Any, parallel_tool_calls: Any = None) -> dict[str, Any] | None:
    """OpenAI's ``tool_choice`` (and ``parallel_tool_calls=False``) as Anthropic's ``tool_choice``."""
    out: dict[str, Any] | None
    if choice is None:
        out = None
    elif choice == "auto":
        out = {"type": "auto"}
    elif choice == "none":
        out = {"type": "none"}
    elif choice == "required":
        out = {"type": "any"}
    elif isinstance(choice, Mapping) and choice.get("type") == "function":
        function = choice.get("function")
        if not isinstance(function, Mapping) or not function.get("name"):
            raise ValidationError("tool_choice of type function needs a function name")
        out = {"type": "tool", "name": function["name"]}
    elif isinstance(choice, Mapping) and choice.get("type") in ("auto", "any", "tool", "none"):
        out = dict(choice)  # already Anthropic's shape
    else:
        raise ValidationError("tool_choice must be 'auto', 'none', 'required' or a function choice")
    if parallel_tool_calls is False:
        out = out or {"type": "auto"}
        if out["type"] != "none":
            out["disable_parallel_tool_use"] = True
    return out


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,39}")


def _named(value: Any) -> str:
    """A setting's value as an error may show it: quoted when it is a plain name (``'wizard'``), else only its
    kind. Errors reach logs and the gateway's answers, and a value no API defines may be anything (a prompt, an
    SSN) that no check has read."""
    return repr(value) if isinstance(value, str) and _NAME.fullmatch(value) else f"(a {type(value).__name__})"
