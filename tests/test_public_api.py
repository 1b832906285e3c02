"""The public surface: what deepsentinel exports, and sync/async twins that match."""

from __future__ import annotations

import inspect

import deepsentinel
from deepsentinel import client as client_module

EXPECTED = {
    "Action", "AsyncSentinelClient", "AsyncStream", "AuthenticationError", "Category", "ComplianceViolationError",
    "CompliancePolicy", "ConfigurationError", "Decision", "DeepSentinelError", "DetectionEngine", "Finding",
    "PerformanceConfig", "ProviderConfig", "ProviderConnectionError", "ProviderError", "ProviderTimeoutError",
    "RateLimitError", "ScanResult", "SentinelClient", "SentinelConfig", "Severity", "Stream",
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


def _public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(fn)
        for name, fn in inspect.getmembers(cls, predicate=inspect.isfunction)
        if not name.startswith("_") and name not in ("close",)
    }


def test_sync_and_async_twins_have_the_same_signatures() -> None:
    """Every public method of a sync class has an async twin with the same parameters."""
    pairs = [
        (client_module.SentinelClient, client_module.AsyncSentinelClient),
        (client_module.Completions, client_module.AsyncCompletions),
        (client_module.Embeddings, client_module.AsyncEmbeddings),
        (client_module.Models, client_module.AsyncModels),
    ]
    for sync_cls, async_cls in pairs:
        sync_methods, async_methods = _public_methods(sync_cls), _public_methods(async_cls)
        assert sync_methods.keys() == async_methods.keys(), sync_cls
        for name, sig in sync_methods.items():
            assert list(sig.parameters) == list(async_methods[name].parameters), (sync_cls, name)
            assert inspect.iscoroutinefunction(getattr(async_cls, name)), (async_cls, name)
    # Both constructors are the shared base's, plus the transport's own http_client.
    assert client_module.SentinelClient.__mro__[1] is client_module.AsyncSentinelClient.__mro__[1]


def test_import_has_no_side_effects_on_logging() -> None:
    import logging

    handlers = logging.getLogger("deepsentinel").handlers
    assert all(isinstance(h, logging.NullHandler) for h in handlers)
