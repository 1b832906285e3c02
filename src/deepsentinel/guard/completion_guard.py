"""guard_completion: the same checks for a whole (non-streamed) ``ChatCompletion``. Sans-IO, raises nothing.

Every choice's ``message.content``, ``message.refusal``, each function tool call's ``arguments``, the legacy
``function_call.arguments`` and text fields outside the schema (``reasoning_content``) are scanned and evaluated with the policies. The returned completion has ANONYMIZE
findings replaced (by the policy's strategy) and BLOCK findings redacted too, so nothing leaks even if a caller
forgets to check ``decision.blocked``; raising is the caller's job (``block_error`` builds the error). With a
``vault``, placeholders the model echoes are restored in the model's own text, after the checks. A choice whose
content or refusal was rewritten loses its ``logprobs``, as in a stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from openai.types.chat import ChatCompletion
from openai.types.chat.chat_completion import Choice

from deepsentinel.detection.anonymizer import Anonymizer
from deepsentinel.detection.vault import Vault
from deepsentinel.guard.stream_guard import AnonymizerFactory, Engine, anonymizer_for, policies_for, rewrite
from deepsentinel.policy.actions import Action
from deepsentinel.policy.decision import Decision, Violation
from deepsentinel.policy.policy import CompliancePolicy, evaluate_policies


class GuardedCompletion(NamedTuple):
    """A checked completion (rewritten where policies said so) and the combined decision."""

    completion: ChatCompletion
    decision: Decision


def guard_completion(
    completion: ChatCompletion,
    engine: Engine,
    policies: Sequence[CompliancePolicy],
    *,
    anonymizer: Anonymizer | None = None,
    anonymizer_factory: AnonymizerFactory | None = None,
    vault: Vault | None = None,
) -> GuardedCompletion:
    """Check and rewrite every text of ``completion``; ``checked, decision = guard_completion(...)``.

    Only policies with ``check_responses`` apply; with none, only echoed vault tokens are restored.
    """
    decision = Decision(policies=tuple(p.name for p in policies))
    policies = policies_for("response", policies)
    cache: dict[str, Anonymizer] = {}

    def replace(v: Violation, value: str) -> str:
        if v.action is Action.BLOCK:
            return f"[{v.type}]"
        if anonymizer is not None:
            return anonymizer.replace(value, v.type, remember=False)
        found = cache.get(v.policy)
        if found is None:
            found = cache[v.policy] = anonymizer_for(v, policies, anonymizer_factory)
        return found.replace(value, v.type, remember=False)

    def check(text: str | None, location: str) -> str | None:
        nonlocal decision
        if not text:
            return text
        if not policies:
            return vault.deanonymize(text) if vault is not None else text
        d = evaluate_policies(policies, engine.scan(text), location)
        decision = decision.merged(d)
        hidden = [v for v in d.violations if v.action in (Action.ANONYMIZE, Action.BLOCK)]
        if not hidden and vault is None:
            return text
        return rewrite(text, hidden, 0, replace, vault)

    choices = [_guard_choice(choice, check) for choice in completion.choices]
    return GuardedCompletion(completion.model_copy(update={"choices": choices}), decision)


def _guard_choice(choice: Choice, check: Any) -> Choice:
    i, message = choice.index, choice.message
    base = f"choices[{i}].message"
    update: dict[str, Any] = {
        "content": check(message.content, f"{base}.content"),
        "refusal": check(message.refusal, f"{base}.refusal"),
    }
    for name, value in (message.model_extra or {}).items():
        if isinstance(value, str):
            update[name] = check(value, f"{base}.{name}")
    if message.function_call is not None:
        args = check(message.function_call.arguments, f"{base}.function_call.arguments")
        update["function_call"] = message.function_call.model_copy(update={"arguments": args})
    if message.tool_calls:
        calls = []
        for j, call in enumerate(message.tool_calls):
            fn = getattr(call, "function", None)
            if fn is None:  # custom tool calls carry free text as ``custom.input``
                custom = getattr(call, "custom", None)
                if custom is not None:
                    text = check(custom.input, f"{base}.tool_calls[{j}].custom.input")
                    call = call.model_copy(update={"custom": custom.model_copy(update={"input": text})})
                calls.append(call)
                continue
            args = check(fn.arguments, f"{base}.tool_calls[{j}].function.arguments")
            calls.append(call.model_copy(update={"function": fn.model_copy(update={"arguments": args})}))
        update["tool_calls"] = calls
    changes: dict[str, Any] = {"message": message.model_copy(update=update)}
    if update["content"] != message.content or update["refusal"] != message.refusal:
        # Their token strings spell the text as the model wrote it: an anonymized value would be readable there.
        changes["logprobs"] = None
    return choice.model_copy(update=changes)


__all__ = ["GuardedCompletion", "guard_completion"]
