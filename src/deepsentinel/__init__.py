"""DeepSentinel: a compliance layer that makes LLM calls safe to send and safe to show.

>>> from deepsentinel import SentinelClient
>>> client = SentinelClient(openai_api_key="sk-...")
>>> client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hello"}])
"""

import logging

from deepsentinel.audit.events import AuditEvent, Outcome
from deepsentinel.audit.log import AuditLog
from deepsentinel.clients import (
    AsyncSentinelAnthropic,
    AsyncSentinelClient,
    SentinelAnthropic,
    SentinelClient,
    protect,
)
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
