"""The fake server's own tests use the fixture exactly as documented for users."""

from __future__ import annotations

from deepsentinel.testing.pytest_plugin import fake_server  # noqa: F401
