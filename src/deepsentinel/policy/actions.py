"""What a policy can do with a finding, ordered from most lenient to strictest."""

from __future__ import annotations

from enum import Enum


class Action(str, Enum):
    """A policy's answer for one finding. When policies disagree the strictest wins."""

    ALLOW = "allow"  # not even recorded as a violation
    LOG = "log"  # text flows; the finding is recorded
    ANONYMIZE = "anonymize"  # the value is replaced before it leaves (request) or is shown (response)
    BLOCK = "block"  # nothing is sent / the stream is cut

    @property
    def strictness(self) -> int:
        return _ORDER[self]

    @classmethod
    def strictest(cls, actions: list[Action] | tuple[Action, ...]) -> Action:
        return max(actions, key=lambda a: a.strictness, default=cls.ALLOW)


_ORDER = {Action.ALLOW: 0, Action.LOG: 1, Action.ANONYMIZE: 2, Action.BLOCK: 3}
