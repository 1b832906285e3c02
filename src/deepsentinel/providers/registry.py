"""From a ``SentinelConfig`` to a ``Router``: the built-in OpenAI and Anthropic entries plus configured ones."""

from __future__ import annotations

from deepsentinel.config import SentinelConfig
from deepsentinel.providers.health import HealthTracker
from deepsentinel.providers.routing import ProviderEntry, Router


def _secret(value: object) -> str | None:
    get = getattr(value, "get_secret_value", None)
    return get() if get is not None else None


def router_from_config(config: SentinelConfig, health: HealthTracker | None = None) -> Router:
    """Both built-in providers are always known, so a call to one without its key names the missing key.

    ``providers`` entries with the same name replace a built-in one (e.g. ``openai`` with custom headers).
    """
    entries: dict[str, ProviderEntry] = {
        "openai": ProviderEntry("openai", "openai", _secret(config.openai_api_key), config.openai_base_url),
        "anthropic": ProviderEntry(
            "anthropic", "anthropic", _secret(config.anthropic_api_key), config.anthropic_base_url
        ),
    }
    for p in config.providers:
        entries[p.name] = ProviderEntry(
            name=p.name,
            kind=p.kind,
            api_key=p.key(),
            base_url=p.base_url,
            model_aliases=dict(p.model_aliases),
            headers=dict(p.headers),
            timeout=p.timeout,
            max_retries=p.max_retries,
            api_version=p.api_version,
        )
    return Router(
        entries,
        default_provider=config.default_provider,
        fallbacks=config.fallbacks,
        health=health if health is not None else HealthTracker(),
    )
