"""Policies: what to do with findings. Pure, no I/O."""

from deepsentinel.policy.actions import Action
from deepsentinel.policy.decision import Decision, Violation
from deepsentinel.policy.policy import DEFAULT_POLICY, CompliancePolicy, coerce_policies, evaluate_policies

__all__ = [
    "DEFAULT_POLICY", "Action", "CompliancePolicy", "Decision", "Violation", "coerce_policies", "evaluate_policies",
]
