"""DeepSentinel: a compliance layer that makes LLM calls safe to send and safe to show.

>>> from deepsentinel import SentinelClient
>>> client = SentinelClient(openai_api_key="sk-...")
>>> client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hello"}])

Public names are imported on first use (PEP 562): ``import deepsentinel`` and ``deepsentinel --version`` stay
fast because the provider SDKs' types load only when a client, stream or error class is first touched.
"""

from __future__ import annotations

import importlib
import logging

# Not ``from typing import TYPE_CHECKING``: importing typing would cost ``import deepsentinel`` a few ms,
# and type checkers treat any constant of this name the same way.
TYPE_CHECKING = False
if TYPE_CHECKING:  # what type checkers and IDEs see; at run time ``__getattr__`` imports on first use
    from typing import Any

    from deepsentinel.anthropic_clients import AsyncSentinelAnthropic, SentinelAnthropic
    from deepsentinel.audit.events import AuditEvent, Outcome
    from deepsentinel.audit.log import AuditLog
    from deepsentinel.clients import AsyncSentinelClient, SentinelClient, protect
    from deepsentinel.config import PerformanceConfig, ProviderConfig, SentinelConfig
    from deepsentinel.detection.anonymizer import Anonymizer
    from deepsentinel.detection.compliance_engine import ComplianceEngine
    from deepsentinel.detection.detectors import PCIDetector, PHIDetector, PIIDetector, SecretDetector
    from deepsentinel.detection.engine import DetectionEngine, scan
    from deepsentinel.detection.findings import Category, Finding, ScanResult, Severity
    from deepsentinel.detection.pattern_matcher import PatternMatcher
    from deepsentinel.detection.vault import Vault
    from deepsentinel.errors import (
        AuthenticationError,
        ComplianceViolationError,
        ConfigurationError,
        DeepSentinelError,
        ProviderConnectionError,
        ProviderError,
        ProviderTimeoutError,
        RateLimitError,
        StreamDisconnectedError,
        TimeoutError,
        UnreadableResponseError,
        ValidationError,
    )
    from deepsentinel.guard.stream_guard import StreamGuard
    from deepsentinel.metrics.collector import MetricsCollector
    from deepsentinel.metrics.monitor import ComplianceMonitor
    from deepsentinel.policy import presets
    from deepsentinel.policy.actions import Action
    from deepsentinel.policy.decision import Decision, Violation
    from deepsentinel.policy.policy import CompliancePolicy

__version__ = "0.1.0"

# A library adds no handlers of its own beyond this: the application decides where logs go.
logging.getLogger("deepsentinel").addHandler(logging.NullHandler())

#: Each public name and the module that defines it.
_LAZY: dict[str, str] = {
    "AuditEvent": "deepsentinel.audit.events",
    "Outcome": "deepsentinel.audit.events",
    "AuditLog": "deepsentinel.audit.log",
    "AsyncSentinelAnthropic": "deepsentinel.anthropic_clients",
    "AsyncSentinelClient": "deepsentinel.clients",
    "SentinelAnthropic": "deepsentinel.anthropic_clients",
    "SentinelClient": "deepsentinel.clients",
    "protect": "deepsentinel.clients",
    "PerformanceConfig": "deepsentinel.config",
    "ProviderConfig": "deepsentinel.config",
    "SentinelConfig": "deepsentinel.config",
    "Anonymizer": "deepsentinel.detection.anonymizer",
    "ComplianceEngine": "deepsentinel.detection.compliance_engine",
    "PCIDetector": "deepsentinel.detection.detectors",
    "PHIDetector": "deepsentinel.detection.detectors",
    "PIIDetector": "deepsentinel.detection.detectors",
    "SecretDetector": "deepsentinel.detection.detectors",
    "DetectionEngine": "deepsentinel.detection.engine",
    "scan": "deepsentinel.detection.engine",
    "Category": "deepsentinel.detection.findings",
    "Finding": "deepsentinel.detection.findings",
    "ScanResult": "deepsentinel.detection.findings",
    "Severity": "deepsentinel.detection.findings",
    "PatternMatcher": "deepsentinel.detection.pattern_matcher",
    "Vault": "deepsentinel.detection.vault",
    "AuthenticationError": "deepsentinel.errors",
    "ComplianceViolationError": "deepsentinel.errors",
    "ConfigurationError": "deepsentinel.errors",
    "DeepSentinelError": "deepsentinel.errors",
    "ProviderConnectionError": "deepsentinel.errors",
    "ProviderError": "deepsentinel.errors",
    "ProviderTimeoutError": "deepsentinel.errors",
    "RateLimitError": "deepsentinel.errors",
    "StreamDisconnectedError": "deepsentinel.errors",
    "UnreadableResponseError": "deepsentinel.errors",
    "TimeoutError": "deepsentinel.errors",
    "ValidationError": "deepsentinel.errors",
    "StreamGuard": "deepsentinel.guard.stream_guard",
    "MetricsCollector": "deepsentinel.metrics.collector",
    "ComplianceMonitor": "deepsentinel.metrics.monitor",
    "presets": "deepsentinel.policy",
    "Action": "deepsentinel.policy.actions",
    "Decision": "deepsentinel.policy.decision",
    "Violation": "deepsentinel.policy.decision",
    "CompliancePolicy": "deepsentinel.policy.policy",
}


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first access, then keep it as a plain module attribute."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'deepsentinel' has no attribute {name!r}")
    imported = importlib.import_module(module)
    # ``presets`` is a submodule: ``from deepsentinel.policy import presets`` would import it the same way.
    value = getattr(imported, name) if hasattr(imported, name) else importlib.import_module(f"{module}.{name}")
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Action",
    "Anonymizer",
    "AsyncSentinelClient",
    "AsyncSentinelAnthropic",
    "AuditEvent",
    "AuditLog",
    "AuthenticationError",
    "Category",
    "ComplianceEngine",
    "ComplianceMonitor",
    "CompliancePolicy",
    "ComplianceViolationError",
    "ConfigurationError",
    "Decision",
    "DeepSentinelError",
    "DetectionEngine",
    "Finding",
    "MetricsCollector",
    "Outcome",
    "PCIDetector",
    "PHIDetector",
    "PIIDetector",
    "PatternMatcher",
    "PerformanceConfig",
    "ProviderConfig",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitError",
    "ScanResult",
    "SecretDetector",
    "SentinelClient",
    "SentinelConfig",
    "Severity",
    "SentinelAnthropic",
    "StreamDisconnectedError",
    "UnreadableResponseError",
    "StreamGuard",
    "TimeoutError",
    "ValidationError",
    "Vault",
    "Violation",
    "__version__",
    "presets",
    "protect",
    "scan",
]
