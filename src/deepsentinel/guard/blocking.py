"""The error a guard returns when a policy blocks: names entity types and positions, never values."""

from __future__ import annotations

from collections.abc import Sequence

from deepsentinel.errors import ComplianceViolationError, Direction
from deepsentinel.policy.actions import Action
from deepsentinel.policy.decision import Violation

_SHOWN = 5


def block_error(
    violations: Sequence[Violation], direction: Direction = "response", *, reason: str | None = None
) -> ComplianceViolationError:
    """``Response blocked by policy 'default': CREDIT_CARD in choices[0].delta.content at [14:33]``.

    ``violations`` may hold any actions; the blocking ones are named (all of them travel on the error).
    """
    blocking = [v for v in violations if v.action is Action.BLOCK] or list(violations)
    policy = blocking[0].policy if blocking else None
    shown = ", ".join(v.describe() for v in blocking[:_SHOWN])
    more = f" and {len(blocking) - _SHOWN} more" if len(blocking) > _SHOWN else ""
    subject = "Request" if direction == "request" else "Response"
    if reason is not None:  # blocked by a rule, not by a finding (an endpoint a policy does not allow)
        return ComplianceViolationError(f"{subject} blocked: {reason}", direction=direction)
    return ComplianceViolationError(
        f"{subject} blocked by policy {policy!r}: {shown}{more}",
        violations=blocking,
        direction=direction,
        policy=policy,
    )


__all__ = ["block_error"]
