"""Reproducible labelled corpus for the detection engine: clean, hard-negative and evasion splits.

    python benchmarks/corpus/generate.py --seed 20261124 --docs 600 --out /tmp/corpus.jsonl

Each document is a ticket, e-mail, medical note, payment dispute, code snippet or log excerpt built from
templates, Faker prose and values from ``values.py``; labels are the exact spans of the values inserted.

* ``clean``: entities as people write them, each after the words people put in front of them.
* ``hard_negative``: no sensitive data at all, but lookalikes: Luhn-invalid card numbers, order numbers, SSNs
  with invalid areas, UUIDs, timestamps, version strings, ISBNs, plain dates, hashes, placeholder secrets.
* ``evasion``: the clean entities disguised: full-width digits, zero-width characters, homoglyphs, digits
  split by spaces, dots or line breaks, en dashes, ``name at domain dot com``.

Nothing is written unless ``--out`` is given: the corpus is the generator plus the seed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from faker import Faker

sys.path.insert(0, str(Path(__file__).resolve().parent))

from evasions import EVASIONS  # noqa: E402
from negatives import hard_negative_sentences  # noqa: E402
from values import Values  # noqa: E402

DEFAULT_SEED = 20261124


@dataclass(frozen=True)
class Label:
    type: str
    start: int
    end: int


@dataclass
class Document:
    split: str
    genre: str
    text: str
    labels: list[Label] = field(default_factory=list)


# entity type -> (value generator name, sentence templates with {v} for the value)
TEMPLATES: dict[str, tuple[str, tuple[str, ...]]] = {
    "EMAIL_ADDRESS": ("email", ("Please reply to {v} when you can.", "Contact: {v}", "cc {v} on the thread", "From: {v}")),
    "PHONE_NUMBER": ("phone", ("Call me back at {v} tomorrow.", "Phone: {v}", "mobile {v} (after 5pm)", "{v} is the best way to get me.")),
    "US_SSN": ("ssn", ("SSN: {v}", "my social security number is {v}", "Employee SSN {v} on file.", "Applicant {v}, verified.")),
    "US_ITIN": ("itin", ("ITIN {v} for the tax filing.", "Taxpayer ITIN: {v}")),
    "CREDIT_CARD": ("card", ("Card number {v} was charged twice.", "I paid with {v}.", "card: {v}",
                             "Visa {v} declined", "Use {v} for the renewal.")),
    "CVV": ("cvv", ("CVV {v}", "security code: {v}")),
    "CARD_EXPIRY": ("expiry", ("exp {v}", "expiry date {v}")),
    "IBAN_CODE": ("iban", ("Wire it to IBAN {v} please.", "IBAN: {v}", "Send the refund to {v}.")),
    "UK_NINO": ("nino", ("National Insurance number {v}", "NINO: {v}")),
    "US_BANK_ROUTING": ("routing", ("routing number {v}", "ABA routing {v}")),
    "US_BANK_ACCOUNT": ("account", ("account number {v}", "checking account {v}")),
    "US_PASSPORT": ("passport", ("passport number {v}", "Passport: {v}")),
    "IP_ADDRESS": ("ipv4", ("login from {v} failed", "client ip {v}", "server {v} is down", "{v} - - \"GET /health HTTP/1.1\" 200")),
    "MAC_ADDRESS": ("mac", ("device MAC {v}", "wifi adapter {v}")),
    "DATE_OF_BIRTH": ("dob", ("DOB: {v}", "date of birth {v}", "born on {v}")),
    "PERSON": ("person", ("Patient name: {v}", "Dear {v}, thanks for your patience.", "Please ask {v} to call back.",
                          "Regards,\n{v}", "{v} reported the issue yesterday.", "Signed: {v}")),
    "STREET_ADDRESS": ("address", ("Ship to {v}, Springfield.", "I live at {v}.", "Address: {v}")),
    "IN_PAN": ("in_pan", ("PAN {v}", "my PAN card number is {v}")),
    "IN_AADHAAR": ("aadhaar", ("Aadhaar {v}", "Aadhaar number: {v}")),
    "CA_SIN": ("ca_sin", ("SIN {v}", "social insurance number {v}")),
    "ES_NIF": ("es_nif", ("DNI {v}", "NIF: {v}")),
    "IT_FISCAL_CODE": ("it_fiscal", ("codice fiscale {v}", "CF: {v}")),
    "MEDICAL_RECORD_NUMBER": ("mrn", ("MRN: {v}", "medical record number {v}", "Patient ID {v}")),
    "HEALTH_PLAN_ID": ("health_plan", ("Member ID: {v}", "insurance ID {v}", "subscriber ID {v}")),
    "NPI": ("npi", ("NPI {v}", "Provider NPI: {v}")),
    "DEA_NUMBER": ("dea", ("DEA {v}", "prescriber DEA number {v}")),
    "AWS_ACCESS_KEY": ("aws_key", ('aws_access_key_id = {v}', "key {v} leaked in the logs")),
    "GITHUB_TOKEN": ("github_token", ("GITHUB_TOKEN={v}", "use token {v} for the CI")),
    "GITLAB_TOKEN": ("gitlab_token", ("gitlab token {v}",)),
    "SLACK_TOKEN": ("slack_token", ("SLACK_BOT_TOKEN={v}",)),
    "STRIPE_KEY": ("stripe_key", ("stripe.api_key = '{v}'",)),
    "OPENAI_API_KEY": ("openai_key", ('client = OpenAI(api_key="{v}")', "OPENAI_API_KEY={v}")),
    "ANTHROPIC_API_KEY": ("anthropic_key", ("ANTHROPIC_API_KEY={v}",)),
    "PRIVATE_KEY": ("private_key", ("here is the deploy key:\n{v}\n",)),
    "JWT": ("jwt", ("Authorization: Bearer {v}", "session cookie {v}")),
    "URL_WITH_CREDENTIALS": ("url_credentials", ("DATABASE_URL={v}", "connect to {v} for the dump")),
    "GENERIC_SECRET": ("password", ("password: {v}", 'db_password = "{v}"', "the wifi password is {v}")),
}

GENRES: dict[str, tuple[str, ...]] = {
    "ticket": ("PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "STREET_ADDRESS", "IP_ADDRESS",
               "US_PASSPORT", "UK_NINO", "IN_PAN", "IN_AADHAAR", "CA_SIN", "ES_NIF", "IT_FISCAL_CODE", "US_ITIN"),
    "email": ("PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "STREET_ADDRESS", "IBAN_CODE", "DATE_OF_BIRTH", "US_BANK_ROUTING",
              "US_BANK_ACCOUNT"),
    "medical_note": ("PERSON", "MEDICAL_RECORD_NUMBER", "HEALTH_PLAN_ID", "NPI", "DEA_NUMBER", "DATE_OF_BIRTH",
                     "PHONE_NUMBER", "US_SSN", "STREET_ADDRESS"),
    "payment_dispute": ("CREDIT_CARD", "CVV", "CARD_EXPIRY", "IBAN_CODE", "EMAIL_ADDRESS", "US_BANK_ACCOUNT",
                        "US_BANK_ROUTING"),
    "code": ("AWS_ACCESS_KEY", "GITHUB_TOKEN", "GITLAB_TOKEN", "SLACK_TOKEN", "STRIPE_KEY", "OPENAI_API_KEY",
             "ANTHROPIC_API_KEY", "PRIVATE_KEY", "JWT", "URL_WITH_CREDENTIALS", "GENERIC_SECRET"),
    "log": ("IP_ADDRESS", "MAC_ADDRESS", "EMAIL_ADDRESS", "JWT", "URL_WITH_CREDENTIALS", "AWS_ACCESS_KEY"),
}

# Which entity types can be disguised in the evasion split (and how is decided in evasions.py).
EVADABLE = ("CREDIT_CARD", "US_SSN", "EMAIL_ADDRESS", "PHONE_NUMBER", "IBAN_CODE", "AWS_ACCESS_KEY",
            "GITHUB_TOKEN", "US_ITIN", "UK_NINO")

INTROS: dict[str, Callable[[Faker], str]] = {
    "ticket": lambda f: f"Ticket #{f.random_int(1000, 99999)}: {f.sentence()}",
    "email": lambda f: f"Hello,\n{f.sentence()}",  # a greeting with a name would be an unlabelled PERSON
    "medical_note": lambda f: f"Visit note. {f.sentence()}",
    "payment_dispute": lambda f: f"Dispute opened. {f.sentence()}",
    "code": lambda f: f"# {f.sentence()}",
    "log": lambda f: f"{f.date_time_this_decade().isoformat()}Z INFO {f.word()} started",
}


class CorpusBuilder:
    """Builds documents sentence by sentence, keeping label offsets exact."""

    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)
        self.values = Values(self.rng, self.fake)

    def _document(self, split: str, genre: str, sentences: list[tuple[str, list[Label]]]) -> Document:
        text = INTROS[genre](self.fake)
        labels: list[Label] = []
        for sentence, sentence_labels in sentences:
            sep = "\n" if genre in ("code", "log") else " "
            if sep == " " and text and text[-1] not in ".!?:\n":
                text += "."  # prose sentences end with a full stop, as people write them
            offset = len(text) + len(sep)
            text += sep + sentence
            labels += [Label(lb.type, lb.start + offset, lb.end + offset) for lb in sentence_labels]
            if self.rng.random() < 0.4 and genre not in ("code", "log"):
                text += " " + self.fake.sentence()
        return Document(split, genre, text, labels)

    def _entity_sentence(self, entity: str, disguise: bool = False) -> tuple[str, list[Label]]:
        generator, templates = TEMPLATES[entity]
        value = getattr(self.values, generator)()
        if disguise:
            value = EVASIONS[entity](self.rng, value)
        template = self.rng.choice(templates)
        start = template.index("{v}")
        sentence = template.replace("{v}", value)
        return sentence, [Label(entity, start, start + len(value))]

    def clean(self) -> Document:
        genre = self.rng.choice(list(GENRES))
        entities = self.rng.sample(GENRES[genre], k=min(len(GENRES[genre]), self.rng.randint(1, 3)))
        return self._document("clean", genre, [self._entity_sentence(e) for e in entities])

    def evasion(self) -> Document:
        genre = self.rng.choice(["ticket", "email", "payment_dispute", "code"])
        choices = [e for e in EVADABLE if e in GENRES[genre]] or ["EMAIL_ADDRESS"]
        entities = self.rng.sample(choices, k=min(len(choices), self.rng.randint(1, 2)))
        return self._document("evasion", genre, [self._entity_sentence(e, disguise=True) for e in entities])

    def hard_negative(self) -> Document:
        genre = self.rng.choice(list(GENRES))
        sentences = [(s, []) for s in hard_negative_sentences(self.rng, self.fake, self.rng.randint(1, 3))]
        return self._document("hard_negative", genre, sentences)


def generate(seed: int = DEFAULT_SEED, docs: int = 600) -> Iterator[Document]:
    """``docs`` documents per split, deterministic for a given seed."""
    builder = CorpusBuilder(seed)
    for _ in range(docs):
        yield builder.clean()
    for _ in range(docs):
        yield builder.hard_negative()
    for _ in range(docs):
        yield builder.evasion()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--docs", type=int, default=600, help="documents per split")
    parser.add_argument("--out", type=Path, help="write JSON lines here (default: print a summary only)")
    args = parser.parse_args()
    corpus = list(generate(args.seed, args.docs))
    if args.out:
        with args.out.open("w", encoding="utf-8") as fh:
            for doc in corpus:
                fh.write(json.dumps(asdict(doc), ensure_ascii=False) + "\n")
    counts: dict[str, int] = {}
    for doc in corpus:
        counts[doc.split] = counts.get(doc.split, 0) + 1
    print(json.dumps({"seed": args.seed, "documents": counts,
                      "labels": sum(len(d.labels) for d in corpus)}))


if __name__ == "__main__":
    main()
