"""ChunkGuard: the stream guard applied to OpenAI ``ChatCompletionChunk`` objects. Sans-IO.

The sync and async streams call ``process(chunk)`` for every upstream chunk and ``finish()`` at the end, and
yield what comes back. One ``StreamGuard`` runs per choice and text field: ``delta.content``,
``delta.refusal``, each tool call's ``function.arguments`` (per tool-call index), the legacy
``delta.function_call.arguments`` and any text field outside the OpenAI schema (``reasoning_content``, which
OpenAI-compatible servers of reasoning models send). Text is rewritten to what the guards release; everything else passes
through unchanged and in order:

* a chunk whose text is all held back is dropped, unless it carries something else (role, finish_reason, a
  tool call's id or name, usage); a chunk with ``choices == []`` (the usage chunk) passes through as is;
* a choice's held text (of every field) is released before the chunk that carries its ``finish_reason``:
  that chunk is split into a text chunk and a finish chunk. Fields stay open until then, so a tool call's last
  few held characters may follow the next tool call's first ones (clients accumulate by index);
* ``logprobs`` are kept on a choice whose text passed through untouched, and dropped where the guard delayed
  or rewrote text: their token strings would otherwise show held or anonymized values;
* on a block, the safe chunks of this call are returned with ``error`` set; the guard then stays closed.

With a ``vault``, placeholders the model echoes back are restored for the caller *after* the checks, in the
model's own text only: restored values are the caller's own and are not re-checked, and tokens the guard
writes for hidden model output are never restored.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from openai.types.chat import ChatCompletionChunk
from openai.types.chat.chat_completion_chunk import (
    Choice,
    ChoiceDelta,
    ChoiceDeltaToolCall,
    ChoiceDeltaToolCallFunction,
)

from deepsentinel.detection.anonymizer import Anonymizer
from deepsentinel.detection.vault import Vault
from deepsentinel.errors import ComplianceViolationError
from deepsentinel.guard.blocking import block_error
from deepsentinel.guard.completion_guard import GuardedCompletion, guard_completion
from deepsentinel.guard.stream_guard import (
    AnonymizerFactory,
    Engine,
    GuardResult,
    StreamGuard,
    anonymizer_for,
)
from deepsentinel.policy.actions import Action
from deepsentinel.policy.decision import Violation
from deepsentinel.policy.policy import CompliancePolicy

# A guarded text inside a stream: (choice index, field, tool-call index).
FieldKey = tuple[int, str, int]
CONTENT, REFUSAL, TOOL, FUNCTION = "content", "refusal", "tool", "function_call"
EXTRA = -1  # the tool-call slot of a text field outside the schema, keyed by its own name


@dataclass(frozen=True, slots=True)
class GuardedChunks:
    """What to yield for one upstream chunk (or at the end), then possibly an error to raise."""

    chunks: tuple[ChatCompletionChunk, ...] = ()
    error: ComplianceViolationError | None = None


def location_of(key: FieldKey) -> str:
    """Where a field lives in a chunk, as violations report it."""
    index, field, tool = key
    if tool == EXTRA:
        return f"choices[{index}].delta.{field}"
    if field == TOOL:
        return f"choices[{index}].delta.tool_calls[{tool}].function.arguments"
    if field == FUNCTION:
        return f"choices[{index}].delta.function_call.arguments"
    return f"choices[{index}].delta.{field}"


class ChunkGuard:
    """Guards every text of a streamed chat completion; see the module docstring for the rules."""

    def __init__(
        self,
        engine: Engine,
        policies: Sequence[CompliancePolicy],
        *,
        anonymizer: Anonymizer | None = None,
        anonymizer_factory: AnonymizerFactory | None = None,
        vault: Vault | None = None,
    ) -> None:
        self.engine = engine
        self.policies = tuple(policies)
        self.anonymizer = anonymizer
        self.anonymizer_factory = anonymizer_factory
        self.vault = vault
        self.violations: list[Violation] = []
        self.chunks_seen = 0
        self.error: ComplianceViolationError | None = None
        self._guards: dict[FieldKey, StreamGuard] = {}
        self._anonymizers: dict[str, Anonymizer] = {}  # per policy, shared by all fields of this response
        self._template: ChatCompletionChunk | None = None
        self._finished = False

    def process(self, chunk: ChatCompletionChunk) -> GuardedChunks:
        """Guard one upstream chunk."""
        if self.error is not None:
            return GuardedChunks((), self.error)
        self.chunks_seen += 1
        if not chunk.choices:
            return GuardedChunks((chunk,))
        self._template = chunk
        fast = self._fast_content(chunk)
        if fast is not None:
            return fast
        outs: list[_ChoiceOut] = []
        for choice in chunk.choices:
            out = self._guard_choice(choice)
            outs.append(out)
            if out.blocked:
                break
        if self.error is not None:
            text_choices = [c for o in outs if (c := o.text_choice(with_finish=False)) is not None]
            safe = (chunk.model_copy(update={"choices": text_choices, "usage": None}),) if text_choices else ()
            return GuardedChunks(safe, self.error)
        if any(o.choice.finish_reason is not None and o.has_text for o in outs):
            # Split so every released character comes before the finish_reason that ends its choice.
            text_choices = [c for o in outs if (c := o.text_choice(with_finish=False)) is not None]
            finish_choices = [o.finish_choice() for o in outs if o.choice.finish_reason is not None]
            chunks = []
            if text_choices:
                chunks.append(chunk.model_copy(update={"choices": text_choices, "usage": None}))
            chunks.append(chunk.model_copy(update={"choices": finish_choices}))
            return GuardedChunks(tuple(chunks))
        choices = [c for o in outs if (c := o.text_choice(with_finish=True)) is not None]
        if not choices:
            if chunk.usage is None:
                return GuardedChunks()
            choices = [o.text_choice(with_finish=True, force=True) for o in outs]  # type: ignore[misc]
        return GuardedChunks((chunk.model_copy(update={"choices": choices}),))

    def finish(self) -> GuardedChunks:
        """Upstream ended: check and release every held tail (one chunk), or report a block."""
        if self.error is not None:
            return GuardedChunks((), self.error)
        if self._finished or self._template is None:
            self._finished = True
            return GuardedChunks()
        self._finished = True
        outs: list[_ChoiceOut] = []
        for index in sorted({k[0] for k, g in self._guards.items() if not g.finished}):
            out = _ChoiceOut(Choice(index=index, delta=ChoiceDelta()))
            self._flush_choice(index, out)
            outs.append(out)
            if out.blocked:
                break
        choices = [c for o in outs if (c := o.text_choice(with_finish=False)) is not None]
        chunks = (self._template.model_copy(update={"choices": choices, "usage": None}),) if choices else ()
        return GuardedChunks(chunks, self.error)

    def _fast_content(self, chunk: ChatCompletionChunk) -> GuardedChunks | None:
        """The common case (one choice, content only, no finish_reason) without the general bookkeeping."""
        if len(chunk.choices) != 1:
            return None
        choice = chunk.choices[0]
        delta = choice.delta
        if (
            not delta.content
            or choice.finish_reason is not None
            or delta.refusal is not None
            or delta.tool_calls is not None
            or delta.function_call is not None
            or delta.model_extra
        ):
            return None
        result = self._guard((choice.index, CONTENT, 0)).feed(delta.content)
        if result.violations:
            self.violations.extend(result.violations)
        if result.blocked:
            self.error = block_error([v for v in result.violations if v.action is Action.BLOCK], "response")
        elif result.text == delta.content:
            return GuardedChunks((chunk,))
        if not result.text and not _has_meta(delta):
            return GuardedChunks((), self.error)
        new_choice = choice.model_copy(
            update={"delta": delta.model_copy(update={"content": result.text}), "logprobs": None}
        )
        return GuardedChunks((chunk.model_copy(update={"choices": [new_choice]}),), self.error)

    # -- one choice -------------------------------------------------------------------------------------

    def _guard_choice(self, choice: Choice) -> _ChoiceOut:
        out = _ChoiceOut(choice)
        for key, text in _texts(choice):
            out.own[key] = text
            # Fields stay open until their choice finishes, even when the next tool call starts: closing one
            # early would let a value split across an (unusual) interleaving through in two innocent halves.
            if text and self._apply(key, self._guard(key).feed(text), out):
                return out
        if choice.finish_reason is not None:
            self._flush_choice(choice.index, out)
        return out

    def _flush_choice(self, index: int, out: _ChoiceOut) -> None:
        # Flushed guards are kept: text that still arrives for this choice (after its finish_reason) resumes
        # them with the released tail in view, so a value split across the finish cannot pass in two halves.
        for key in [k for k, g in self._guards.items() if k[0] == index and not g.finished]:
            if self._apply(key, self._guards[key].flush(), out):
                return

    def _apply(self, key: FieldKey, result: GuardResult, out: _ChoiceOut) -> bool:
        """Record a guard's result in ``out``; True when it blocked."""
        if result.text:
            out.released[key] = out.released.get(key, "") + result.text
        if result.violations:
            self.violations.extend(result.violations)
        if result.blocked:
            out.blocked = True
            self.error = block_error([v for v in result.violations if v.action is Action.BLOCK], "response")
        return result.blocked

    def _guard(self, key: FieldKey) -> StreamGuard:
        guard = self._guards.get(key)
        if guard is None:
            guard = self._guards[key] = StreamGuard(
                self.engine,
                self.policies,
                anonymizer=self.anonymizer,
                anonymizer_factory=self._shared_anonymizer,
                location=location_of(key),
                restore=self.vault,
            )
        elif guard.finished:
            guard.resume()
        return guard

    def _shared_anonymizer(self, violations: Sequence[Violation]) -> Anonymizer:
        """One anonymizer per policy for the whole response: a value gets one placeholder in every field."""
        policy = violations[0].policy
        found = self._anonymizers.get(policy)
        if found is None:
            found = self._anonymizers[policy] = anonymizer_for(violations[0], self.policies, self.anonymizer_factory)
        return found

    def __repr__(self) -> str:
        state = "blocked" if self.error is not None else "finished" if self._finished else "open"
        return f"ChunkGuard({state}, chunks_seen={self.chunks_seen}, violations={len(self.violations)})"


def _texts(choice: Choice) -> Iterator[tuple[FieldKey, str]]:
    """The guarded texts of one choice's delta, in stream order."""
    i, delta = choice.index, choice.delta
    if delta.content is not None:
        yield (i, CONTENT, 0), delta.content
    if delta.refusal is not None:
        yield (i, REFUSAL, 0), delta.refusal
    if delta.function_call is not None and delta.function_call.arguments is not None:
        yield (i, FUNCTION, 0), delta.function_call.arguments
    for tc in delta.tool_calls or ():
        if tc.function is not None and tc.function.arguments is not None:
            yield (i, TOOL, tc.index), tc.function.arguments
    # Model text outside the schema ("reasoning_content") would otherwise pass through unchecked.
    for name, value in (delta.model_extra or {}).items():
        if isinstance(value, str):
            yield (i, name, EXTRA), value


class _ChoiceOut:
    """What one upstream choice becomes: its own texts, the released texts, and how to rebuild it."""

    __slots__ = ("choice", "own", "released", "blocked")

    def __init__(self, choice: Choice) -> None:
        self.choice = choice
        self.own: dict[FieldKey, str] = {}
        self.released: dict[FieldKey, str] = {}
        self.blocked = False

    @property
    def has_text(self) -> bool:
        return any(self.released.values())

    @property
    def unchanged(self) -> bool:
        """Released text is exactly this chunk's own text: its logprobs describe what the caller sees."""
        return self.released.keys() <= self.own.keys() and all(
            self.released.get(k, "") == t for k, t in self.own.items()
        )

    def text_choice(self, *, with_finish: bool, force: bool = False) -> Choice | None:
        """The rewritten choice, or ``None`` when nothing in it is left to show."""
        c, delta = self.choice, self.choice.delta
        finish = c.finish_reason if with_finish and not self.blocked else None
        meta = _has_meta(delta)
        held_all = bool(self.own) and any(self.own.values()) and not self.has_text
        if not (force or meta or finish is not None or self.has_text or not held_all):
            return None
        update: dict[str, Any] = {"delta": self._delta(), "finish_reason": finish}
        if not self.unchanged:
            update["logprobs"] = None
        return c.model_copy(update=update)

    def finish_choice(self) -> Choice:
        """The choice's finish_reason on its own, after its text went out in an earlier chunk."""
        return self.choice.model_copy(update={"delta": ChoiceDelta(), "logprobs": None})

    def _delta(self) -> ChoiceDelta:
        delta, i, rel = self.choice.delta, self.choice.index, self.released
        update: dict[str, Any] = {}
        content = rel.get((i, CONTENT, 0))
        if content is not None or delta.content is not None:
            update["content"] = content if content is not None else ("" if delta.content is not None else None)
        refusal = rel.get((i, REFUSAL, 0))
        if refusal is not None or delta.refusal is not None:
            update["refusal"] = refusal if refusal is not None else ("" if delta.refusal is not None else None)
        if delta.function_call is not None:
            args = rel.get((i, FUNCTION, 0), "" if delta.function_call.arguments is not None else None)
            update["function_call"] = delta.function_call.model_copy(update={"arguments": args})
        tools = self._tool_calls()
        if tools is not None or delta.tool_calls is not None:
            update["tool_calls"] = tools
        for name, value in (delta.model_extra or {}).items():
            if isinstance(value, str):
                update[name] = ""
        update.update({k[1]: text for k, text in rel.items() if k[2] == EXTRA})
        return delta.model_copy(update=update)

    def _tool_calls(self) -> list[ChoiceDeltaToolCall] | None:
        delta, i, rel = self.choice.delta, self.choice.index, self.released
        own = {tc.index for tc in delta.tool_calls or ()}
        # Tails of earlier tool calls, flushed when this chunk started a new one, go first.
        out = [
            ChoiceDeltaToolCall(index=k[2], function=ChoiceDeltaToolCallFunction(arguments=text))
            for k, text in rel.items()
            if k[1] == TOOL and k[2] != EXTRA and k[2] not in own and text
        ]
        for tc in delta.tool_calls or ():
            text = rel.get((i, TOOL, tc.index))
            had_args = tc.function is not None and bool(tc.function.arguments)
            if text:
                fn = tc.function or ChoiceDeltaToolCallFunction()
                out.append(tc.model_copy(update={"function": fn.model_copy(update={"arguments": text})}))
            elif tc.id or tc.type or (tc.function is not None and tc.function.name):
                kept = tc.function.model_copy(update={"arguments": ""}) if had_args and tc.function else tc.function
                out.append(tc.model_copy(update={"function": kept}))
            elif not had_args:
                out.append(tc)
        return out or None


def _has_meta(delta: ChoiceDelta) -> bool:
    """Whether a delta carries anything besides guarded text."""
    if delta.role is not None or getattr(delta, "audio", None) is not None:
        return True
    if delta.function_call is not None and delta.function_call.name:
        return True
    return any(tc.id or tc.type or (tc.function is not None and tc.function.name) for tc in delta.tool_calls or ())


__all__ = ["ChunkGuard", "GuardedChunks", "GuardedCompletion", "guard_completion", "location_of"]
