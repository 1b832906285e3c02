"""Which provider serves a call, and which to try next when it fails. Pure: no I/O, no client classes.

Selection, in order: an explicit ``provider=``; a model alias one provider declares; the provider inferred from
the model name (``claude-*`` to Anthropic, ``gpt-*``/``o1``... to OpenAI); ``default_provider``; the only
provider when just one is configured. Fallback targets (per call, else per router) follow the primary; a
``HealthTracker`` drops providers that are cooling down. The wire exchange (``wire/exchange.py``) tries
the targets in order and moves on after a rate limit, overload, 5xx or connection failure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from deepsentinel.errors import (
    ConfigurationError,
    ValidationError,
)
from deepsentinel.providers.anthropic import AnthropicAdapter
from deepsentinel.providers.health import HealthTracker
from deepsentinel.providers.openai import OpenAIAdapter

ProviderKind = Literal["openai", "anthropic"]
# Both implement base.ChatAdapter; named concretely because frozen dataclasses expose ``name`` read-only.
Adapter = OpenAIAdapter | AnthropicAdapter

_OPENAI_MODEL = re.compile(
    r"^(gpt-|chatgpt-|o\d|text-embedding-|dall-e|whisper|tts|omni-moderation|text-moderation|ft:gpt-|ft:o\d)"
)
_ANTHROPIC_MODEL = re.compile(r"^claude-")
# The built-in providers take their keys from client arguments or the environment.
_KEY_HINTS = {
    "openai": "pass openai_api_key= or set OPENAI_API_KEY",
    "anthropic": "pass anthropic_api_key= or set ANTHROPIC_API_KEY",
}


def infer_provider(model: str) -> ProviderKind | None:
    """The provider kind a model name belongs to, or None when the name does not say."""
    name = model.strip().lower()
    if _ANTHROPIC_MODEL.match(name):
        return "anthropic"
    if _OPENAI_MODEL.match(name):
        return "openai"
    return None


@dataclass(frozen=True)
class Target:
    """One provider and the model to ask it for: a step in the fallback order."""

    provider: str
    model: str

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}"


TargetSpec = Target | str  # "provider/model", or a bare model routed like the primary


@dataclass(frozen=True)
class ProviderEntry:
    """A configured provider. ``kind`` picks the wire format; an OpenAI-compatible server is ``kind="openai"``.

    ``requires_key`` defaults to True for the official endpoints (no ``base_url``) and False for a custom
    ``base_url`` (a local Ollama or vLLM needs none).
    """

    name: str
    kind: ProviderKind = "openai"
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    model_aliases: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    timeout: float | None = None
    max_retries: int | None = None
    requires_key: bool | None = None
    api_version: str | None = None  # Azure-style OpenAI endpoints

    @property
    def needs_key(self) -> bool:
        """Whether a call to this provider without ``api_key`` is a configuration error."""
        return self.requires_key if self.requires_key is not None else self.base_url is None

    def resolve(self, model: str) -> str:
        """The provider's model name for ``model`` (an alias, or the name itself)."""
        return self.model_aliases.get(model, model)

    def adapter(self) -> Adapter:
        """The wire-format adapter for this provider."""
        if self.kind == "anthropic":
            if self.base_url:
                return AnthropicAdapter(
                    self.api_key, self.base_url, name=self.name, headers=self.headers, timeout=self.timeout
                )
            return AnthropicAdapter(self.api_key, name=self.name, headers=self.headers, timeout=self.timeout)
        if self.base_url:
            return OpenAIAdapter(
                self.api_key, self.base_url, name=self.name, headers=self.headers, api_version=self.api_version,
                timeout=self.timeout,
            )
        return OpenAIAdapter(
            self.api_key, name=self.name, headers=self.headers, api_version=self.api_version, timeout=self.timeout
        )


_PRIMARIES_MAX = 256


class Router:
    """Chooses the ordered targets for a call from the configured providers. Immutable after construction."""

    def __init__(
        self,
        providers: Mapping[str, ProviderEntry] | Sequence[ProviderEntry],
        default_provider: str | None = None,
        fallbacks: Sequence[TargetSpec] = (),
        health: HealthTracker | None = None,
    ) -> None:
        entries = list(providers.values()) if isinstance(providers, Mapping) else list(providers)
        self._providers: dict[str, ProviderEntry] = {e.name: e for e in entries}
        if len(self._providers) != len(entries):
            raise ConfigurationError("provider names must be unique")
        if not self._providers:
            raise ConfigurationError("no provider is configured")
        if default_provider is not None:
            self._entry(default_provider)
        self.default_provider = default_provider
        self.health = health
        self._adapters = {name: entry.adapter() for name, entry in self._providers.items()}
        self.fallbacks = tuple(self._target(spec) for spec in fallbacks)  # fail at start-up, not mid-outage
        self._primaries: dict[str, Target] = {}  # by model: every call asks, and the answer never changes

    @property
    def providers(self) -> Mapping[str, ProviderEntry]:
        """The configured providers by name, in configuration order."""
        return dict(self._providers)

    def adapter(self, provider: str) -> Adapter:
        """The adapter for a configured provider."""
        self._entry(provider)
        return self._adapters[provider]

    def select(
        self, model: str, provider: str | None = None, fallbacks: Sequence[TargetSpec] | None = None
    ) -> list[Target]:
        """The targets to try, in order, for one call. Never empty.

        ``fallbacks`` replaces the router's own list for this call (pass ``[]`` for none). Raises
        ``ConfigurationError`` for an unknown provider or a provider without its key.
        """
        if not model or not model.strip():
            raise ValidationError("model is required")
        if fallbacks is not None and (
            isinstance(fallbacks, str)  # a bare string would be tried one character at a time
            or not isinstance(fallbacks, Sequence)
            or not all(isinstance(f, (str, Target)) for f in fallbacks)
        ):
            raise ValidationError("fallbacks must be a list of 'provider/model' strings or Targets")
        primary = self._primary(model, provider)
        extra = self.fallbacks if fallbacks is None else tuple(self._target(spec) for spec in fallbacks)
        targets: list[Target] = []
        for target in (primary, *extra):
            if target not in targets:
                self._check_key(target.provider)
                targets.append(target)
        return self.health.filter(targets) if self.health else targets

    def primary(self, model: str) -> Target:
        """Where ``model`` goes when the call names no provider (aliases, the model's family, the default)."""
        found = self._primaries.get(model)
        if found is None:
            found = self._primary(model, None)
            if len(self._primaries) < _PRIMARIES_MAX:  # model names come from callers: bounded
                self._primaries[model] = found
        return found

    def check_key(self, name: str) -> None:
        """Raise ``ConfigurationError`` naming the fix when provider ``name`` needs a key it does not have."""
        self._check_key(name)

    def has_key(self, name: str) -> bool:
        """Whether provider ``name`` is configured with the key it needs (or needs none)."""
        entry = self._providers.get(name)
        return entry is not None and (not entry.needs_key or bool(entry.api_key))

    def missing_key(self, name: str) -> ConfigurationError:
        """The error that says provider ``name`` has no key, and how to give it one."""
        hint = _KEY_HINTS.get(name, "set api_key in its ProviderConfig")
        return ConfigurationError(f"provider {name!r} has no API key: {hint} (configured providers: {self._names()})")

    def _primary(self, model: str, provider: str | None) -> Target:
        if provider is not None:
            return Target(provider, self._entry(provider).resolve(model))
        owners = [e for e in self._providers.values() if model in e.model_aliases]
        if owners:
            entry = next((e for e in owners if e.name == self.default_provider), owners[0])
            return Target(entry.name, entry.resolve(model))
        kind = infer_provider(model)
        if kind is not None:
            entry_or_none = self._for_kind(kind)
            if entry_or_none is not None:
                return Target(entry_or_none.name, model)
        if self.default_provider is not None:
            # a gateway (LiteLLM proxy, OpenRouter) as default can serve models of any family
            return Target(self.default_provider, self._providers[self.default_provider].resolve(model))
        if len(self._providers) == 1:
            only = next(iter(self._providers.values()))
            return Target(only.name, only.resolve(model))
        hint = f"it looks like an {kind} model, but no {kind} provider is configured" if kind else "pass provider="
        raise ConfigurationError(
            f"cannot choose a provider for model {model!r}: {hint}; set default_provider "
            f"(configured providers: {self._names()})"
        )

    def _for_kind(self, kind: ProviderKind) -> ProviderEntry | None:
        if kind in self._providers:
            return self._providers[kind]
        if self.default_provider is not None and self._providers[self.default_provider].kind == kind:
            return self._providers[self.default_provider]
        return next((e for e in self._providers.values() if e.kind == kind), None)

    def _target(self, spec: TargetSpec) -> Target:
        if isinstance(spec, Target):
            return Target(spec.provider, self._entry(spec.provider).resolve(spec.model))
        prefix, slash, rest = spec.partition("/")
        if slash and prefix in self._providers:
            if not rest.strip():
                raise ValidationError(f"fallback {spec!r} names no model after the provider")
            return Target(prefix, self._providers[prefix].resolve(rest))
        if slash and prefix in ("openai", "anthropic"):
            self._entry(prefix)  # names a well-known provider that is not configured: say so
        return self._primary(spec, None)  # a bare model (or an HF-style "org/model") routed like the primary

    def _entry(self, name: str) -> ProviderEntry:
        entry = self._providers.get(name)
        if entry is None:
            raise ConfigurationError(f"unknown provider {name!r} (configured providers: {self._names()})")
        return entry

    def _check_key(self, name: str) -> None:
        entry = self._providers[name]
        if entry.needs_key and not entry.api_key:
            raise self.missing_key(name)

    def _names(self) -> str:
        return ", ".join(self._providers) or "none"
