"""``deepsentinel serve``: the SDK's wire guard as an HTTP gateway for clients in any language.

Point any OpenAI or Anthropic client at it (``base_url=http://HOST:PORT/v1``, or ``http://HOST:PORT`` for
Anthropic) with a gateway client key; the provider keys stay in the gateway. See ``docs/gateway.md``.

The names below load on first use: the server needs the ``gateway`` extra (uvicorn, aiohttp), while the command
line imports this package for ``deepsentinel keys`` and ``--help`` on an install without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deepsentinel.gateway.app import Gateway, GatewaySettings
    from deepsentinel.gateway.server import create_app, serve

__all__ = ["Gateway", "GatewaySettings", "create_app", "serve"]


def __getattr__(name: str) -> Any:
    if name in ("Gateway", "GatewaySettings"):
        from deepsentinel.gateway import app

        return getattr(app, name)
    if name in ("create_app", "serve"):
        from deepsentinel.gateway import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
