"""Configuration from code, environment and files, with clear errors and no keys in reprs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deepsentinel import (
    CompliancePolicy,
    ConfigurationError,
    PerformanceConfig,
    ProviderConfig,
    SentinelClient,
    SentinelConfig,
)


def test_environment_fills_keys_and_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys and base URLs fall back to the documented environment variables."""
    monkeypatch.setenv("OPENAI_API_KEY", "env-openai-key")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "env-anthropic-key")
    monkeypatch.setenv("DEEPSENTINEL_API_KEY", "env-sentinel-key")
    monkeypatch.setenv("DEEPSENTINEL_READ_TIMEOUT", "12.5")
    client = SentinelClient(audit=False)
    cfg = client.config
    assert cfg.openai_api_key is not None and cfg.openai_api_key.get_secret_value() == "env-openai-key"
    assert cfg.openai_base_url == "http://127.0.0.1:9/v1"
    assert cfg.sentinel_api_key is not None
    assert cfg.performance_config.read_timeout == 12.5
    for text in (repr(cfg), str(cfg), repr(client)):
        assert "env-openai-key" not in text and "env-anthropic-key" not in text and "env-sentinel-key" not in text
    client.close()


def test_arguments_beat_config_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Explicit argument > config object > environment."""
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env.invalid/v1")
    cfg = SentinelConfig(openai_base_url="http://config.invalid/v1", openai_api_key="k")
    assert SentinelClient(config=cfg, audit=False).config.openai_base_url == "http://config.invalid/v1"
    assert SentinelClient(config=cfg, base_url="http://arg.invalid/v1", audit=False).config.openai_base_url == (
        "http://arg.invalid/v1"
    )


def test_yaml_and_json_files_load(tmp_path: Path) -> None:
    """from_file reads YAML and JSON, including policies and named OpenAI-compatible providers."""
    yaml_file = tmp_path / "deepsentinel.yaml"
    yaml_file.write_text(
        "default_provider: ollama\n"
        "providers:\n  ollama:\n    base_url: http://127.0.0.1:11434/v1\n    model_aliases: {fast: llama3.2}\n"
        "compliance_policies:\n  - name: strict\n    max_risk_score: 0.5\n"
        "performance_config:\n  max_retries: 1\n"
    )
    cfg = SentinelConfig.from_file(yaml_file)
    assert cfg.default_provider == "ollama"
    assert cfg.provider("ollama") == ProviderConfig(
        name="ollama", base_url="http://127.0.0.1:11434/v1", model_aliases={"fast": "llama3.2"}
    )
    assert cfg.compliance_policies[0] == CompliancePolicy(name="strict", max_risk_score=0.5)
    assert cfg.performance_config == PerformanceConfig(max_retries=1)
    json_file = tmp_path / "deepsentinel.json"
    json_file.write_text(json.dumps({"openai_api_key": "file-key", "fallbacks": ["anthropic/claude-3-haiku"]}))
    cfg2 = SentinelConfig.from_file(json_file)
    assert cfg2.fallbacks == ("anthropic/claude-3-haiku",) and "file-key" not in repr(cfg2)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("not: [valid", "not valid"),
        ("- a\n- b\n", "mapping"),
        ("unknown_setting: 1\n", "unknown_setting"),
        ("performance_config:\n  max_retries: -1\n", "max_retries"),
        ("openai_base_url: ftp://x\n", "openai_base_url"),
        ("compliance_policies:\n  - name: x\n    max_risk_score: 7\n", "max_risk_score"),
    ],
)
def test_bad_files_raise_configuration_errors(tmp_path: Path, content: str, fragment: str) -> None:
    """Every file problem is a ConfigurationError that names the setting."""
    f = tmp_path / "deepsentinel.yaml"
    f.write_text(content)
    with pytest.raises(ConfigurationError, match=fragment):
        SentinelConfig.from_file(f)


def test_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        SentinelConfig.from_file(tmp_path / "nope.yaml")


def test_missing_key_names_the_provider_and_the_fix() -> None:
    """A call to a provider with no key raises ConfigurationError before any request."""
    client = SentinelClient(audit=False)
    with pytest.raises(ConfigurationError, match="openai"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(ConfigurationError, match="unknown provider 'mistral'"):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], provider="mistral")
    client.close()


def test_invalid_policy_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="max_risk_score"):
        CompliancePolicy(name="bad", max_risk_score=2.0)
    with pytest.raises(ConfigurationError):
        SentinelClient(compliance_policies=[42], audit=False)  # type: ignore[list-item]


def test_deepsentinel_config_names_a_file_the_client_loads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """DEEPSENTINEL_CONFIG points a bare client at a config file; explicit arguments still win."""
    f = tmp_path / "ds.yaml"
    f.write_text("openai_base_url: http://file.invalid/v1\ndefault_provider: anthropic\n")
    monkeypatch.setenv("DEEPSENTINEL_CONFIG", str(f))
    client = SentinelClient(audit=False)
    assert client.config.openai_base_url == "http://file.invalid/v1" and client.config.default_provider == "anthropic"
    assert SentinelClient(base_url="http://arg.invalid/v1", audit=False).config.openai_base_url == "http://arg.invalid/v1"
