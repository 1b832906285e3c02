"""Review of the SDK client path: regressions for defects found by trying to break it."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from deepsentinel.detection.vault import PlaceholderBook, Vault


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Switch threads as often as the interpreter allows, so a race shows up in a few thousand steps."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


@pytest.mark.usefixtures("fast_switching")
@pytest.mark.parametrize("book", [PlaceholderBook(), Vault().book], ids=["book", "vault"])
def test_placeholder_numbers_are_unique_across_threads(book: PlaceholderBook) -> None:
    """Two values never share a placeholder, even from threads of one client (a vault would restore the wrong one)."""
    tokens: dict[str, str] = {}

    def assign(worker: int) -> None:
        for j in range(1500):
            value = f"user{worker}-{j}@example.com"
            tokens[value] = book.assign("EMAIL", value)

    threads = [threading.Thread(target=assign, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(tokens.values())) == len(tokens) == 8 * 1500
