"""StreamGuard: streamed output equals whole-text anonymization, never leaks, and holds bounded text."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepsentinel.detection.anonymizer import Anonymizer
from deepsentinel.detection.engine import DetectionEngine
from deepsentinel.detection.findings import Category
from deepsentinel.guard.stream_guard import StreamGuard
from deepsentinel.policy.actions import Action
from deepsentinel.policy.policy import DEFAULT_POLICY, CompliancePolicy, evaluate_policies

ENGINE = DetectionEngine()
LOCATION = "choices[0].delta.content"
KEY = b"test-key" * 4
ALL = list(Category)


def policy(name: str = "p", strategy: str = "placeholder", **actions: Action) -> CompliancePolicy:
    """A policy with an explicit action per category (so no text-level escalation is involved)."""
    chosen = {c: actions.get(c.name, Action.ANONYMIZE) for c in ALL}
    return CompliancePolicy(name=name, category_actions=chosen, anonymization_strategy=strategy)  # type: ignore[arg-type]


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def card(rng: random.Random, sep: str) -> str:
    body = "4" + "".join(rng.choice("0123456789") for _ in range(14))
    check = next(d for d in "0123456789" if luhn_valid(body + d))
    digits = body + check
    return sep.join(digits[i : i + 4] for i in range(0, 16, 4))


def ssn(rng: random.Random) -> str:
    return f"{rng.randint(1, 665):03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def email(rng: random.Random) -> str:
    local = "".join(rng.choice("abcdefghij") for _ in range(rng.randint(1, 8)))
    return f"{local}.{rng.choice(['x', 'yz'])}@{rng.choice(['example', 'mail'])}.{rng.choice(['com', 'org'])}"


def secret(rng: random.Random) -> str:
    alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    if rng.random() < 0.5:
        return "ghp_" + "".join(rng.choice(alnum) for _ in range(36))
    return "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))


FULL_WIDTH = {str(i): chr(0xFF10 + i) for i in range(10)}


def evasive(rng: random.Random, value: str) -> str:
    """The value disguised: zero-width spaces, full-width digits, no-break spaces or en dashes."""
    mode = rng.choice(["zero-width", "full-width", "nbsp", "en-dash"])
    if mode == "zero-width":
        return "\u200b".join(value)
    if mode == "full-width":
        return "".join(FULL_WIDTH.get(c, c) for c in value)
    if mode == "nbsp":
        return value.replace(" ", "\u00a0")
    return value.replace("-", "\u2013")


WORDS = ["the", "hello", "shipped", "today,", "please", "confirm.", "Thanks!", "card", "SSN", "mail", "key:", "(ok)"]


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, list[str]]:
    """Prose with embedded entities; returns the text and the raw values that must never be shown."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    parts: list[str] = []
    values: list[str] = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["word", "word", "word", "card", "ssn", "email", "secret", "evasive"]))
        if kind == "word":
            parts.append(rng.choice(WORDS))
            continue
        value = {"card": lambda: card(rng, rng.choice([" ", "-", ""])), "ssn": lambda: ssn(rng),
                 "email": lambda: email(rng), "secret": lambda: secret(rng),
                 "evasive": lambda: evasive(rng, rng.choice([card(rng, " "), ssn(rng), email(rng)]))}[kind]()
        parts.append(rng.choice(WORDS))  # a word between values: adjacent values are the engine tests' business
        parts.append(value)
        values.append(value)
    text = "".join(p + draw(st.sampled_from([" ", " ", ", ", "\n", ". "])) for p in parts)
    return text, values


splits = st.lists(st.integers(min_value=1, max_value=10), min_size=1, max_size=30)


def stream(guard: StreamGuard, text: str, sizes: list[int]) -> tuple[list[str], bool]:
    """Feed ``text`` in pieces of the given sizes (cycled); return the released pieces and whether it blocked."""
    pieces: list[str] = []
    pos, i = 0, 0
    while pos < len(text):
        size = sizes[i % len(sizes)]
        result = guard.feed(text[pos : pos + size])
        pieces.append(result.text)
        if result.blocked:
            return pieces, True
        pos, i = pos + size, i + 1
    result = guard.flush()
    pieces.append(result.text)
    return pieces, result.blocked


def detected(text: str, values: list[str]) -> list[str]:
    """The embedded values the whole-text scan finds (whether the engine finds them is the engine's tests' job)."""
    found = [text[f.start : f.end] for f in ENGINE.scan(text).findings]
    hits = [v for v in values if any(v in f for f in found)]
    assert len(hits) >= len(values) // 2, "the generator should mostly produce detectable values"
    return hits


def reference(text: str, policies: list[CompliancePolicy], anonymizer: Anonymizer) -> str:
    """Non-streaming: scan the whole text, evaluate, cut at the first block, anonymize."""
    decision = evaluate_policies(policies, ENGINE.scan(text), LOCATION)
    block = next((v.start for v in decision.violations if v.action is Action.BLOCK), len(text))
    spans = [v for v in decision.violations if v.action is Action.ANONYMIZE and v.end <= block]
    return anonymizer.anonymize(text[:block], spans).text


@pytest.mark.parametrize("strategy", ["placeholder", "mask", "redact", "hash"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents(), sizes=splits)
def test_streamed_anonymization_equals_whole_text_and_never_leaks(
    strategy: str, doc: tuple[str, list[str]], sizes: list[int]
) -> None:
    """Any split, any strategy: released text == whole-text anonymization, with no raw value in it."""
    text, values = doc
    policies = [policy(strategy=strategy)]
    guard = StreamGuard(ENGINE, policies, anonymizer=Anonymizer(strategy, key=KEY))  # type: ignore[arg-type]
    pieces, blocked = stream(guard, text, sizes)
    output = "".join(pieces)
    assert not blocked
    assert output == reference(text, policies, Anonymizer(strategy, key=KEY))  # type: ignore[arg-type]
    for value in detected(text, values):
        assert value not in output


@settings(max_examples=120, deadline=None)
@given(doc=documents(), sizes=splits)
def test_block_releases_only_the_safe_prefix(doc: tuple[str, list[str]], sizes: list[int]) -> None:
    """Payment cards block, the rest is anonymized: the output is the reference prefix, and no value leaks."""
    text, values = doc
    policies = [policy(PCI=Action.BLOCK)]
    guard = StreamGuard(ENGINE, policies, anonymizer=Anonymizer("redact"))
    pieces, blocked = stream(guard, text, sizes)
    output = "".join(pieces)
    assert output == reference(text, policies, Anonymizer("redact"))
    assert blocked == any(v.action is Action.BLOCK for v in evaluate_policies(policies, ENGINE.scan(text)).violations)
    for value in detected(text, values):
        assert value not in output
    if blocked:
        assert guard.feed("more text").text == "" and guard.feed("x").blocked


@settings(max_examples=60, deadline=None)
@given(doc=documents(), sizes=splits)
def test_log_only_lets_everything_through(doc: tuple[str, list[str]], sizes: list[int]) -> None:
    """With LOG actions the text is unchanged and each finding is reported once, at its stream offsets."""
    text, _ = doc
    policies = [policy(**{c.name: Action.LOG for c in ALL})]
    guard = StreamGuard(ENGINE, policies)
    reported = []
    pos, i = 0, 0
    out = []
    while pos < len(text):
        size = sizes[i % len(sizes)]
        result = guard.feed(text[pos : pos + size])
        out.append(result.text)
        reported.extend(result.violations)
        pos, i = pos + size, i + 1
    last = guard.flush()
    out.append(last.text)
    reported.extend(last.violations)
    assert "".join(out) == text
    expected = evaluate_policies(policies, ENGINE.scan(text), LOCATION).violations
    assert [(v.type, v.start, v.end, v.action) for v in reported] == [
        (v.type, v.start, v.end, v.action) for v in expected
    ]


def test_card_split_across_deltas_is_blocked_before_any_digit_shows() -> None:
    """The issue's example: ``4111 11`` + ``11 1111`` + ``1111 1111`` shows no digit, then blocks."""
    guard = StreamGuard(ENGINE, [DEFAULT_POLICY])
    released = [guard.feed(d) for d in ["My card is 4111 11", "11 1111", " 1111 1111", " thanks"]]
    if not guard.blocked:
        released.append(guard.flush())
    shown = "".join(r.text for r in released)
    assert shown == "My card is "
    blocked = [v for r in released for v in r.violations]
    assert guard.blocked
    assert [(v.type, v.start, v.end, v.action) for v in blocked] == [("CREDIT_CARD", 11, 30, Action.BLOCK)]


def test_violation_offsets_count_from_the_stream_start() -> None:
    """A finding late in a long stream reports offsets into the whole stream, not the current buffer."""
    guard = StreamGuard(ENGINE, [policy()])
    prefix = "word " * 500
    for i in range(0, len(prefix), 7):
        guard.feed(prefix[i : i + 7])
    result = guard.feed("mail a@example.com now ")
    found = result.violations or guard.flush().violations
    assert [(v.type, v.start, v.end) for v in found] == [("EMAIL_ADDRESS", 2505, 2518)]
    assert found[0].location == LOCATION


def test_prose_is_released_at_once_except_the_last_word() -> None:
    """Ordinary prose holds back at most the word still being written."""
    guard = StreamGuard(ENGINE, [DEFAULT_POLICY])
    assert guard.feed("Hello there, how are yo").text == "Hello there, how are "
    assert guard.held == 2
    assert guard.feed("u today? ").text == "you today? "


def test_default_policy_strategy_is_used_without_an_anonymizer() -> None:
    """Without an anonymizer, the deciding policy's anonymization_strategy applies."""
    guard = StreamGuard(ENGINE, [policy(strategy="redact")])
    out = guard.feed("write to jane@example.com please ").text + guard.flush().text
    assert out == "write to [EMAIL_ADDRESS] please "


def test_escalation_in_a_stream_is_prospective_and_split_independent() -> None:
    """Many low-risk findings escalate later ones; the result is the same for any split."""
    text = " ".join(f"u{i}@example.com" for i in range(8)) + " end"
    outputs = set()
    for size in (1, 3, 7, len(text)):
        guard = StreamGuard(ENGINE, [DEFAULT_POLICY])
        pieces, blocked = stream(guard, text, [size])
        outputs.add(("".join(pieces), blocked))
    assert len(outputs) == 1
    ((output, blocked),) = outputs
    assert blocked and output.startswith("u0@example.com")  # the first ones were only logged


def test_feed_after_flush_is_an_error() -> None:
    """A finished stream does not silently accept more text."""
    guard = StreamGuard(ENGINE, [DEFAULT_POLICY])
    guard.flush()
    with pytest.raises(ValueError, match="after flush"):
        guard.feed("x")


def test_memory_stays_bounded_on_long_prose_and_digit_streams() -> None:
    """Held text and kept context stay bounded however long the stream runs."""
    guard = StreamGuard(ENGINE, [policy()])
    rng = random.Random(7)
    prose = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 600  # ~35 KB
    worst = 0
    for i in range(0, len(prose), 97):
        guard.feed(prose[i : i + 97])
        worst = max(worst, guard.held)
        assert len(guard._context) <= guard.context_chars
    assert worst <= 97 + 20
    assert len(guard._prior) == 0
    digits = guard_digits = StreamGuard(ENGINE, [policy(**{c.name: Action.LOG for c in ALL})])
    for _ in range(400):
        digits.feed("".join(rng.choice("0123456789 ") for _ in range(50)))
        assert guard_digits.held <= ENGINE.max_entity_length + 50


def test_unterminated_private_key_cannot_grow_the_buffer_forever() -> None:
    """An opened PEM block that never ends is held only up to the hold limit, then released in bounded steps."""
    guard = StreamGuard(ENGINE, [policy()])
    guard.feed("-----BEGIN RSA PRIVATE KEY-----\n")
    released = 0
    for _ in range(500):
        released += len(guard.feed("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo= " * 3).text)
        assert guard.held <= guard.hold_limit + 111
    assert released > 0


def test_policies_that_do_not_check_responses_are_skipped() -> None:
    """With no policy checking responses, text passes at once; echoed vault tokens are still restored."""
    from deepsentinel.detection.vault import Vault

    quiet = CompliancePolicy(name="requests-only", check_responses=False)
    vault = Vault()
    token = Anonymizer("placeholder", vault=vault).replace("jane@example.com", "EMAIL_ADDRESS")
    guard = StreamGuard(ENGINE, [quiet], restore=vault)
    out = [guard.feed(p).text for p in ["card 4111 1111 1111 1111 for ", token[:4], token[4:] + "!"]]
    out.append(guard.flush().text)
    assert out == ["card 4111 1111 1111 1111 for ", "", "jane@example.com!", ""]
    assert not guard.blocked
    request_side = StreamGuard(ENGINE, [quiet], direction="request")
    assert request_side.feed("card 4111 1111 1111 1111 ").text == "card "


class _Counting:
    """The default engine, counting the guard's calls into it."""

    def __init__(self) -> None:
        from deepsentinel.detection import default_engine

        self.inner, self.calls, self.scans = default_engine(), 0, 0
        self.max_entity_length = self.inner.max_entity_length

    def safe_boundary(self, text: str, start: int = 0, *, findings=None) -> int:  # type: ignore[no-untyped-def]
        self.calls += 1
        return self.inner.safe_boundary(text, start, findings=findings)

    def scan(self, text: str, *, cached: bool = True):  # type: ignore[no-untyped-def]
        self.scans += 1
        return self.inner.scan(text, cached=cached)


def test_a_long_held_tail_is_not_rescanned_on_every_delta() -> None:
    """A 6 000-digit run fed one digit at a time costs about as many scans as its length doubles, not 6 000."""
    engine = _Counting()
    guard = StreamGuard(engine, [DEFAULT_POLICY])  # type: ignore[arg-type]
    out = "".join(guard.feed("1").text for _ in range(6000)) + guard.flush().text
    assert out == "1" * 6000  # a bare digit run is no entity: all of it is released in the end
    assert engine.calls < 600


def test_prose_costs_one_scan_per_delta() -> None:
    """The boundary and the release read the same scan (findings or none): one engine pass per delta."""
    engine = _Counting()
    guard = StreamGuard(engine, [DEFAULT_POLICY])  # type: ignore[arg-type]
    words = [f" river{i}" for i in range(100)] + [" call 415 555 2671 now", " or mail jane.doe@example.com", " today."]
    shown = "".join(guard.feed(w).text for w in words) + guard.flush().text
    assert shown == "".join(words)  # the default policy records a phone and an e-mail, hides neither
    assert engine.scans == len(words) + 1  # one per delta, and the flush


def test_a_stream_leaves_the_engine_cache_to_conversations() -> None:
    """Each probe of a stream is seen once: caching it would only evict the messages a chat resends."""
    engine = DetectionEngine(cache_size=64)
    message = "Please summarise the report for the quarterly review."
    engine.scan(message)
    guard = StreamGuard(engine, [DEFAULT_POLICY])
    shown = ""
    for i in range(200):
        shown += guard.feed(f" river{i} and more").text
    shown += guard.flush().text
    assert shown.count("river") == 200
    assert engine.cache_info().size == 1
    engine.scan(message)
    assert engine.cache_info().hits == 1


def test_an_engine_with_the_plain_protocol_still_guards() -> None:
    """A custom engine with only scan(text) and safe_boundary(text) works as before (two scans per delta)."""
    from deepsentinel.detection import default_engine

    class Plain:
        def __init__(self) -> None:
            self.inner = default_engine()
            self.max_entity_length = self.inner.max_entity_length

        def scan(self, text: str):  # type: ignore[no-untyped-def]
            return self.inner.scan(text)

        def safe_boundary(self, text: str) -> int:
            return self.inner.safe_boundary(text)

    guard = StreamGuard(Plain(), [DEFAULT_POLICY])  # type: ignore[arg-type]
    shown = "".join(guard.feed(d).text for d in ["Your card is 4111 11", "11 1111 1111", " ok"])
    assert shown == "Your card is " and guard.blocked
