"""The ``fake_server`` pytest fixture. Import it into a conftest.py::

    from deepsentinel.testing.pytest_plugin import fake_server  # noqa: F401

This is the only module of the package that imports pytest.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deepsentinel.testing.server import FakeLLMServer


@pytest.fixture
def fake_server() -> Iterator[FakeLLMServer]:
    """A started :class:`FakeLLMServer` for one test, stopped afterwards."""
    with FakeLLMServer() as server:
        yield server
