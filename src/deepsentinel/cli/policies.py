"""``--policy`` values: a preset name or a YAML/JSON file holding one policy, a list, or ``compliance_policies``.

Presets are the library's (``deepsentinel.policy.presets.PRESETS``: gdpr, hipaa, pci_dss, ccpa) plus three
the command line adds for quick use: ``default``, ``strict`` (block every finding) and ``anonymize``.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from deepsentinel.cli.common import CliError, UsageError
from deepsentinel.detection.findings import Category
from deepsentinel.errors import ConfigurationError
from deepsentinel.policy.policy import DEFAULT_POLICY, CompliancePolicy

_BUILTIN: dict[str, CompliancePolicy] = {
    "default": DEFAULT_POLICY,
    "strict": CompliancePolicy(
        name="strict", description="Blocks every finding, even low-risk contact details.",
        max_risk_score=0.2, block_on_violation=True,
    ),
    "anonymize": CompliancePolicy(
        name="anonymize", description="Masks every finding instead of blocking.",
        max_risk_score=0.0, block_on_violation=False, anonymize_threshold=0.0, anonymization_strategy="mask",
    ),
}


def presets() -> dict[str, CompliancePolicy]:
    """Every preset by name: the library's own when it ships them, else the built-in set."""
    try:
        module = importlib.import_module("deepsentinel.policy.presets")
    except ImportError:
        return dict(_BUILTIN)
    found = getattr(module, "PRESETS", None)
    if not isinstance(found, Mapping):
        return dict(_BUILTIN)
    merged = dict(_BUILTIN)
    for name, policy in found.items():
        if isinstance(policy, CompliancePolicy):
            merged[str(name).lower()] = policy
        elif callable(policy):  # the library's presets are factories taking overrides
            merged[str(name).lower()] = policy()
        elif isinstance(policy, Mapping):
            merged[str(name).lower()] = CompliancePolicy(**policy)
    return merged


def load_policies(specs: Iterable[str]) -> list[CompliancePolicy]:
    """Policies for a list of ``--policy`` values (empty list when none were given)."""
    out: list[CompliancePolicy] = []
    known = presets()
    for spec in specs:
        name = spec.strip().lower().replace("-", "_")
        if name in known:
            out.append(known[name])
            continue
        path = Path(spec).expanduser()
        if not path.suffix and not path.exists():
            raise UsageError(f"--policy: unknown preset {spec!r} (presets: {', '.join(sorted(known))}; or give a .yaml/.json file)")
        out.extend(_from_file(path))
    return out


def _from_file(path: Path) -> list[CompliancePolicy]:
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read policy file {path}: {exc.strerror or exc}") from exc
    try:
        data: Any = json.loads(raw) if path.suffix.lower() == ".json" else yaml.safe_load(raw)
    except (ValueError, yaml.YAMLError) as exc:
        raise CliError(f"policy file {path} is not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: {_first_line(exc)}") from exc
    items = data.get("compliance_policies", data.get("policies", data)) if isinstance(data, Mapping) else data
    if isinstance(items, Mapping):
        items = [items]
    if not isinstance(items, list) or not items or not all(isinstance(p, Mapping) for p in items):
        raise CliError(f"policy file {path} must hold a policy mapping, a list of them, or compliance_policies:")
    try:
        return [CompliancePolicy(**dict(p)) for p in items]
    except ConfigurationError as exc:
        raise CliError(f"policy file {path}: {exc.message}") from exc


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def describe_policy(policy: CompliancePolicy) -> dict[str, str]:
    """A policy's settings as short strings, for tables (``/policy``, ``scan --list-presets``)."""
    categories = ", ".join(sorted(c.value for c in policy.enabled_categories if c is not Category.CUSTOM))
    overrides = {**{k: v.value for k, v in policy.entity_actions.items()},
                 **{k.value: v.value for k, v in policy.category_actions.items()}}
    return {
        "name": policy.name,
        "description": policy.description or "-",
        "categories": categories or "-",
        "on violation": "block" if policy.block_on_violation else "anonymize",
        "max risk": f"{policy.max_risk_score:.2f}",
        "anonymize at": "-" if policy.anonymize_threshold is None else f"{policy.anonymize_threshold:.2f}",
        "strategy": policy.anonymization_strategy,
        "overrides": ", ".join(f"{k}={v}" for k, v in sorted(overrides.items())) or "-",
    }


__all__ = ["describe_policy", "load_policies", "presets"]
