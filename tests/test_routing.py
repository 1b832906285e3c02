"""Provider selection, aliases, fallback order, fallback-worthiness and health cool-down."""

from __future__ import annotations

import pytest

from deepsentinel.errors import (
    ConfigurationError,
    ProviderError,
    ValidationError,
)
from deepsentinel.providers.anthropic import AnthropicAdapter
from deepsentinel.providers.health import HealthTracker, ProviderHealth
from deepsentinel.providers.openai import OpenAIAdapter
from deepsentinel.providers.routing import ProviderEntry, Router, Target, infer_provider

OPENAI_KEY = "sk-" + "o" * 40
ANTHROPIC_KEY = "sk-ant-" + "a" * 40


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def entries() -> list[ProviderEntry]:
    return [
        ProviderEntry("openai", "openai", api_key=OPENAI_KEY, model_aliases={"fast": "gpt-4o-mini"}),
        ProviderEntry("anthropic", "anthropic", api_key=ANTHROPIC_KEY, model_aliases={"smart": "claude-opus-4-1"}),
        ProviderEntry("local", "openai", base_url="http://127.0.0.1:11434/v1", model_aliases={"llama": "llama3.1:8b"}),
    ]


@pytest.mark.parametrize(
    ("model", "kind"),
    [
        ("claude-3-opus-20240229", "anthropic"),
        ("Claude-Sonnet-4-5", "anthropic"),
        ("gpt-4o", "openai"),
        ("o1", "openai"),
        ("o3-mini", "openai"),
        ("o4-mini-2025-04-16", "openai"),
        ("chatgpt-4o-latest", "openai"),
        ("text-embedding-3-small", "openai"),
        ("dall-e-3", "openai"),
        ("whisper-1", "openai"),
        ("tts-1-hd", "openai"),
        ("ft:gpt-4o-mini:acme::abc123", "openai"),
        ("llama3.1:8b", None),
        ("ollama-model", None),
        ("orca-mini", None),
        ("mistral-large", None),
        ("claudette", None),
    ],
)
def test_infer_provider(model: str, kind: str | None) -> None:
    """Model names say their family; o-prefixed names only count when followed by a digit."""
    assert infer_provider(model) == kind


def test_explicit_provider_wins() -> None:
    """provider= overrides inference, and that provider's aliases apply."""
    router = Router(entries())
    assert router.select("gpt-4o", provider="local") == [Target("local", "gpt-4o")]
    assert router.select("llama", provider="local") == [Target("local", "llama3.1:8b")]


def test_aliases_then_inference_then_default() -> None:
    """An alias names its provider; then the model's family; then default_provider."""
    router = Router(entries(), default_provider="local")
    assert router.select("smart") == [Target("anthropic", "claude-opus-4-1")]
    assert router.select("fast") == [Target("openai", "gpt-4o-mini")]
    assert router.select("claude-3-opus-20240229") == [Target("anthropic", "claude-3-opus-20240229")]
    assert router.select("o3-mini") == [Target("openai", "o3-mini")]
    assert router.select("qwen2.5") == [Target("local", "qwen2.5")]


def test_inference_prefers_the_default_when_it_is_of_that_kind() -> None:
    """With no provider named 'openai', an OpenAI model goes to the default if it speaks OpenAI, else the first."""
    azure = ProviderEntry("azure", "openai", api_key=OPENAI_KEY, base_url="https://x.openai.azure.com", api_version="2024-10-21")
    vllm = ProviderEntry("vllm", "openai", base_url="http://127.0.0.1:8000/v1")
    assert Router([vllm, azure], default_provider="azure").select("gpt-4o") == [Target("azure", "gpt-4o")]
    assert Router([vllm, azure]).select("gpt-4o") == [Target("vllm", "gpt-4o")]


def test_unconfigured_family_goes_to_a_default_gateway() -> None:
    """A claude model with no Anthropic provider goes to the default (a gateway may serve it)."""
    gateway = ProviderEntry("gateway", "openai", base_url="http://127.0.0.1:4000")
    assert Router([gateway], default_provider="gateway").select("claude-3-haiku") == [Target("gateway", "claude-3-haiku")]
    assert Router([gateway]).select("claude-3-haiku") == [Target("gateway", "claude-3-haiku")]  # the only one


def test_no_way_to_choose_is_a_configuration_error() -> None:
    """Several providers, no default, and a model nobody claims: the error lists what is configured."""
    router = Router([e for e in entries() if e.name != "anthropic"])
    with pytest.raises(ConfigurationError) as info:
        router.select("claude-3-haiku")
    message = str(info.value)
    assert "claude-3-haiku" in message and "anthropic" in message and "openai, local" in message
    with pytest.raises(ConfigurationError, match="pass provider="):
        router.select("qwen2.5")


def test_unknown_provider_is_a_configuration_error_naming_it() -> None:
    """provider='mistral' when not configured names it and the configured ones."""
    with pytest.raises(ConfigurationError) as info:
        Router(entries()).select("gpt-4o", provider="mistral")
    assert "'mistral'" in str(info.value) and "openai, anthropic, local" in str(info.value)
    with pytest.raises(ConfigurationError, match="'nope'"):
        Router(entries(), default_provider="nope")


def test_missing_key_is_a_configuration_error_without_any_key() -> None:
    """A provider that needs a key and has none fails at selection; the message names it, never a key."""
    router = Router([ProviderEntry("openai", api_key=OPENAI_KEY), ProviderEntry("anthropic", "anthropic")])
    assert router.select("gpt-4o") == [Target("openai", "gpt-4o")]  # an unused keyless entry is fine
    with pytest.raises(ConfigurationError) as info:
        router.select("claude-3-haiku")
    assert "'anthropic'" in str(info.value) and "ANTHROPIC_API_KEY" in str(info.value)
    assert OPENAI_KEY not in str(info.value)


def test_missing_key_on_a_named_provider_points_at_its_config() -> None:
    """A configured provider without its key says where the key goes."""
    router = Router([ProviderEntry("azure", api_key=None, base_url="https://x.example", requires_key=True)])
    with pytest.raises(ConfigurationError, match="'azure' has no API key: set api_key in its ProviderConfig"):
        router.select("gpt-4o")


def test_requires_key_defaults_and_override() -> None:
    """Official endpoints need a key, custom base URLs do not, unless told otherwise."""
    assert ProviderEntry("openai").needs_key
    assert not ProviderEntry("ollama", base_url="http://127.0.0.1:11434/v1").needs_key
    assert ProviderEntry("proxy", "anthropic", base_url="https://proxy.example", requires_key=True).needs_key


def test_entry_repr_hides_the_key() -> None:
    """A ProviderEntry repr never shows its key or headers."""
    entry = ProviderEntry("anthropic", "anthropic", api_key=ANTHROPIC_KEY, headers={"x-secret": ANTHROPIC_KEY})
    assert ANTHROPIC_KEY not in repr(entry)


def test_adapters_follow_the_kind() -> None:
    """Each entry builds the adapter for its wire format, with its name, URL and key."""
    router = Router(entries())
    anthropic = router.adapter("anthropic")
    local = router.adapter("local")
    assert isinstance(anthropic, AnthropicAdapter) and anthropic.base_url == "https://api.anthropic.com"
    assert isinstance(local, OpenAIAdapter) and (local.name, local.base_url) == ("local", "http://127.0.0.1:11434/v1")
    assert isinstance(router.adapter("openai"), OpenAIAdapter)
    with pytest.raises(ConfigurationError):
        router.adapter("mistral")


def test_duplicate_and_empty_configurations_are_refused() -> None:
    """Two entries with one name, or none at all, are configuration errors."""
    with pytest.raises(ConfigurationError):
        Router([ProviderEntry("a", base_url="http://127.0.0.1:1"), ProviderEntry("a", base_url="http://127.0.0.1:2")])
    with pytest.raises(ConfigurationError):
        Router([])


def test_empty_model_is_a_validation_error() -> None:
    """A call without a model is refused before routing."""
    with pytest.raises(ValidationError):
        Router(entries()).select("  ")


def test_per_request_fallbacks_in_order() -> None:
    """Fallbacks follow the primary in the given order, as 'provider/model', bare models or Targets."""
    router = Router(entries(), default_provider="local")
    targets = router.select("gpt-4o", fallbacks=["anthropic/smart", "qwen2.5", Target("openai", "fast")])
    assert targets == [
        Target("openai", "gpt-4o"),
        Target("anthropic", "claude-opus-4-1"),
        Target("local", "qwen2.5"),
        Target("openai", "gpt-4o-mini"),
    ]


def test_config_fallbacks_apply_unless_the_call_overrides() -> None:
    """Router-level fallbacks apply to every call; fallbacks=[] turns them off; duplicates are dropped."""
    router = Router(entries(), fallbacks=["anthropic/claude-3-5-haiku-latest", "openai/gpt-4o-mini"])
    assert router.select("gpt-4o-mini") == [Target("openai", "gpt-4o-mini"), Target("anthropic", "claude-3-5-haiku-latest")]
    assert router.select("gpt-4o", fallbacks=[]) == [Target("openai", "gpt-4o")]


def test_fallback_model_paths_keep_their_slashes() -> None:
    """'local/org/model' keeps 'org/model'; an HF-style name without a configured prefix is a bare model."""
    router = Router(entries(), default_provider="local")
    assert router.select("gpt-4o", fallbacks=["local/meta-llama/Llama-3-8B"])[1] == Target("local", "meta-llama/Llama-3-8B")
    assert router.select("gpt-4o", fallbacks=["meta-llama/Llama-3-8B"])[1] == Target("local", "meta-llama/Llama-3-8B")


def test_bad_fallbacks_fail_at_construction() -> None:
    """A fallback to an unknown provider is caught when the router is built, not mid-outage."""
    with pytest.raises(ConfigurationError, match="'mistral'"):
        Router(entries(), fallbacks=[Target("mistral", "large")])
    with pytest.raises(ConfigurationError, match="'anthropic'"):
        Router([ProviderEntry("openai", api_key=OPENAI_KEY)], fallbacks=["anthropic/claude-3-haiku"])


def test_primary_model_with_a_slash_is_not_split() -> None:
    """'openai/gpt-oss-20b' is a model name (served by vLLM), not the openai provider."""
    router = Router(entries(), default_provider="local")
    assert router.select("openai/gpt-oss-20b") == [Target("local", "openai/gpt-oss-20b")]


def test_health_filter_skips_cooling_providers() -> None:
    """A provider that failed past the threshold is skipped until its cool-down passes."""
    clock = FakeClock()
    health = HealthTracker(cooldown_seconds=30, failure_threshold=2, clock=clock)
    router = Router(entries(), fallbacks=["anthropic/claude-3-5-haiku-latest"], health=health)
    health.record_failure("openai")
    assert [t.provider for t in router.select("gpt-4o")] == ["openai", "anthropic"]  # one failure: still in
    health.record_failure("openai")
    assert [t.provider for t in router.select("gpt-4o")] == ["anthropic"]
    clock.now += 29.9
    assert [t.provider for t in router.select("gpt-4o")] == ["anthropic"]
    clock.now += 0.2
    assert [t.provider for t in router.select("gpt-4o")] == ["openai", "anthropic"]


def test_all_cooling_still_returns_every_target_in_order() -> None:
    """When every target is cooling down, they are all tried anyway: the list is never empty."""
    health = HealthTracker(cooldown_seconds=30, failure_threshold=1, clock=FakeClock())
    router = Router(entries(), fallbacks=["anthropic/claude-3-5-haiku-latest"], health=health)
    health.record_failure("openai")
    health.record_failure("anthropic")
    assert [t.provider for t in router.select("gpt-4o")] == ["openai", "anthropic"]


def test_half_open_after_cool_down() -> None:
    """After a cool-down one failure sends the provider back; a success resets it entirely."""
    clock = FakeClock()
    health = HealthTracker(cooldown_seconds=10, failure_threshold=3, clock=clock)
    for _ in range(3):
        health.record_failure("p")
    assert not health.is_healthy("p")
    clock.now += 10
    assert health.is_healthy("p")
    health.record_failure("p")
    assert not health.is_healthy("p")
    clock.now += 10
    health.record_success("p")
    health.record_failure("p")
    assert health.is_healthy("p")  # counting starts over after a success


def test_success_resets_the_failure_count() -> None:
    """Failures must be consecutive to trip the cool-down."""
    health = HealthTracker(failure_threshold=2, clock=FakeClock())
    health.record_failure("p")
    health.record_success("p")
    health.record_failure("p")
    assert health.is_healthy("p")


def test_snapshot_reports_state() -> None:
    """snapshot() gives each provider's health, failures and remaining cool-down."""
    clock = FakeClock()
    health = HealthTracker(cooldown_seconds=30, failure_threshold=1, clock=clock)
    health.record_failure("openai")
    clock.now += 10
    assert health.snapshot(["openai", "anthropic"]) == [
        ProviderHealth("openai", False, 1, 20.0),
        ProviderHealth("anthropic", True, 0, 0.0),
    ]


def test_tracker_rejects_nonsense_settings() -> None:
    """A threshold below one or a negative cool-down is refused."""
    with pytest.raises(ValueError):
        HealthTracker(failure_threshold=0)
    with pytest.raises(ValueError):
        HealthTracker(cooldown_seconds=-1)


def perr(status: int | None) -> ProviderError:
    return ProviderError("x", provider="p", status_code=status)


def test_fallback_naming_a_provider_but_no_model_is_rejected() -> None:
    from deepsentinel.errors import ValidationError
    from deepsentinel.providers.routing import ProviderEntry, Router

    router = Router([ProviderEntry("openai", api_key="k"), ProviderEntry("anthropic", "anthropic", api_key="k")])
    with pytest.raises(ValidationError, match="no model"):
        router.select("gpt-4o", fallbacks=["anthropic/"])
