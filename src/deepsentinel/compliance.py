"""The compliance gate both clients share: check what goes out, check what comes back. No I/O.

``Compliance`` holds the detection engine, the policies and the anonymization state of one client. It turns
scan results into decisions, rewrites anonymized texts, and raises ``ComplianceViolationError`` for blocks.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from openai.types.chat import ChatCompletion

from deepsentinel.detection.anonymizer import Anonymizer, Vault
from deepsentinel.detection.engine import DetectionEngine
from deepsentinel.guard.blocking import block_error
from deepsentinel.guard.chunk_guard import ChunkGuard, guard_completion
from deepsentinel.messages import text_refs
from deepsentinel.policy.actions import Action
from deepsentinel.policy.decision import Decision, Violation
from deepsentinel.policy.policy import CompliancePolicy, evaluate_policies


@dataclass(frozen=True)
class CheckedTexts:
    """The outcome of checking a set of texts: possibly rewritten, always with the combined decision."""

    decision: Decision
    texts: tuple[str, ...] = field(repr=False)  # the original texts, for the audit's keyed hash only; never stored
    redacted: tuple[str, ...] = ()  # every finding (logged and allowed ones too) redacted: safe to store


_REDACTOR = Anonymizer(strategy="redact")
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class Compliance:
    """One client's compliance state: engine, policies, anonymizer and (opt-in) vault."""

    def __init__(
        self,
        policies: Sequence[CompliancePolicy],
        engine: DetectionEngine,
        *,
        key: bytes | None = None,
        deanonymize: bool = False,
    ) -> None:
        self.policies = tuple(policies)
        self.engine = engine
        self.key = key or secrets.token_bytes(32)
        # The vault keeps placeholder -> original for this client only, so answers can be restored for the
        # caller. It exists only when asked for: holding originals in memory is a choice the caller makes.
        self.vault = Vault() if deanonymize else None
        self._by_name = {p.name: p for p in self.policies}
        self._anonymizers: dict[str, Anonymizer] = {}
        self.check_requests = any(p.check_requests for p in self.policies)
        self.check_responses = any(p.check_responses for p in self.policies)

    def anonymizer_for(self, violations: Sequence[Violation]) -> Anonymizer:
        """The anonymizer of the first policy that asked for anonymization (policies are ordered)."""
        strategy = next(
            (self._by_name[v.policy].anonymization_strategy for v in violations if v.policy in self._by_name),
            self.policies[0].anonymization_strategy,
        )
        # One anonymizer per strategy for the client's lifetime: the same value keeps the same placeholder
        # across a whole conversation.
        found = self._anonymizers.get(strategy)
        if found is None:  # setdefault: two threads racing here still share one anonymizer (one numbering)
            found = self._anonymizers.setdefault(strategy, Anonymizer(strategy=strategy, key=self.key, vault=self.vault))
        return found

    def check_messages(self, messages: list[dict[str, Any]], *, keep_redacted: bool = False) -> CheckedTexts:
        """Check every text in ``messages``; anonymize in place where policies say so; raise on a block.

        ``keep_redacted`` also returns each text with *every* finding redacted (for an audit record that keeps
        the prompt's shape): logged findings are only logged on the wire, but never stored.
        """
        decision = Decision(policies=tuple(p.name for p in self.policies))
        texts: list[str] = []
        redacted: list[str] = []
        pending: list[tuple[Any, str, Decision]] = []
        for ref in text_refs(messages):
            text = ref.get(messages)
            texts.append(text)
            if not self.check_requests:
                continue
            scanned = self.engine.scan(text)
            d = evaluate_policies(self.policies, scanned, ref.location)
            decision = decision.merged(d)
            if keep_redacted:
                # Every finding, not only the policy's violations: a value a policy allows on the wire
                # (or does not check) is still not written to the audit store.
                redacted.append(_REDACTOR.anonymize(text, scanned.findings, remember=False).text)
            if d.action is Action.ANONYMIZE:
                pending.append((ref, text, d))
        if decision.blocked:
            raise block_error(decision.violations, "request")
        for ref, text, d in pending:
            spans = d.to_anonymize()
            rewritten = self.anonymizer_for(spans).anonymize(text, spans).text
            if ref.path[-1] == "name":
                # Providers accept only [A-Za-z0-9_-] in a participant name: "<PERSON_1>" becomes "PERSON_1".
                rewritten = _NAME_UNSAFE.sub("", rewritten)[:64] or "user"
            ref.set(messages, rewritten)
        return CheckedTexts(decision, tuple(texts), tuple(redacted))

    def restore_vault(self, messages: list[dict[str, Any]]) -> Vault | None:
        """What an answer to ``messages`` may restore: only the placeholders these messages carry."""
        if self.vault is None:
            return None
        return self.vault.scoped(ref.get(messages) for ref in text_refs(messages))

    def check_completion(
        self, completion: ChatCompletion, restore: Vault | None = None
    ) -> tuple[ChatCompletion, Decision]:
        """Check a whole (non-streamed) response; raise on a block, else return it, anonymized if needed.

        ``restore`` (from ``restore_vault``) turns placeholders the model echoed back into the caller's values.
        """
        if not self.check_responses:
            return completion, Decision(policies=tuple(p.name for p in self.policies))
        checked, decision = guard_completion(
            completion, self.engine, self.policies, anonymizer_factory=self.anonymizer_for, vault=restore
        )
        if decision.blocked:
            raise block_error(decision.violations, "response")
        return checked, decision

    def chunk_guard(self, restore: Vault | None = None) -> ChunkGuard | None:
        """A fresh guard for one streamed response, or ``None`` when no policy checks responses."""
        if not self.check_responses:
            return None
        return ChunkGuard(self.engine, self.policies, anonymizer_factory=self.anonymizer_for, vault=restore)
