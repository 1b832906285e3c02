"""What the fake server answers: scripted replies, faults, rules and the default reply.

A :class:`Reply` is provider-neutral: the OpenAI and Anthropic wire modules render the same
reply in their own shapes. Text is delivered as content deltas: either exactly the ``chunks``
given, or the text cut into word-sized pieces (or ``chunk_size`` characters).

Fault fields make the server misbehave on purpose::

    Reply(status=429, headers={"Retry-After": "1"})        # an error response
    Reply(chunks=["a", "b", "c"], disconnect_after=2)      # the socket drops after two deltas
    Reply(text="slow", delay_before=0.2)                   # the first byte comes late
    Reply(text="slow", trickle=1.0)                        # the body comes one byte per second
    Reply(status=400, error_echoes_prompt=True)            # the error message quotes the prompt
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_WORD_CHUNK = re.compile(r"\s*\S+\s*$|\s*\S+")
_TOKEN = re.compile(r"\w+|[^\w\s]")
# Whitespace-separated tokens of plain lowercase letters are the only words the default reply echoes,
# so it never repeats a name, a number, an address or a secret-looking string from the prompt.
_PLAIN_WORD = re.compile(r"[a-z]{3,15}")
_STOPWORD_TEXT = (
    "the and for are but not you your with this that what which who whom how why when where "
    "can could would should will shall may might must have has had was were been being does did "
    "about into from over under please tell give explain write show make some any all one our "
    "their there them they its it's is am be do me my mine we us"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
# Context words that a detector may read as "a sensitive value follows": never echoed.
_SENSITIVE_TEXT = (
    "password passwd passphrase secret token key apikey credential credentials ssn social security "
    "card credit debit cvv cvc pin iban account routing passport license licence dob birth "
    "phone email address patient diagnosis"
)
_SENSITIVE_CONTEXT = frozenset(_SENSITIVE_TEXT.split())


@dataclass(frozen=True)
class ToolCall:
    """A tool (function) call the fake model makes.

    ``arguments`` is the JSON text of the arguments; ``argument_chunks`` optionally fixes how it
    is streamed (their concatenation must equal ``arguments``). ``id`` defaults to a stable id.
    """

    name: str
    arguments: str = "{}"
    id: str | None = None
    argument_chunks: Sequence[str] | None = None

    def stream_pieces(self) -> list[str]:
        """The argument deltas sent when streaming."""
        if self.argument_chunks is not None:
            return list(self.argument_chunks)
        return [self.arguments[i : i + 8] for i in range(0, len(self.arguments), 8)] or [""]


@dataclass(frozen=True)
class Usage:
    """Token counts to report instead of the estimated ones (input = prompt, output = completion)."""

    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Reply:
    """One scripted answer, with optional faults. Every field has a harmless default.

    Content: ``text`` or exact ``chunks`` (deltas delivered as given); ``chunk_size`` cuts
    ``text`` into pieces of that many characters (default: word-sized pieces); ``tool_calls``;
    ``finish_reason`` in OpenAI terms (``stop``, ``length``, ``tool_calls``, ``content_filter``),
    mapped for Anthropic; ``usage``; ``refusal`` (an OpenAI refusal, an Anthropic ``refusal`` stop).

    Faults: ``status`` (>= 400 sends the provider's error envelope; ``error_type`` and
    ``error_message`` override its fields, ``error_body`` replaces it whole, ``error_echoes_prompt``
    appends the request's last user text to the message, as providers that quote bad input do), extra ``headers``,
    ``delay_before`` seconds before the response, ``delay_between`` seconds between deltas,
    ``disconnect_after`` N deltas (then the socket closes without the end of the stream),
    ``malformed_after`` N deltas (then one event whose data is ``malformed_data``, default a cut-off
    JSON object; a JSON reply's whole body becomes it), ``trickle`` seconds before each single byte
    of the body (headers come at once), ``error_after`` N deltas
    (then the provider's in-stream error event: Anthropic's ``event: error``, OpenAI's ``{"error": ...}``;
    ``error_type``/``error_message`` fill it, default an overload), ``compress`` (``"gzip"`` or ``"deflate"``:
    the body goes in that content coding whatever the request's ``accept-encoding`` asked for, as a provider or
    proxy that ignores it does; another name goes in the header over the body as it is).
    Deltas are the text and tool-argument deltas, not the framing events around them.
    """

    text: str | None = None
    chunks: Sequence[str] | None = None
    chunk_size: int | None = None
    tool_calls: Sequence[ToolCall] = ()
    finish_reason: str | None = None
    usage: Usage | None = None
    refusal: str | None = None
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    error_type: str | None = None
    error_message: str | None = None
    error_body: Mapping[str, Any] | str | bytes | None = None
    delay_before: float = 0.0
    delay_between: float = 0.0
    disconnect_after: int | None = None
    malformed_after: int | None = None
    malformed_data: str | None = None
    error_after: int | None = None
    error_echoes_prompt: bool = False
    trickle: float = 0.0
    compress: str | None = None

    def __post_init__(self) -> None:
        if self.text is not None and self.chunks is not None and "".join(self.chunks) != self.text:
            raise ValueError("Reply: text and chunks disagree; give one of them")
        if self.chunk_size is not None and self.chunk_size < 1:
            raise ValueError("Reply: chunk_size must be at least 1")

    @property
    def is_error(self) -> bool:
        """Whether this reply is an HTTP error response."""
        return self.status >= 400

    def content_text(self) -> str:
        """The whole assistant text (empty for a pure tool-call or refusal reply)."""
        if self.chunks is not None:
            return "".join(self.chunks)
        return self.text or ""

    def content_chunks(self) -> list[str]:
        """The text deltas, exactly as they go on the wire."""
        if self.chunks is not None:
            return list(self.chunks)
        return split_text(self.text or "", self.chunk_size)

    def resolved_finish_reason(self) -> str:
        """``finish_reason`` if set, else ``tool_calls`` when there are tool calls, else ``stop``."""
        if self.finish_reason is not None:
            return self.finish_reason
        return "tool_calls" if self.tool_calls else "stop"


def split_text(text: str, chunk_size: int | None = None) -> list[str]:
    """Cut ``text`` into word-sized deltas (leading whitespace kept, like model tokens) or fixed sizes."""
    if not text:
        return []
    if chunk_size is not None:
        return [text[i : i + chunk_size] for i in range(0, len(text), chunk_size)]
    pieces = _WORD_CHUNK.findall(text)
    if "".join(pieces) != text:  # leading-only whitespace or other edge cases: fall back to exact cut
        return [text]
    return pieces


def estimate_tokens(text: str) -> int:
    """A cheap deterministic token estimate: words and punctuation marks."""
    return len(_TOKEN.findall(text))


def default_reply_text(prompt: str) -> str:
    """The canned, harmless answer to any prompt, naming up to three plain words of its topic."""
    words: list[str] = []
    for raw in prompt.split():
        token = raw.strip(".,;:!?\"'()")
        if _PLAIN_WORD.fullmatch(token) and token not in _STOPWORDS and token not in _SENSITIVE_CONTEXT:
            if token not in words:
                words.append(token)
            if len(words) == 3:
                break
    topic = " ".join(words) if words else "your question"
    return (
        f"Here is a short answer about {topic}. "
        "The main idea is simple once you see how the parts fit together. "
        "Start with the basics, then build on them one step at a time. "
        "A small example usually makes the rest easy to follow. "
        "I hope this helps."
    )


@dataclass(frozen=True)
class Rule:
    """Answer ``reply`` when the last user message contains ``contains`` (case-sensitive)."""

    contains: str
    reply: Reply
    once: bool = False


class ReplyBook:
    """The thread-safe script: queued replies first (FIFO), then rules in order, then the default."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Reply] = deque()
        self._rules: list[Rule] = []

    def enqueue(self, *replies: Reply) -> None:
        """Queue replies for the next requests, one each."""
        with self._lock:
            self._queue.extend(replies)

    def add_rule(self, rule: Rule) -> None:
        """Add a rule after the existing ones."""
        with self._lock:
            self._rules.append(rule)

    def reset(self) -> None:
        """Forget queued replies and rules."""
        with self._lock:
            self._queue.clear()
            self._rules.clear()

    @property
    def pending(self) -> int:
        """How many queued replies are left."""
        with self._lock:
            return len(self._queue)

    def next_reply(self, prompt: str) -> Reply | None:
        """The scripted reply for a request whose last user text is ``prompt``, or None for the default."""
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            for i, rule in enumerate(self._rules):
                if rule.contains in prompt:
                    if rule.once:
                        del self._rules[i]
                    return rule.reply
        return None
