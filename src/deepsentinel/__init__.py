"""DeepSentinel: a compliance layer that makes LLM calls safe to send and safe to show."""

from deepsentinel.errors import (
    AuthenticationError,
    ComplianceViolationError,
    ConfigurationError,
    DeepSentinelError,
    ProviderError,
    RateLimitError,
    StreamDisconnectedError,
    ValidationError,
)

__version__ = "0.1.0"
