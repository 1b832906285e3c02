"""The wire guard: one compliance check for every shell (the SDK transports and the gateway). Sans-IO.

* ``check_request(path, body)`` answers "send this body" (possibly anonymized) or raises
  ``ComplianceViolationError`` (nothing may be sent) or ``ValidationError``.
* ``check_response(request, body)`` returns the body rewritten where policies say so, or raises.
* ``event_guard(request)`` guards a stream of server-sent events (see ``EventGuard``).
* ``redact_error(body)`` blanks sensitive values in a provider's error text before anyone builds an error from it.

Placeholders written into a request are restorable in *that call's* answer only: ``RequestCheck.restore`` holds
exactly the tokens this request's anonymization issued, never tokens that merely appear in the prompt.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from deepsentinel.detection.anonymizer import Anonymizer
from deepsentinel.detection.engine import DetectionEngine
from deepsentinel.detection.findings import Finding, ScanResult
from deepsentinel.detection.vault import Vault
from deepsentinel.errors import Direction
from deepsentinel.guard.blocking import block_error
from deepsentinel.guard.stream_guard import StreamGuard, policies_for, rewrite
from deepsentinel.policy.actions import Action
from deepsentinel.policy.decision import Decision, Violation
from deepsentinel.policy.policy import CompliancePolicy, evaluate_policies
from deepsentinel.wire.codec import Codec, codec_for
from deepsentinel.wire.inline_files import encoded_binary, file_refs, form_field, upload_texts
from deepsentinel.wire.json_io import dumps_bytes, loads
from deepsentinel.wire.texts import TextRef, string_refs

_REDACTOR = Anonymizer(strategy="redact")
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
# Text on each side of a boundary between two texts of one request, scanned together: a value split across two
# messages or content parts is read whole by the model, so it is checked whole.
_SEAM = 64


@dataclass
class RequestCheck:
    """A checked request: the body to send, the decision, and what its answer may restore."""

    codec: Codec
    body: bytes
    payload: Any = field(repr=False)
    decision: Decision
    texts: tuple[str, ...] = field(default=(), repr=False)  # originals, for the audit's keyed hash only
    redacted: tuple[str, ...] = field(default=(), repr=False)  # every finding redacted: safe to store
    restore: Vault | None = field(default=None, repr=False)
    form_stream: bool = False  # a form (a transcription) that asked for a stream: its answer comes as events

    @property
    def model(self) -> str:
        model = self.payload.get("model") if isinstance(self.payload, dict) else None
        return model if isinstance(model, str) else ""

    @property
    def stream(self) -> bool:
        return self.form_stream or (isinstance(self.payload, dict) and self.payload.get("stream") is True)


class WireGuard:
    """Engine, policies and anonymization state of one client or gateway."""

    def __init__(
        self,
        policies: Sequence[CompliancePolicy],
        engine: DetectionEngine,
        *,
        key: bytes | None = None,
        deanonymize: bool = False,
        keep_redacted: bool = False,
    ) -> None:
        self.policies = tuple(policies)
        self.names = tuple(p.name for p in self.policies)
        self.nothing = Decision(policies=self.names)  # what a text without findings decides (immutable, shared)
        self.engine = engine
        self.key = key or secrets.token_bytes(32)
        # Originals behind placeholders exist only when asked for: holding them in memory is the caller's choice.
        self.vault = Vault() if deanonymize else None
        self.keep_redacted = keep_redacted
        self.request_policies = policies_for("request", self.policies)
        self.response_policies = policies_for("response", self.policies)
        # What each direction's policies decide for a text without findings (as ``evaluate_policies`` would).
        self._quiet_request = Decision(policies=tuple(p.name for p in self.request_policies))
        self._quiet_response = Decision(policies=tuple(p.name for p in self.response_policies))
        self.block_unknown = any(p.block_unknown_endpoints for p in self.policies)
        self._by_name = {p.name: p for p in self.policies}
        self._anonymizers: dict[str, Anonymizer] = {}

    # Requests ---------------------------------------------------------------------------------------------
    def check_request(self, path: str, body: bytes) -> RequestCheck:
        """Check one outgoing body; raise ``ComplianceViolationError`` on a block (nothing may be sent)."""
        codec = codec_for(path)
        try:
            payload = loads(body) if body else None
        except (ValueError, RecursionError):
            payload = None
        if payload is None:
            if body and self.block_unknown:
                raise block_error((), "request", reason="a body that is not JSON cannot be checked")
            decision = self.nothing
            if body and self.request_policies:  # a file upload, a form: checked as text, blocked or sent as is
                for text in upload_texts(body):
                    decision = decision.merged(evaluate_policies(self.request_policies, self.engine.scan(text), "body"))
                if decision.blocked:
                    raise block_error(decision.violations, "request")
            return RequestCheck(codec, body, None, decision, form_stream=form_field(body, "stream") == "true")
        if not codec.known and self.block_unknown:
            raise block_error((), "request", reason=f"endpoint {path!r} is not one DeepSentinel knows")
        refs, keys = codec.request_texts(payload)  # the walk also refuses a body nested deeper than MAX_DEPTH
        codec.validate_request(payload)
        self._check_keys(keys, "request")
        refs = file_refs(refs, payload)
        texts = [ref.get(payload) for ref in refs]
        decision = self.nothing
        redacted: list[str] = []
        pending: list[tuple[TextRef, str, list[Violation]]] = []
        for ref, text, d in self._evaluate_texts(refs, texts):
            decision = decision.merged(d)
            if d.action is Action.ANONYMIZE:
                pending.append((ref, text, d.to_anonymize()))
        if self.keep_redacted:
            for text in texts:
                redacted.append(_REDACTOR.anonymize(text, self.engine.scan(text).findings, remember=False).text)
        if decision.blocked:
            raise block_error(decision.violations, "request")
        tokens: list[str] = []
        for ref, text, spans in pending:
            result = self.anonymizer_for(spans).anonymize(text, spans)
            rewritten = result.text
            tokens += [r.replacement for r in result.replacements]
            if ref.path[-1] == "name":
                # Providers accept only [A-Za-z0-9_-] in a participant name: "<PERSON_1>" becomes "PERSON_1".
                rewritten = _NAME_UNSAFE.sub("", rewritten)[:64] or "user"
            ref.set(payload, rewritten)
        if pending:
            body = dumps_bytes(payload)
        restore = self.vault.scoped(tokens) if self.vault is not None and tokens else None
        return RequestCheck(codec, body, payload, decision, tuple(texts), tuple(redacted), restore)

    def _evaluate_texts(self, refs: list[TextRef], texts: list[str]) -> list[tuple[TextRef, str, Decision]]:
        out: list[tuple[TextRef, str, Decision]] = []
        if not self.request_policies:
            return out
        scans = [self.engine.scan(t) for t in texts]
        # Most requests hold one text: no seam to read across.
        extra = self._across_seams(texts, scans) if len(texts) > 1 else [[]] * len(texts)
        for ref, text, scan, more in zip(refs, texts, scans, extra, strict=True):
            if more:
                scan = replace(scan, findings=tuple(sorted((*scan.findings, *more), key=lambda f: f.start)))
            out.append((ref, text, evaluate_policies(self.request_policies, scan, ref.location)
                        if scan.findings else self._quiet_request))
        return out

    def _across_seams(self, texts: list[str], scans: list[ScanResult]) -> list[list[Finding]]:
        """Values split across texts, as the model reads them: around each seam, the joined text of however many
        neighbouring texts fill the window is scanned, and a finding that crosses a seam is given (in each
        text's own offsets) to each text it covers. One that overlaps a value a text holds whole is that value
        run on into its neighbour ("amy@example.org" + "thanks"), not a split one: it is not given."""
        extra: list[list[Finding]] = [[] for _ in texts]
        starts = [0]
        for t in texts:
            starts.append(starts[-1] + len(t))
        own = [(f.type, start + f.start, start + f.end) for start, scan in zip(starts, scans, strict=False)
               for f in scan.findings]
        joined = "".join(texts)
        seen: set[tuple[str, int, int]] = set()
        for seam in starts[1:-1]:
            lo, hi = max(0, seam - _SEAM), min(len(joined), seam + _SEAM)
            for f in self.engine.scan(joined[lo:hi]).findings:
                a, b = lo + f.start, lo + f.end
                if not a < seam < b or (f.type, a, b) in seen:
                    continue
                if any(kind == f.type and start < b and a < end for kind, start, end in own):
                    continue
                seen.add((f.type, a, b))
                for i, (s0, s1) in enumerate(zip(starts, starts[1:], strict=False)):
                    if a < s1 and s0 < b:
                        extra[i].append(_moved(f, max(a, s0) - s0, min(b, s1) - s0))
        return extra

    # Responses --------------------------------------------------------------------------------------------
    def check_response(self, request: RequestCheck, body: bytes, payload: Any = None) -> tuple[bytes, Decision]:
        """Check a whole response body; raise on a block, else return it (rewritten where needed).

        ``payload``: the body already parsed, when the caller had to parse it anyway.
        """
        try:
            if payload is None:
                payload = loads(body)
        except (ValueError, RecursionError):  # not JSON after all: checked as text, so nothing parses a value out
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                # Audio, an image, a file's bytes: no text to read, and decoding them "with replacement" and
                # encoding them back would corrupt them (text-to-speech answers did).
                return body, self.nothing
            new, decision = self.check_text(text, "body", request.restore)
            if decision.blocked:
                raise block_error(decision.violations, "response") from None
            return (body if new == text else new.encode()), decision
        refs, keys = request.codec.response_texts(payload)
        if self.response_policies:
            self._check_keys(keys, "response")
        decision = self.nothing
        rewritten = []
        for ref in refs:
            text = ref.get(payload)
            new, d = self.check_text(text, ref, request.restore)
            decision = decision.merged(d)
            if new != text:
                ref.set(payload, new)
                rewritten.append(ref.path)
        if decision.blocked:
            raise block_error(decision.violations, "response")
        if not rewritten:
            return body, decision
        request.codec.after_rewrite(payload, rewritten)
        return dumps_bytes(payload), decision

    def _check_keys(self, keys: list[str], direction: Direction) -> None:
        """Object keys that are not plain names may hold values (``{"customer 536-22-...": ...}``). A key cannot
        be rewritten in place, so a finding a policy hides in one blocks the call."""
        policies = self.request_policies if direction == "request" else self.response_policies
        if not policies:
            return
        for key in keys:
            d = evaluate_policies(policies, self.engine.scan(key), "an object key")
            if any(v.action in (Action.BLOCK, Action.ANONYMIZE) for v in d.violations):
                raise block_error([replace(v, action=Action.BLOCK) for v in d.violations], direction)

    def check_text(self, text: str, location: str | TextRef, restore: Vault | None = None) -> tuple[str, Decision]:
        """One whole response text: hidden where policies say so, echoed placeholders restored. ``location``:
        where it is, or its reference (whose location is spelled out only for a text with findings)."""
        if not text:
            return text, Decision()
        if not self.response_policies:
            return (restore.deanonymize(text) if restore is not None else text), Decision()
        if encoded_binary(text):  # an image or audio as base64: no text in it, and its bytes must stay intact
            return text, self.nothing
        scan = self.engine.scan(text)
        if scan.findings:
            where = location if isinstance(location, str) else location.location
            d = evaluate_policies(self.response_policies, scan, where)
        else:
            d = self._quiet_response
        hidden = [v for v in d.violations if v.action in (Action.ANONYMIZE, Action.BLOCK)]
        if not hidden and restore is None:
            return text, d
        return rewrite(text, hidden, 0, self._replace_hidden, restore), d

    def stream_guard(self, restore: Vault | None = None, location: str = "choices[0].delta.content") -> StreamGuard | None:
        """A fresh guard for one streamed text (``location``: where its findings say they are), or ``None`` when
        no policy checks responses."""
        if not self.response_policies:
            return None
        return StreamGuard(self.engine, self.response_policies, anonymizer_factory=self.anonymizer_for, restore=restore,
                           location=location)

    # Error text -------------------------------------------------------------------------------------------
    def redact(self, text: str, secrets_: Sequence[str] = ()) -> str:
        """``text`` with every finding (and each of ``secrets_``, such as the caller's API key) redacted."""
        for s in secrets_:
            if s and len(s) >= 8:
                text = text.replace(s, "[REDACTED]")
        findings = self.engine.scan(text).findings
        return _REDACTOR.anonymize(text, findings, remember=False).text if findings else text

    def redact_error(self, body: bytes, secrets_: Sequence[str] = ()) -> bytes:
        """A provider's error body with every string redacted; JSON stays JSON."""
        try:
            payload = loads(body)
        except (ValueError, RecursionError):
            return self.redact(body.decode("utf-8", errors="replace"), secrets_).encode()
        changed = False
        for ref in string_refs(payload, skip=frozenset()):
            text = ref.get(payload)
            clean = self.redact(text, secrets_)
            if clean != text:
                ref.set(payload, clean)
                changed = True
        return dumps_bytes(payload) if changed else body

    # Shared -----------------------------------------------------------------------------------------------
    def anonymizer_for(self, violations: Sequence[Violation]) -> Anonymizer:
        """The anonymizer of the first policy that asked for anonymization (policies are ordered)."""
        strategy = next(
            (self._by_name[v.policy].anonymization_strategy for v in violations if v.policy in self._by_name),
            self.policies[0].anonymization_strategy if self.policies else "placeholder",
        )
        found = self._anonymizers.get(strategy)
        if found is None:  # setdefault: two threads racing here still share one anonymizer (one numbering)
            found = self._anonymizers.setdefault(strategy, Anonymizer(strategy=strategy, key=self.key, vault=self.vault))
        return found

    def _replace_hidden(self, v: Violation, value: str) -> str:
        if v.action is Action.BLOCK:
            return f"[{v.type}]"
        return self.anonymizer_for([v]).replace(value, v.type, remember=False)


def _moved(f: Finding, start: int, end: int) -> Finding:
    return Finding(f.type, f.category, start, end, f.confidence, f.severity, f.detector)


__all__ = ["RequestCheck", "WireGuard"]
