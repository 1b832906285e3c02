"""Hard negatives: text that looks like sensitive data and is not. None of it may be flagged."""

from __future__ import annotations

import hashlib
import random
import uuid

from faker import Faker

from deepsentinel.detection.validators import luhn_valid


def _luhn_invalid(rng: random.Random, prefix: str, length: int) -> str:
    while True:
        number = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix)))
        if not luhn_valid(number):
            return number


def _luhn_valid(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return next(body + c for c in "0123456789" if luhn_valid(body + c))


def _groups(number: str, sep: str = " ") -> str:
    return sep.join(number[i:i + 4] for i in range(0, len(number), 4))


def _isbn13(rng: random.Random) -> str:
    body = "978" + "".join(rng.choice("0123456789") for _ in range(9))
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body)) % 10) % 10
    d = body + str(check)
    return f"{d[:3]}-{d[3]}-{d[4:8]}-{d[8:12]}-{d[12]}"


def hard_negative_sentences(rng: random.Random, fake: Faker, n: int) -> list[str]:
    makers = [
        lambda: f"The card number {_groups(_luhn_invalid(rng, '4', 16))} was rejected as invalid.",
        lambda: f"Order #{_luhn_valid(rng, '4', 16)} shipped today.",
        lambda: f"Your order number is {_luhn_invalid(rng, '5', 16)}.",
        lambda: f"Tracking number {_luhn_valid(rng, '5', 16)} is in transit.",
        lambda: f"Invoice {''.join(rng.choice('0123456789') for _ in range(16))} is overdue.",
        lambda: f"SSN field contained {rng.choice(['000', '666'])}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}, rejected.",
        lambda: f"Test value 9{rng.randint(10, 99)}-{rng.choice([0, 10, 20, 30, 40, 66, 89, 93])}:02d-{rng.randint(1000, 9999)} is not a valid SSN.".replace(":02d", ""),
        lambda: f"request id {uuid.UUID(int=rng.getrandbits(128))} completed",
        lambda: f"{fake.date_time_this_decade().isoformat()}Z build finished in {rng.randint(2, 99)}s",
        lambda: f"Upgraded to version {rng.randint(1, 12)}.{rng.randint(0, 20)}.{rng.randint(0, 50)}.{rng.randint(0, 300)}",
        lambda: f"Released v{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 30)} yesterday.",
        lambda: f"ISBN {_isbn13(rng)} is out of print.",
        lambda: f"The meeting is on {fake.date(pattern='%m/%d/%Y')} at {rng.randint(1, 12)}pm.",
        lambda: f"Deadline: {fake.date()}.",
        lambda: f"commit {hashlib.sha1(rng.randbytes(8)).hexdigest()} fixed the bug",
        lambda: f"sha256 {hashlib.sha256(rng.randbytes(8)).hexdigest()}",
        lambda: "password: ********",
        lambda: "api_key = os.environ['OPENAI_API_KEY']",
        lambda: "Please reset your password using the link we sent.",
        lambda: f"The token budget is {rng.randint(1000, 200000)} per request.",
        lambda: f"Total due ${rng.randint(10, 9999)}.{rng.randint(10, 99)}, paid by check {rng.randint(100, 9999)}.",
        lambda: f"Call extension {rng.randint(100, 999)} for support.",
        lambda: f"Room {rng.randint(100, 999)}, building {rng.randint(1, 40)}.",
        lambda: f"Patient was seen on {fake.date(pattern='%m/%d/%Y')} for a follow-up.",
        lambda: f"Part number {rng.choice('ABCDEFG')}{rng.randint(100000, 999999)}-{rng.randint(10, 99)} is back in stock.",
        lambda: f"Coordinates {rng.uniform(-90, 90):.5f}, {rng.uniform(-180, 180):.5f}",
        lambda: f"The secret to good bread is {fake.word()}.",
        lambda: f"Serial {_luhn_valid(rng, '37', 15)} registered.",
        lambda: f"Latency p99 was {rng.randint(100, 999)}.{rng.randint(0, 9)} ms at {rng.randint(1000, 99999)} rps.",
        lambda: fake.sentence(),
    ]
    return [rng.choice(makers)() for _ in range(n)]
