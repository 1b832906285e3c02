"""``deepsentinel serve``: the SDK's wire guard as an HTTP gateway for clients in any language.

Point any OpenAI or Anthropic client at it (``base_url=http://HOST:PORT/v1``, or ``http://HOST:PORT`` for
Anthropic) with a gateway client key; the provider keys stay in the gateway. See ``docs/gateway.md``.
"""

from __future__ import annotations

from deepsentinel.gateway.app import Gateway, GatewaySettings
from deepsentinel.gateway.server import create_app, serve

__all__ = ["Gateway", "GatewaySettings", "create_app", "serve"]
