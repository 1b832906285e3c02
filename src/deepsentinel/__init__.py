"""DeepSentinel: a compliance layer that makes LLM calls safe to send and safe to show.

>>> from deepsentinel import SentinelClient
>>> client = SentinelClient(openai_api_key="sk-...")
>>> client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hello"}])
"""

import logging

from deepsentinel.client import AsyncSentinelClient, SentinelClient
from deepsentinel.config import PerformanceConfig, ProviderConfig, SentinelConfig
from deepsentinel.detection.engine import DetectionEngine, scan
from deepsentinel.detection.findings import Category, Finding, ScanResult, Severity
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
from deepsentinel.policy.actions import Action
from deepsentinel.policy.decision import Decision, Violation
from deepsentinel.policy.policy import CompliancePolicy
from deepsentinel.streaming import AsyncStream, Stream

__version__ = "0.1.0"

# A library adds no handlers of its own beyond this: the application decides where logs go.
logging.getLogger("deepsentinel").addHandler(logging.NullHandler())

__all__ = [
    "Action",
    "AsyncSentinelClient",
    "AsyncStream",
    "AuthenticationError",
    "Category",
    "ComplianceViolationError",
    "CompliancePolicy",
    "ConfigurationError",
    "Decision",
    "DeepSentinelError",
    "DetectionEngine",
    "Finding",
    "PerformanceConfig",
    "ProviderConfig",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitError",
    "ScanResult",
    "SentinelClient",
    "SentinelConfig",
    "Severity",
    "Stream",
    "StreamDisconnectedError",
    "TimeoutError",
    "ValidationError",
    "Violation",
    "__version__",
    "scan",
]
