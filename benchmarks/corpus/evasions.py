"""Disguises used by the evasion split: the value stays readable to a person (or a model) but not to a naive
regex. Each function maps (rng, value) to the disguised value; the label spans the whole disguised value."""

from __future__ import annotations

import random
from collections.abc import Callable

ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad")
FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}
CYRILLIC = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "c": "\u0441", "p": "\u0440", "x": "\u0445",
            "y": "\u0443", "i": "\u0456"}


def full_width(rng: random.Random, value: str) -> str:
    return "".join(FULL_WIDTH.get(ch, ch) for ch in value)


def zero_width(rng: random.Random, value: str) -> str:
    out = []
    for i, ch in enumerate(value):
        out.append(ch)
        if i < len(value) - 1 and rng.random() < 0.35:
            out.append(rng.choice(ZERO_WIDTH))
    return "".join(out)


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def spaced_digits(rng: random.Random, value: str) -> str:
    return " ".join(_digits(value))


def dotted_groups(rng: random.Random, value: str) -> str:
    return ".".join(value.replace("-", " ").split())


def line_broken(rng: random.Random, value: str) -> str:
    return "\n".join(value.replace("-", " ").split())


def dashes(rng: random.Random, value: str) -> str:
    return rng.choice(["\u2013", "\u2014", "\u2212"]).join(value.replace("-", " ").split())


def nbsp(rng: random.Random, value: str) -> str:
    return "\u00a0".join(value.replace("-", " ").split())


def homoglyphs(rng: random.Random, value: str) -> str:
    return "".join(CYRILLIC[ch] if ch in CYRILLIC and rng.random() < 0.5 else ch for ch in value)


def spelled_at(rng: random.Random, value: str) -> str:
    local, domain = value.split("@")
    at, dot = rng.choice([(" at ", " dot "), (" [at] ", " [dot] "), ("(at)", "(dot)"), (" AT ", " DOT ")])
    return local + at + dot.join(domain.split("."))


def full_width_at(rng: random.Random, value: str) -> str:
    return value.replace("@", "\uff20").replace(".", rng.choice([".", "\uff0e"]))


def _one_of(*disguises: Callable[[random.Random, str], str]) -> Callable[[random.Random, str], str]:
    def pick(rng: random.Random, value: str) -> str:
        return rng.choice(disguises)(rng, value)
    return pick


_NUMBER = _one_of(full_width, zero_width, spaced_digits, dotted_groups, line_broken, dashes, nbsp)
EVASIONS: dict[str, Callable[[random.Random, str], str]] = {
    "CREDIT_CARD": _NUMBER,
    "US_SSN": _one_of(full_width, zero_width, dashes, nbsp, dotted_groups),
    "US_ITIN": _one_of(full_width, zero_width, dashes),
    "PHONE_NUMBER": _one_of(full_width, zero_width, nbsp),
    "EMAIL_ADDRESS": _one_of(homoglyphs, spelled_at, full_width_at, zero_width),
    "IBAN_CODE": _one_of(full_width, zero_width, nbsp),
    "UK_NINO": _one_of(full_width, zero_width),
    "AWS_ACCESS_KEY": _one_of(full_width, zero_width),
    "GITHUB_TOKEN": _one_of(full_width, zero_width),
}
