"""Chat messages: validation before anything is sent (the texts inside are found by ``wire/``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from deepsentinel.errors import ValidationError

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
# Content parts that carry text a provider reads, and the field holding it.
_TEXT_PARTS = {"text": "text", "refusal": "refusal"}


def validate_chat_args(model: Any, messages: Any) -> None:
    """Check ``model`` and ``messages`` the way the provider would, but before any network call.

    Error messages name the position and the problem, never the content.
    """
    if not isinstance(model, str) or not model.strip():
        raise ValidationError("model must be a non-empty string")
    # Parsed JSON holds lists and dicts: asked first, the abstract-class checks run only for other types.
    if type(messages) is not list and (isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence)):
        raise ValidationError("messages must be a list of {'role': ..., 'content': ...} dicts")
    if not messages:
        raise ValidationError("messages must not be empty")
    for i, m in enumerate(messages):
        if type(m) is not dict and not isinstance(m, Mapping):
            raise ValidationError(f"messages[{i}] must be a dict, not {type(m).__name__}")
        role = m.get("role")
        if role not in ROLES:
            shown = role if isinstance(role, str) and len(role) <= 20 else type(role).__name__
            raise ValidationError(f"messages[{i}].role {shown!r} is not one of {sorted(ROLES)}")
        content = m.get("content")
        if content is None:
            if not (role == "assistant" and (m.get("tool_calls") or m.get("function_call"))):
                raise ValidationError(f"messages[{i}].content is required for role {role!r}")
        elif isinstance(content, list):
            for j, part in enumerate(content):
                if (type(part) is not dict and not isinstance(part, Mapping)) or not isinstance(part.get("type"), str):
                    raise ValidationError(f"messages[{i}].content[{j}] must be a dict with a 'type'")
                # A text the scanner cannot read must not reach a provider that would read it anyway.
                field = _TEXT_PARTS.get(part["type"])
                if field is not None and not isinstance(part.get(field), str):
                    raise ValidationError(f"messages[{i}].content[{j}].{field} must be a string")
        elif not isinstance(content, str):
            raise ValidationError(f"messages[{i}].content must be a string or a list of parts")
        if role == "tool" and not m.get("tool_call_id"):
            raise ValidationError(f"messages[{i}] with role 'tool' needs a tool_call_id")
