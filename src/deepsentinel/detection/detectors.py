"""Upstream-style entry points: engines restricted to one regulatory family.

``PIIDetector``, ``PHIDetector`` and ``PCIDetector`` are :class:`DetectionEngine` s over part of the catalog, for
callers who only care about one family (and want the speed of a smaller prefilter set).

>>> PCIDetector().scan("card 4111 1111 1111 1111").types()  # deepsentinel: allow
['CREDIT_CARD']
"""

from __future__ import annotations

from typing import Any

from deepsentinel.detection.engine import DetectionEngine
from deepsentinel.detection.findings import Category
from deepsentinel.detection.recognizers import BUILTIN_RECOGNIZERS

__all__ = ["PCIDetector", "PHIDetector", "PIIDetector", "SecretDetector"]


def _of(category: Category) -> tuple[Any, ...]:
    return tuple(r for r in BUILTIN_RECOGNIZERS if r.category is category)


class PIIDetector(DetectionEngine):
    """Personal data: contact details, government and bank identifiers (and PERSON when spaCy is installed)."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("names", None)
        super().__init__(_of(Category.PII), **options)


class PHIDetector(DetectionEngine):
    """Health data: medical record numbers, health plan IDs, NPI and DEA numbers, dates of birth."""

    def __init__(self, **options: Any) -> None:
        dob = tuple(r for r in BUILTIN_RECOGNIZERS if r.entity == "DATE_OF_BIRTH")
        super().__init__(_of(Category.PHI) + dob, **options)


class PCIDetector(DetectionEngine):
    """Payment card data: card numbers, CVV, expiry dates."""

    def __init__(self, **options: Any) -> None:
        super().__init__(_of(Category.PCI), **options)


class SecretDetector(DetectionEngine):
    """Credentials: vendor tokens, private keys, JWTs, passwords."""

    def __init__(self, **options: Any) -> None:
        super().__init__(_of(Category.SECRET), **options)
