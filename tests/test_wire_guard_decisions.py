"""What the wire guard decides for texts without findings: exactly what its policies would decide."""

from __future__ import annotations

import json

from deepsentinel.detection.engine import DetectionEngine
from deepsentinel.policy.policy import CompliancePolicy, evaluate_policies
from deepsentinel.wire.guard import WireGuard

_ENGINE = DetectionEngine(cache_size=0)
_POLICIES = [
    CompliancePolicy(name="both"),
    CompliancePolicy(name="requests-only", check_responses=False),
    CompliancePolicy(name="responses-only", check_requests=False),
]


def _request(text: str) -> bytes:
    return json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}).encode()


def _response(text: str) -> bytes:
    return json.dumps({"id": "c1", "object": "chat.completion", "model": "gpt-4o-mini",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                    "finish_reason": "stop"}]}).encode()


def test_a_clean_text_decides_what_each_directions_policies_decide() -> None:
    guard = WireGuard(_POLICIES, _ENGINE)
    text = "Bring a lantern and a warm blanket."
    new, decision = guard.check_text(text, "choices[0].message.content")
    assert new == text
    assert decision == evaluate_policies(guard.response_policies, _ENGINE.scan(text), "choices[0].message.content")
    assert decision.policies == ("both", "responses-only")
    check = guard.check_request("/v1/chat/completions", _request("Plan a quiet walk by the river."))
    assert not check.decision.violations and not check.decision.blocked
    assert check.decision.policies == ("both", "requests-only", "responses-only")  # the call's, all of them
    body, decision = guard.check_response(check, _response(text))
    assert body == _response(text) and not decision.violations


def test_a_text_with_a_finding_is_still_decided_by_every_policy() -> None:
    guard = WireGuard([CompliancePolicy(name="log", block_on_violation=False, max_risk_score=1.0,
                                        anonymize_threshold=None)], _ENGINE)
    check = guard.check_request("/v1/chat/completions", _request("Write to jane.canary@corp-example.com today."))
    assert [v.type for v in check.decision.violations] == ["EMAIL_ADDRESS"]
    assert check.decision.violations[0].location == "messages[0].content"
