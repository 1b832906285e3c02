"""Per-entity tables: what each recognizer must find, and the lookalikes it must leave alone."""

from __future__ import annotations

import pytest

from deepsentinel.detection import DetectionEngine

ENGINE = DetectionEngine(cache_size=0)


def _found(text: str) -> list[tuple[str, str]]:
    return [(f.type, text[f.start:f.end]) for f in ENGINE.scan(text).findings]


# (entity, text, expected value); secrets are assembled at run time so secret scanners stay quiet.
POSITIVES = [
    ("US_SSN", "SSN: 536-22-1234", "536-22-1234"),
    ("US_SSN", "my social security number is 536 22 1234", "536 22 1234"),
    ("US_SSN", "SSN 536221234 on file", "536221234"),
    ("US_ITIN", "ITIN 912-78-1234", "912-78-1234"),
    ("CREDIT_CARD", "card 4111-1111-1111-1111", "4111-1111-1111-1111"),
    ("CREDIT_CARD", "paid with 4111 1111 1111 1111.", "4111 1111 1111 1111"),
    ("CREDIT_CARD", "number 5500005555555559 charged", "5500005555555559"),
    ("CREDIT_CARD", "amex 3782 822463 10005", "3782 822463 10005"),
    ("CVV", "CVV: 123", "123"),
    ("CARD_EXPIRY", "exp 08/27", "08/27"),
    ("EMAIL_ADDRESS", "write to jane.doe+news@example.co.uk today", "jane.doe+news@example.co.uk"),
    ("PHONE_NUMBER", "call (415) 555-2671", "(415) 555-2671"),
    ("PHONE_NUMBER", "tel +44 20 7946 0958", "+44 20 7946 0958"),
    ("IBAN_CODE", "IBAN GB82 WEST 1234 5698 7654 32", "GB82 WEST 1234 5698 7654 32"),
    ("IBAN_CODE", "to DE89370400440532013000 please", "DE89370400440532013000"),
    ("UK_NINO", "NINO AB 12 34 56 C", "AB 12 34 56 C"),
    ("US_BANK_ROUTING", "routing number 021000021", "021000021"),
    ("US_BANK_ACCOUNT", "account number 12345678901", "12345678901"),
    ("US_PASSPORT", "passport number 912803456", "912803456"),
    ("IP_ADDRESS", "login from 203.0.113.42 failed", "203.0.113.42"),
    ("IP_ADDRESS", "host 2001:db8::8a2e:370:7334 up", "2001:db8::8a2e:370:7334"),
    ("MAC_ADDRESS", "adapter 00:1A:2B:3C:4D:5E", "00:1A:2B:3C:4D:5E"),
    ("DATE_OF_BIRTH", "DOB: 03/15/1985", "03/15/1985"),
    ("DATE_OF_BIRTH", "born on March 3, 1985", "March 3, 1985"),
    ("MEDICAL_RECORD_NUMBER", "MRN: 12345678", "12345678"),
    ("HEALTH_PLAN_ID", "Member ID: ABC123456789", "ABC123456789"),
    ("HEALTH_PLAN_ID", "Medicare 1EG4-TE5-MK73", "1EG4-TE5-MK73"),
    ("NPI", "NPI 1234567893", "1234567893"),
    ("DEA_NUMBER", "DEA AB1234563", "AB1234563"),
    ("STREET_ADDRESS", "ship to 221 Baker Street, Apt 4 today", "221 Baker Street, Apt 4"),
    ("IN_PAN", "PAN ABCPE1234F", "ABCPE1234F"),
    ("ES_NIF", "DNI 12345678Z", "12345678Z"),
    ("CA_SIN", "SIN 130 692 544", "130 692 544"),
]

SECRETS = [
    ("AWS_ACCESS_KEY", "key ", "AKIA" + "Q3VZ7RTMWK2LPX4N"),
    ("GITHUB_TOKEN", "GITHUB_TOKEN=", "ghp_" + "a1B2c3" * 6),
    ("GITLAB_TOKEN", "token ", "glpat-" + "x1Y2z3" * 4),
    ("SLACK_TOKEN", "SLACK=", "xoxb-" + "2846193057-5719384620-" + "kT9vQ2mXw7Lp"),
    ("STRIPE_KEY", "stripe ", "sk_" + "live_" + "a1B2c3D4" * 3),
    ("OPENAI_API_KEY", "key ", "sk-" + "proj-" + "a1B2c3D4" * 6),
    ("ANTHROPIC_API_KEY", "key ", "sk-" + "ant-api03-" + "a1B2c3D4_-" * 8),
    ("JWT", "Bearer ", "eyJhbGciOiJIUzI1NiJ9" + "." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0" + "." + "c2lnbmF0dXJlX2hlcmU"),
    ("URL_WITH_CREDENTIALS", "DATABASE_URL=", "postgres://admin:" + "S3cr3tPw9" + "@db.example.com"),
    ("GENERIC_SECRET", "password: ", "Hunter2" + "xyz!"),
    ("PRIVATE_KEY", "key:\n", "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEow" + "Ab9" * 20 + "\n-----END RSA PRIVATE KEY-----"),
]

NEGATIVES = [
    "Order #4532015112830366 shipped today.",  # Luhn-valid, but an order number
    "The card number 4111 1111 1111 1112 was rejected.",  # Luhn-invalid
    "Invoice 1234567812345678 is overdue.",
    "SSN field contained 000-12-3456",  # area 000
    "SSN field contained 666-12-3456",  # area 666
    "value 912-34-5678 is not valid",  # 9xx area, group outside ITIN ranges
    "request id 123e4567-e89b-12d3-a456-426614174000 done",  # UUID
    "2024-01-15T10:30:00Z build finished",  # timestamp
    "at 09:26:53.589 the job ended",
    "Upgraded to version 1.2.3.4 today",  # version string
    "Released v10.4.1.2 yesterday",
    "ISBN 978-3-16-148410-0 is out of print",  # ISBN
    "The meeting is on 03/15/2024 at 4pm.",  # date without birth context
    "commit 3f786850e387550fdab836ed7e6dc881de23001b fixed it",  # hash
    "password: ********",
    "api_key = os.environ['OPENAI_API_KEY']",
    "Please reset your password using the link we sent.",
    "The token budget is 4096 per request.",
    "In 2005 we opened an account and shipped 12 releases.",
    "Total due $1,234.56, paid by check 1042.",
    "Call extension 584 for support.",
    "look at this dot com thing",
]


@pytest.mark.parametrize(("entity", "text", "value"), POSITIVES, ids=[f"{e}-{i}" for i, (e, _, _) in enumerate(POSITIVES)])
def test_entity_is_found_with_exact_span(entity: str, text: str, value: str) -> None:
    """Each entity is found, with offsets covering exactly the value."""
    assert (entity, value) in _found(text)


@pytest.mark.parametrize(("entity", "prefix", "value"), SECRETS, ids=[e for e, _, _ in SECRETS])
def test_secret_is_found(entity: str, prefix: str, value: str) -> None:
    """Vendor tokens, keys and credentials are found as their own type."""
    assert (entity, value) in _found(prefix + value + " end")


@pytest.mark.parametrize("text", NEGATIVES)
def test_hard_negative_stays_clean(text: str) -> None:
    """Lookalikes (invalid checksums, order numbers, UUIDs, timestamps, versions, ISBNs, plain dates) are not flagged."""
    assert _found(text) == []


@pytest.mark.parametrize("text", ["SSN: 536-22-1234", "card 4111 1111 1111 1111", "card 4111-1111-1111-1111",
                                  "token " + "ghp_" + "a1B2c3" * 6, "key " + "AKIA" + "Q3VZ7RTMWK2LPX4N"])
def test_default_risk_blocks_ids_cards_and_secrets(text: str) -> None:
    """Government IDs, cards in common formats and secrets reach the default block threshold (risk >= 0.8)."""
    (finding,) = ENGINE.scan(text).findings
    assert finding.risk >= 0.8


@pytest.mark.parametrize("text", ["mail jane@example.com", "call (415) 555-2671"])
def test_default_risk_only_logs_contact_details(text: str) -> None:
    """E-mail and phone are LOW severity: risk well under the default threshold."""
    (finding,) = ENGINE.scan(text).findings
    assert finding.risk < 0.5


def test_context_word_raises_confidence() -> None:
    """A context word in front of a value raises its confidence."""
    bare = ENGINE.scan("value 536-22-1234").findings[0].confidence
    labelled = ENGINE.scan("SSN 536-22-1234").findings[0].confidence
    assert labelled > bare


def test_context_labels_the_next_value_only() -> None:
    """'MRN 1234567 DEA AB1234563': the DEA number is a DEA number, not a record number."""
    assert _found("MRN 1234567 DEA AB1234563") == [("MEDICAL_RECORD_NUMBER", "1234567"), ("DEA_NUMBER", "AB1234563")]


def test_context_only_entities_need_their_word() -> None:
    """Nine bare digits are nothing; after 'routing' with a valid checksum they are a routing number."""
    assert _found("ref 021000021") == []
    assert _found("routing 021000021") == [("US_BANK_ROUTING", "021000021")]
