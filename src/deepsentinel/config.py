"""Configuration: small validated value objects, loadable from code, the environment or a file.

Precedence for every setting: explicit argument > config object > environment (``DEEPSENTINEL_*`` and the
providers' own ``OPENAI_*`` / ``ANTHROPIC_*``) > default. The environment is read only when a client or a
config is built, never at import.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from deepsentinel.errors import ConfigurationError
from deepsentinel.policy.policy import CompliancePolicy

ProviderKind = Literal["openai", "anthropic"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            # ``from None``: pydantic's own message quotes the rejected input, which may be a key.
            raise ConfigurationError(f"invalid {type(self).__name__}: {_summarise(exc)}") from None


class PerformanceConfig(_Model):
    """HTTP pool, timeouts and retries for provider calls.

    The clients take only the fields that were set: a timeout or pool setting left out is the official SDK's
    default (connect 5 s, read, write and pool 600 s; 1,000 connections, 100 kept alive), as on the raw client.
    The defaults below are the gateway's, which has no SDK of its own.
    """

    connection_pool_size: int = Field(default=100, ge=1)
    connection_timeout: float = Field(default=10.0, gt=0)
    read_timeout: float = Field(default=600.0, gt=0)  # as the official SDKs: long answers and streams are normal
    write_timeout: float = Field(default=30.0, gt=0)
    pool_timeout: float = Field(default=10.0, gt=0)
    keep_alive: bool = True
    keepalive_expiry: float = Field(default=30.0, ge=0)
    max_retries: int = Field(default=2, ge=0, le=10)
    retry_backoff: float = Field(default=0.5, ge=0)
    retry_backoff_max: float = Field(default=8.0, ge=0)


class ProviderConfig(_Model):
    """One provider endpoint. ``kind="openai"`` covers any OpenAI-compatible server (vLLM, Ollama, Azure)."""

    name: str
    kind: ProviderKind = "openai"
    api_key: SecretStr | None = None
    base_url: str | None = None
    timeout: float | None = Field(default=None, gt=0)
    max_retries: int | None = Field(default=None, ge=0, le=10)
    headers: dict[str, str] = Field(default_factory=dict, repr=False)
    model_aliases: dict[str, str] = Field(default_factory=dict)
    api_version: str | None = None  # Azure-style endpoints

    def key(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key else None


class SentinelConfig(_Model):
    """Everything a client needs. Keys are ``SecretStr``: they never show in a repr or a log."""

    sentinel_api_key: SecretStr | None = None
    openai_api_key: SecretStr | None = None
    anthropic_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    anthropic_base_url: str | None = None
    default_provider: str = "openai"
    providers: tuple[ProviderConfig, ...] = ()
    fallbacks: tuple[str, ...] = ()
    compliance_policies: tuple[CompliancePolicy, ...] = ()
    performance_config: PerformanceConfig = Field(default_factory=PerformanceConfig)
    audit: bool | str = True
    audit_key: SecretStr | None = None
    audit_url: SecretStr | None = None  # postgresql://... : the shared audit store (may carry a password)
    audit_durable: bool = False  # record() returns only once the event is committed
    store_anonymized_text: bool = False
    deanonymize_responses: bool = False

    @field_validator("providers", mode="before")
    @classmethod
    def _providers(cls, v: Any) -> Any:
        if isinstance(v, Mapping):  # {"ollama": {...}} in a file reads better than a list
            return tuple({"name": k, **dict(p)} for k, p in v.items())
        return v

    @field_validator("openai_base_url", "anthropic_base_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> SentinelConfig:
        """Build from ``DEEPSENTINEL_*``, ``OPENAI_*`` and ``ANTHROPIC_*`` variables, then ``overrides``."""
        return cls(**{**env_settings(os.environ if environ is None else environ), **overrides})

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **overrides: Any) -> SentinelConfig:
        """Load ``deepsentinel.yaml``/``.yml`` or ``.json``; unknown keys are errors, not silently ignored."""
        p = Path(path)
        try:
            raw = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"cannot read config file {p}: {exc.strerror}") from exc
        try:
            data = json.loads(raw) if p.suffix == ".json" else yaml.safe_load(raw)
        except (ValueError, yaml.YAMLError) as exc:
            # Position only: a YAML error quotes the offending line, which may hold a key.
            raise ConfigurationError(f"config file {p} is not valid {p.suffix.lstrip('.') or 'YAML'}: {_where(exc)}") from None
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ConfigurationError(f"config file {p} must hold a mapping at the top level")
        return cls(**{**dict(data), **overrides})

    def provider(self, name: str) -> ProviderConfig | None:
        return next((p for p in self.providers if p.name == name), None)


_ENV_KEYS = {
    "DEEPSENTINEL_API_KEY": "sentinel_api_key",
    "OPENAI_API_KEY": "openai_api_key",
    "ANTHROPIC_API_KEY": "anthropic_api_key",
    "OPENAI_BASE_URL": "openai_base_url",
    "ANTHROPIC_BASE_URL": "anthropic_base_url",
    "DEEPSENTINEL_DEFAULT_PROVIDER": "default_provider",
    "DEEPSENTINEL_AUDIT": "audit",
    "DEEPSENTINEL_AUDIT_KEY": "audit_key",
    "DEEPSENTINEL_AUDIT_URL": "audit_url",
    "DEEPSENTINEL_AUDIT_DURABLE": "audit_durable",
}
_PERF_ENV = {
    "DEEPSENTINEL_CONNECTION_POOL_SIZE": "connection_pool_size",
    "DEEPSENTINEL_CONNECTION_TIMEOUT": "connection_timeout",
    "DEEPSENTINEL_READ_TIMEOUT": "read_timeout",
    "DEEPSENTINEL_MAX_RETRIES": "max_retries",
    "DEEPSENTINEL_RETRY_BACKOFF": "retry_backoff",
    "DEEPSENTINEL_RETRY_BACKOFF_MAX": "retry_backoff_max",
}


def env_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings the environment provides (empty values count as unset)."""
    out: dict[str, Any] = {}
    for var, field in _ENV_KEYS.items():
        if environ.get(var):
            out[field] = environ[var]
    if out.get("audit") is not None:
        value = str(out["audit"]).lower()
        out["audit"] = False if value in ("0", "false", "no", "off") else True if value in ("1", "true", "yes", "on") else out["audit"]
    perf: dict[str, Any] = {field: environ[var] for var, field in _PERF_ENV.items() if environ.get(var)}
    if perf:
        out["performance_config"] = PerformanceConfig(**perf)
    return out


def _where(exc: Exception) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"{exc.problem or 'syntax error'} at line {mark.line + 1}, column {mark.column + 1}"
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    return type(exc).__name__


def _summarise(exc: pydantic.ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())


__all__ = ["PerformanceConfig", "ProviderConfig", "ProviderKind", "SentinelConfig", "env_settings"]
