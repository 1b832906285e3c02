"""OpenAI's wire shapes: chat and legacy completions (JSON and chunks), embeddings and models."""

from __future__ import annotations

import base64
import hashlib
import math
import random
import struct
from collections.abc import Iterator, Sequence
from itertools import zip_longest
from typing import Any

from deepsentinel.testing.replies import Reply, ToolCall, Usage, split_text
from deepsentinel.testing.wire import CallFacts, SseEvent, json_event, obfuscation, usage_for

SYSTEM_FINGERPRINT = "fp_deepsentinel_fake"
_EMBEDDING_DIMENSIONS = {"text-embedding-3-large": 3072}
_DEFAULT_EMBEDDING_DIMENSIONS = 1536


def _usage(usage: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _call_id(call: ToolCall, facts: CallFacts, index: int) -> str:
    return call.id or f"call_fake{facts.request_number:04d}x{index}"


def completion_id(facts: CallFacts) -> str:
    """A stable id for the request's completion."""
    return f"chatcmpl-fake{facts.request_number:06d}"


def chat_completion(reply: Reply, facts: CallFacts, n: int = 1) -> dict[str, Any]:
    """A ``chat.completion`` object with ``n`` identical choices."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if (reply.refusal is not None or (reply.tool_calls and not reply.content_text()))
        else reply.content_text(),
        "refusal": reply.refusal,
        "annotations": [],
    }
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": _call_id(call, facts, j),
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for j, call in enumerate(reply.tool_calls)
        ]
    return {
        "id": completion_id(facts),
        "object": "chat.completion",
        "created": facts.created,
        "model": facts.model,
        "choices": [
            {"index": i, "message": message, "logprobs": None, "finish_reason": reply.resolved_finish_reason()}
            for i in range(n)
        ],
        "usage": _usage(usage_for(reply, facts, n)),
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def _choice_deltas(reply: Reply, facts: CallFacts) -> list[tuple[dict[str, Any], bool]]:
    """One choice's deltas in order, each with whether it is a counted (content) delta."""
    text_first = reply.content_text() or not reply.tool_calls
    deltas: list[tuple[dict[str, Any], bool]] = [
        ({"role": "assistant", "content": "" if text_first else None, "refusal": None}, False)
    ]
    deltas += [({"content": piece}, True) for piece in reply.content_chunks()]
    if reply.refusal is not None:
        deltas += [({"refusal": piece}, True) for piece in split_text(reply.refusal, reply.chunk_size)]
    for j, call in enumerate(reply.tool_calls):
        head = {"index": j, "id": _call_id(call, facts, j), "type": "function",
                "function": {"name": call.name, "arguments": ""}}
        deltas.append(({"tool_calls": [head]}, False))
        deltas += [
            ({"tool_calls": [{"index": j, "function": {"arguments": piece}}]}, True)
            for piece in call.stream_pieces()
        ]
    return deltas


def stream_events(reply: Reply, facts: CallFacts, *, n: int = 1, include_usage: bool = False,
                  obfuscate: bool = False) -> Iterator[SseEvent]:
    """The ``chat.completion.chunk`` events for ``reply``, ending with ``[DONE]``; with ``obfuscate``, each chunk
    that has choices carries OpenAI's random ``obfuscation`` padding."""
    pad = random.Random(facts.request_number) if obfuscate else None
    base: dict[str, Any] = {
        "id": completion_id(facts),
        "object": "chat.completion.chunk",
        "created": facts.created,
        "model": facts.model,
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }
    if include_usage:
        base["usage"] = None

    def chunk(index: int, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        if pad is None:
            return {**base, "choices": [choice]}
        return {**base, "choices": [choice], "obfuscation": obfuscation(pad)}

    per_choice = [_choice_deltas(reply, facts) for _ in range(n)]
    for step in zip_longest(*per_choice):
        for index, item in enumerate(step):
            if item is not None:
                delta, counted = item
                yield json_event(chunk(index, delta), is_delta=counted)
    for index in range(n):
        yield json_event(chunk(index, {}, reply.resolved_finish_reason()))
    if include_usage:
        yield json_event({**base, "choices": [], "usage": _usage(usage_for(reply, facts, n))})
    yield SseEvent("[DONE]")


def text_completion(reply: Reply, facts: CallFacts) -> dict[str, Any]:
    """A legacy ``text_completion`` object."""
    usage = usage_for(reply, facts)
    return {
        "id": f"cmpl-fake{facts.request_number:06d}",
        "object": "text_completion",
        "created": facts.created,
        "model": facts.model,
        "choices": [{"text": reply.content_text(), "index": 0, "logprobs": None,
                     "finish_reason": reply.resolved_finish_reason()}],
        "usage": {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
                  "total_tokens": usage.prompt_tokens + usage.completion_tokens},
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def completion_events(reply: Reply, facts: CallFacts, *, include_usage: bool = False) -> Iterator[SseEvent]:
    """The streamed legacy completion: one ``text_completion`` chunk per text delta, then ``[DONE]``."""
    whole = text_completion(reply, facts)
    base = {key: whole[key] for key in ("id", "object", "created", "model", "system_fingerprint")}

    def chunk(text: str, finish_reason: str | None) -> dict[str, Any]:
        return {**base, "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish_reason}]}

    for piece in reply.content_chunks():
        yield json_event(chunk(piece, None), is_delta=True)
    yield json_event(chunk("", reply.resolved_finish_reason()))
    if include_usage:
        yield json_event({**base, "choices": [], "usage": whole["usage"]})
    yield SseEvent("[DONE]")


def _embedding_inputs(raw: Any) -> list[str]:
    """The request's inputs as strings: text, a list of texts, tokens, or a list of token lists."""
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw and all(isinstance(x, int) for x in raw):
        return [repr(raw)]
    if isinstance(raw, list):
        return [x if isinstance(x, str) else repr(x) for x in raw]
    return [repr(raw)]


def embedding_vector(text: str, model: str, dimensions: int) -> list[float]:
    """A unit vector seeded by a hash of model and text: equal inputs, equal vectors."""
    seed = int.from_bytes(hashlib.sha256(f"{model}\0{text}".encode()).digest()[:8], "big")
    rng = random.Random(seed)
    values = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    # Rounded through float32 so the float and base64 encodings carry the same numbers.
    return [struct.unpack("<f", struct.pack("<f", v / norm))[0] for v in values]


def embeddings(body: dict[str, Any], model: str) -> dict[str, Any]:
    """The ``list`` of embeddings for an embeddings request (``float`` or ``base64`` encoding)."""
    inputs = _embedding_inputs(body.get("input"))
    dimensions = body.get("dimensions") or _EMBEDDING_DIMENSIONS.get(model, _DEFAULT_EMBEDDING_DIMENSIONS)
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    for i, text in enumerate(inputs):
        vector = embedding_vector(text, model, int(dimensions))
        encoded: Any = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode() if as_base64 else vector
        data.append({"object": "embedding", "index": i, "embedding": encoded})
    tokens = sum(max(1, len(text.split())) for text in inputs)
    return {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def speech_audio(text: str) -> bytes:
    """``/v1/audio/speech``: bytes shaped like an MP3 (an ID3 header, frame syncs), a kilobyte per word and
    the same for the same text: binary, as a real answer is, so nothing may read it as text and rewrite it."""
    rng = random.Random(hashlib.sha256(text.encode()).digest())
    frames = [b"\xff\xfb\x90\x64" + rng.randbytes(1020) for _ in range(max(1, len(text.split())))]
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"".join(frames)


def generated_images(prompt: str, n: Any = 1) -> dict[str, Any]:
    """``/v1/images/generations`` with ``b64_json``: PNG-shaped bytes (a signature, then 48 KB of noise), the
    same for the same prompt."""
    rng = random.Random(hashlib.sha256(prompt.encode()).digest())
    count = n if isinstance(n, int) and 0 < n <= 10 else 1
    images = [b"\x89PNG\r\n\x1a\n" + rng.randbytes(48 * 1024) for _ in range(count)]
    return {"created": 1_700_000_000, "data": [{"b64_json": base64.b64encode(img).decode()} for img in images]}


def model_object(model_id: str) -> dict[str, Any]:
    """One ``model`` object."""
    owner = "anthropic" if model_id.startswith("claude") else "openai" if "-" in model_id else "system"
    return {"id": model_id, "object": "model", "created": 1_700_000_000, "owned_by": owner}


def model_list(model_ids: Sequence[str]) -> dict[str, Any]:
    """The ``list`` of models."""
    return {"object": "list", "data": [model_object(m) for m in model_ids]}
