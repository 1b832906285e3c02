"""The public surface: what deepsentinel exports, and sync/async twins that match."""

from __future__ import annotations

import inspect

import deepsentinel
from deepsentinel import clients as client_module

EXPECTED = {
    "Action", "AsyncSentinelClient", "AsyncSentinelAnthropic", "SentinelAnthropic", "protect", "AuthenticationError", "Category", "ComplianceViolationError",
    "CompliancePolicy", "ConfigurationError", "Decision", "DeepSentinelError", "DetectionEngine", "Finding",
    "PerformanceConfig", "ProviderConfig", "ProviderConnectionError", "ProviderError", "ProviderTimeoutError",
    "RateLimitError", "ScanResult", "SentinelClient", "SentinelConfig", "Severity",
    "StreamDisconnectedError", "TimeoutError", "ValidationError", "Violation", "__version__", "scan",
    "AuditEvent", "Outcome", "AuditLog", "Anonymizer", "ComplianceEngine", "PCIDetector", "PHIDetector",
    "PIIDetector", "SecretDetector", "PatternMatcher", "Vault", "StreamGuard", "MetricsCollector",
    "ComplianceMonitor", "presets",
}


def test_all_lists_exactly_the_public_names() -> None:
    assert set(deepsentinel.__all__) == EXPECTED
    for name in deepsentinel.__all__:
        assert hasattr(deepsentinel, name), name


def test_error_tree_has_one_root() -> None:
    errors = [getattr(deepsentinel, n) for n in deepsentinel.__all__ if n.endswith("Error")]
    assert all(issubclass(e, deepsentinel.DeepSentinelError) for e in errors)
    assert issubclass(deepsentinel.RateLimitError, deepsentinel.ProviderError)
    assert issubclass(deepsentinel.TimeoutError, TimeoutError)


def _own_methods(cls: type) -> dict[str, inspect.Signature]:
    """Public methods DeepSentinel itself defines on ``cls`` (the rest are the official SDK's own)."""
    ours = [c for c in cls.__mro__ if c.__module__.startswith("deepsentinel")]
    return {
        name: inspect.signature(fn)
        for c in ours
        for name, fn in vars(c).items()
        if inspect.isfunction(fn) and not name.startswith("_") and name != "close"
    }


def test_sync_and_async_twins_have_the_same_signatures() -> None:
    """Every public method we add to a sync class has an async twin with the same parameters."""
    pairs = [
        (client_module.SentinelClient, client_module.AsyncSentinelClient),
        (client_module.SentinelAnthropic, client_module.AsyncSentinelAnthropic),
        (client_module.SentinelCompletions, client_module.AsyncSentinelCompletions),
    ]
    for sync_cls, async_cls in pairs:
        sync_methods, async_methods = _own_methods(sync_cls), _own_methods(async_cls)
        assert sync_methods.keys() == async_methods.keys(), sync_cls
        for name, sig in sync_methods.items():
            assert list(sig.parameters) == list(async_methods[name].parameters), (sync_cls, name)
            assert inspect.iscoroutinefunction(getattr(async_cls, name)), (async_cls, name)


def test_clients_are_the_official_ones() -> None:
    """isinstance checks of libraries built on the SDKs pass: the clients are subclasses of the official ones."""
    import anthropic
    import openai

    assert issubclass(deepsentinel.SentinelClient, openai.OpenAI)
    assert issubclass(deepsentinel.AsyncSentinelClient, openai.AsyncOpenAI)
    assert issubclass(deepsentinel.SentinelAnthropic, anthropic.Anthropic)
    assert issubclass(deepsentinel.AsyncSentinelAnthropic, anthropic.AsyncAnthropic)
    assert issubclass(deepsentinel.RateLimitError, openai.RateLimitError)
    assert issubclass(deepsentinel.ComplianceViolationError, (openai.OpenAIError))
    assert issubclass(deepsentinel.ComplianceViolationError, anthropic.AnthropicError)


def test_import_has_no_side_effects_on_logging() -> None:
    import logging

    handlers = logging.getLogger("deepsentinel").handlers
    assert all(isinstance(h, logging.NullHandler) for h in handlers)
