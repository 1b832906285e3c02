"""The public surface: what deepsentinel exports, and sync/async twins that match."""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys

import pytest

import deepsentinel
from deepsentinel import clients as client_module

EXPECTED = {
    "Action", "AsyncSentinelClient", "AsyncSentinelAnthropic", "SentinelAnthropic", "protect", "AuthenticationError", "Category", "ComplianceViolationError",
    "CompliancePolicy", "ConfigurationError", "Decision", "DeepSentinelError", "DetectionEngine", "Finding",
    "PerformanceConfig", "ProviderConfig", "ProviderConnectionError", "ProviderError", "ProviderTimeoutError",
    "RateLimitError", "ScanResult", "SentinelClient", "SentinelConfig", "Severity",
    "StreamDisconnectedError", "TimeoutError", "UnreadableResponseError", "ValidationError", "Violation", "__version__", "scan",
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
        # copy()/with_options() are synchronous on the SDKs' async clients too; close() is awaited only there
        if inspect.isfunction(fn) and not name.startswith("_") and name not in ("close", "copy", "with_options")
    }


def test_sync_and_async_twins_have_the_same_signatures() -> None:
    """Every public method we add to a sync class has an async twin with the same parameters."""
    pairs = [
        (client_module.SentinelClient, client_module.AsyncSentinelClient),
        (deepsentinel.SentinelAnthropic, deepsentinel.AsyncSentinelAnthropic),
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
    # In an anthropic client's call our errors are anthropic's too (tests/test_anthropic_flavor.py).
    from deepsentinel.anthropic_flavor import as_anthropic

    error = as_anthropic(deepsentinel.ComplianceViolationError("blocked"))
    assert isinstance(error, anthropic.AnthropicError) and isinstance(error, deepsentinel.ComplianceViolationError)


def test_import_has_no_side_effects_on_logging() -> None:
    import logging

    handlers = logging.getLogger("deepsentinel").handlers
    assert all(isinstance(h, logging.NullHandler) for h in handlers)


def _imported_by(code: str) -> set[str]:
    """Top-level package names in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_import_loads_no_provider_sdk() -> None:
    """`import deepsentinel` imports neither openai nor anthropic (nor httpx2, pydantic): names load on first use."""
    loaded = _imported_by("import deepsentinel")
    assert not loaded & {"openai", "anthropic", "httpx2", "pydantic"}
    after_use = _imported_by("import deepsentinel\ndeepsentinel.SentinelClient")
    assert "openai" in after_use  # the lazy name really resolves to the client module


def test_lazy_names_behave_like_attributes() -> None:
    """dir() lists every public name, `from deepsentinel import *` binds them all, unknown names raise."""
    assert set(deepsentinel.__all__) <= set(dir(deepsentinel))
    namespace: dict[str, object] = {}
    exec("from deepsentinel import *", namespace)
    assert set(deepsentinel.__all__) <= set(namespace)
    assert namespace["presets"] is importlib.import_module("deepsentinel.policy.presets")
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        deepsentinel.NoSuchName  # noqa: B018


def test_version_flag_imports_nothing_heavy() -> None:
    """`python -m deepsentinel --version` answers without loading typer, rich or any provider SDK."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "deepsentinel", "--version"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"deepsentinel {deepsentinel.__version__}"
    modules = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    assert "deepsentinel" in modules  # the probe works: importtime did report our own package
    assert not modules & {"typer", "rich", "click", "openai", "anthropic", "httpx2", "pydantic"}
