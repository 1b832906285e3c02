"""The providers a client can reach, built from its configuration, and the choice of where a call goes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from deepsentinel.config import SentinelConfig
from deepsentinel.errors import ConfigurationError, ValidationError
from deepsentinel.providers.base import ChatAdapter
from deepsentinel.providers.openai import DEFAULT_BASE_URL as OPENAI_URL
from deepsentinel.providers.openai import OpenAIAdapter


@dataclass(frozen=True)
class Target:
    """A provider and the model to ask there."""

    provider: str
    model: str

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}"


def infer_provider(model: str) -> str | None:
    """The provider a model name belongs to, when the name says so."""
    name = model.lower()
    if name.startswith("claude"):
        return "anthropic"
    if name.startswith(("gpt-", "gpt4", "o1", "o3", "o4", "chatgpt-", "text-embedding-", "davinci", "babbage")):
        return "openai"
    return None


class ProviderRegistry:
    """Adapters by name, plus routing: explicit provider, then model aliases, then the model's name."""

    def __init__(self, config: SentinelConfig) -> None:
        self.config = config
        self._adapters: dict[str, ChatAdapter] = {}
        self._retries: dict[str, int | None] = {}
        self._aliases: dict[str, dict[str, str]] = {}
        openai_key = config.openai_api_key.get_secret_value() if config.openai_api_key else None
        if openai_key or config.openai_base_url:
            self._adapters["openai"] = OpenAIAdapter(openai_key, config.openai_base_url or OPENAI_URL)
        anthropic_key = config.anthropic_api_key.get_secret_value() if config.anthropic_api_key else None
        if anthropic_key or config.anthropic_base_url:
            from deepsentinel.providers.anthropic import DEFAULT_BASE_URL as ANTHROPIC_URL
            from deepsentinel.providers.anthropic import AnthropicAdapter

            self._adapters["anthropic"] = AnthropicAdapter(anthropic_key, config.anthropic_base_url or ANTHROPIC_URL)
        for p in config.providers:
            if p.kind == "anthropic":
                from deepsentinel.providers.anthropic import DEFAULT_BASE_URL as ANTHROPIC_URL
                from deepsentinel.providers.anthropic import AnthropicAdapter

                self._adapters[p.name] = AnthropicAdapter(p.key(), p.base_url or ANTHROPIC_URL, name=p.name,
                                                          headers=p.headers)
            else:
                if not p.base_url and p.name != "openai":
                    raise ConfigurationError(f"provider {p.name!r} needs a base_url")
                self._adapters[p.name] = OpenAIAdapter(p.key(), p.base_url or OPENAI_URL, name=p.name,
                                                       headers=p.headers, api_version=p.api_version)
            self._retries[p.name] = p.max_retries
            self._aliases[p.name] = dict(p.model_aliases)

    @property
    def names(self) -> list[str]:
        return list(self._adapters)

    def adapter(self, name: str) -> ChatAdapter:
        try:
            return self._adapters[name]
        except KeyError:
            raise self._missing(name) from None

    def max_retries(self, name: str) -> int | None:
        return self._retries.get(name)

    def _missing(self, name: str) -> ConfigurationError:
        hint = {
            "openai": "pass openai_api_key= or set OPENAI_API_KEY",
            "anthropic": "pass anthropic_api_key= or set ANTHROPIC_API_KEY",
        }.get(name, "add it to SentinelConfig(providers=[ProviderConfig(name=..., base_url=...)])")
        configured = ", ".join(self.names) or "none"
        return ConfigurationError(f"provider {name!r} is not configured ({hint}); configured providers: {configured}")

    def resolve(self, model: str, provider: str | None = None) -> Target:
        """Where one model goes: explicit provider, a provider's alias for it, its name, or the default."""
        if provider is not None:
            if not isinstance(provider, str):
                raise ValidationError("provider must be a string")
            self.adapter(provider)
            return Target(provider, self._aliases.get(provider, {}).get(model, model))
        if "/" in model:
            head, _, rest = model.partition("/")
            if head in self._adapters:
                return Target(head, self._aliases.get(head, {}).get(rest, rest))
        for name, aliases in self._aliases.items():
            if model in aliases:
                return Target(name, aliases[model])
        name = infer_provider(model) or self.config.default_provider
        self.adapter(name)
        return Target(name, model)

    def select(self, model: str, provider: str | None = None, fallbacks: Sequence[str] | None = None) -> list[Target]:
        """The ordered targets for a call: the primary, then each fallback (``"provider/model"`` or a model)."""
        targets = [self.resolve(model, provider)]
        for spec in fallbacks if fallbacks is not None else self.config.fallbacks:
            if not isinstance(spec, str) or not spec:
                raise ValidationError("fallbacks must be a list of 'provider/model' strings")
            t = self.resolve(spec)
            if t not in targets:
                targets.append(t)
        return targets
