"""Valid (checksummed) synthetic values for every entity type of the labelled corpus.

Everything derives from one ``random.Random`` and one seeded ``Faker``, so the corpus is reproducible. Values
that have checksums are generated to pass them (that is what real data does); hard negatives in
``negatives.py`` are generated to fail them.
"""

from __future__ import annotations

import base64
import json
import random
import string

import phonenumbers
from faker import Faker
from stdnum import iban as std_iban
from stdnum import verhoeff
from stdnum.ca import sin as std_sin
from stdnum.es import dni as std_dni
from stdnum.in_ import aadhaar as std_aadhaar
from stdnum.it import codicefiscale as std_cf

from deepsentinel.detection.validators import luhn_valid, valid_aba, valid_dea, valid_npi

STREET_SUFFIXES = ("Street", "St", "Avenue", "Ave", "Road", "Rd", "Boulevard", "Blvd", "Lane", "Ln", "Drive", "Dr",
                   "Court", "Ct", "Place", "Way", "Terrace", "Circle", "Parkway", "Highway")


class Values:
    """Generators of entity values, all drawn from the same seeded sources."""

    def __init__(self, rng: random.Random, fake: Faker) -> None:
        self.rng = rng
        self.fake = fake
        self.fakes = {loc: Faker(loc) for loc in ("de_DE", "fr_FR", "en_GB", "es_ES", "it_IT", "nl_NL")}
        for i, f in enumerate(self.fakes.values()):
            f.seed_instance(rng.randrange(1 << 30) + i)

    def digits(self, n: int) -> str:
        return "".join(self.rng.choice(string.digits) for _ in range(n))

    def alnum(self, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    # --- PII ---------------------------------------------------------------------------------------------
    def email(self) -> str:
        return self.fake.email()

    def phone(self) -> str:
        region = self.rng.choice(["US", "US", "US", "GB", "DE", "FR"])
        while True:
            example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE
                                                           if self.rng.random() < 0.5 else
                                                           phonenumbers.PhoneNumberType.FIXED_LINE)
            national = str(example.national_number)
            keep = self.rng.randint(3, 4)
            candidate = national[:keep] + self.digits(len(national) - keep)
            number = phonenumbers.parse("+" + str(example.country_code) + candidate)
            if phonenumbers.is_valid_number(number):
                break
        if region == "US":
            d = str(number.national_number)
            fmt = self.rng.choice(["({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "+1 {a} {b} {c}", "+1-{a}-{b}-{c}"])
            return fmt.format(a=d[:3], b=d[3:6], c=d[6:])
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    def ssn(self) -> str:
        while True:
            area = self.rng.randint(1, 899)
            if area != 666:
                break
        return f"{area:03d}-{self.rng.randint(1, 99):02d}-{self.rng.randint(1, 9999):04d}"

    def itin(self) -> str:
        group = self.rng.choice(list(range(70, 89)) + list(range(90, 93)) + list(range(94, 100)))
        return f"9{self.digits(2)}-{group}-{self.digits(4)}"

    def card(self) -> str:
        kind = self.rng.choice(["visa16", "mastercard", "amex", "discover", "visa16", "mastercard"])
        number = self.fake.credit_card_number(kind)
        style = self.rng.random()
        if kind == "amex":
            return number if style < 0.3 else f"{number[:4]} {number[4:10]} {number[10:]}"
        if style < 0.3:
            return number
        sep = " " if style < 0.7 else "-"
        return sep.join(number[i:i + 4] for i in range(0, 16, 4))

    def cvv(self) -> str:
        return self.digits(3)

    def expiry(self) -> str:
        return f"{self.rng.randint(1, 12):02d}/{self.rng.randint(25, 32)}"

    def iban(self) -> str:
        value = self.rng.choice(list(self.fakes.values())).iban()
        assert std_iban.is_valid(value)
        return " ".join(value[i:i + 4] for i in range(0, len(value), 4)) if self.rng.random() < 0.5 else value

    def nino(self) -> str:
        first = self.rng.choice("ABCEGHJKLMNOPRSTWXYZ")
        second = self.rng.choice("ABCEGHJKLMNPRSTWXYZ")
        while first + second in ("BG", "GB", "NK", "KN", "TN", "NT", "ZZ"):
            second = self.rng.choice("ABCEGHJKLMNPRSTWXYZ")
        d = self.digits(6)
        suffix = self.rng.choice("ABCD")
        if self.rng.random() < 0.5:
            return f"{first}{second} {d[:2]} {d[2:4]} {d[4:]} {suffix}"
        return f"{first}{second}{d}{suffix}"

    def routing(self) -> str:
        while True:
            value = self.fake.aba()
            if valid_aba(value):
                return value

    def account(self) -> str:
        return self.digits(self.rng.randint(8, 12))

    def passport(self) -> str:
        return self.digits(9) if self.rng.random() < 0.5 else self.rng.choice(string.ascii_uppercase) + self.digits(8)

    def ipv4(self) -> str:
        return self.fake.ipv4_public()

    def ipv6(self) -> str:
        return self.fake.ipv6()

    def mac(self) -> str:
        mac = self.fake.mac_address()
        return mac.upper() if self.rng.random() < 0.5 else mac

    def dob(self) -> str:
        d = self.fake.date_of_birth(minimum_age=18, maximum_age=90)
        return self.rng.choice([
            d.strftime("%m/%d/%Y"), d.isoformat(), d.strftime("%B %-d, %Y"), d.strftime("%-d %B %Y"),
            d.strftime("%b %-d, %Y"),
        ])

    def person(self) -> str:
        first = self.fake.first_name()
        if self.rng.random() < 0.2:
            first += f" {self.rng.choice('ABCDEFGHJKLMNPRSTW')}."
        return f"{first} {self.fake.last_name()}"

    def address(self) -> str:
        street = self.rng.choice([self.fake.last_name(), self.fake.first_name(), self.rng.choice(
            ["Main", "Oak", "Maple", "Cedar", "Park", "Washington", "Lake", "Hill", "Pine"])])
        value = f"{self.fake.building_number()} {street} {self.rng.choice(STREET_SUFFIXES)}"
        if self.rng.random() < 0.3:
            value += f", Apt {self.rng.randint(1, 999)}"
        return value

    def in_pan(self) -> str:
        return (self.alnum(3, string.ascii_uppercase) + self.rng.choice("ABCFGHLJPT")
                + self.alnum(1, string.ascii_uppercase) + self.digits(4) + self.alnum(1, string.ascii_uppercase))

    def aadhaar(self) -> str:
        while True:
            body = str(self.rng.randint(2, 9)) + self.digits(10)
            value = body + verhoeff.calc_check_digit(body)
            if std_aadhaar.is_valid(value):
                return f"{value[:4]} {value[4:8]} {value[8:]}"

    def ca_sin(self) -> str:
        body = str(self.rng.randint(1, 7)) + self.digits(7)
        value = next(body + c for c in string.digits if luhn_valid(body + c))
        assert std_sin.is_valid(value)
        return f"{value[:3]} {value[3:6]} {value[6:]}"

    def es_nif(self) -> str:
        body = self.digits(8)
        return body + std_dni.calc_check_digit(body)

    def it_fiscal(self) -> str:
        value = self.fakes["it_IT"].ssn()
        assert std_cf.is_valid(value)
        return value

    # --- PHI ---------------------------------------------------------------------------------------------
    def mrn(self) -> str:
        return self.digits(self.rng.randint(7, 10)) if self.rng.random() < 0.6 else "MR" + self.digits(7)

    def health_plan(self) -> str:
        return self.alnum(3, string.ascii_uppercase) + self.digits(9)

    def npi(self) -> str:
        while True:
            value = self.rng.choice("12") + self.digits(9)
            if valid_npi(value):
                return value

    def dea(self) -> str:
        while True:
            value = self.rng.choice("ABFGM") + self.rng.choice(string.ascii_uppercase) + self.digits(7)
            if valid_dea(value):
                return value

    # --- secrets -----------------------------------------------------------------------------------------
    def aws_key(self) -> str:
        return "AKIA" + self.alnum(16, string.ascii_uppercase + string.digits)

    def github_token(self) -> str:
        return "ghp_" + self.alnum(36)

    def gitlab_token(self) -> str:
        return "glpat-" + self.alnum(20)

    def slack_token(self) -> str:
        return "xoxb-" + self.digits(12) + "-" + self.digits(12) + "-" + self.alnum(24)

    def stripe_key(self) -> str:
        return "sk_" + self.rng.choice(["live", "test"]) + "_" + self.alnum(24)

    def openai_key(self) -> str:
        return "sk-proj-" + self.alnum(48) if self.rng.random() < 0.5 else "sk-" + self.alnum(48)

    def anthropic_key(self) -> str:
        return "sk-ant-api03-" + self.alnum(80, string.ascii_letters + string.digits + "_-")

    def private_key(self) -> str:
        lines = [base64.b64encode(self.rng.randbytes(48)).decode() for _ in range(self.rng.randint(3, 8))]
        kind = self.rng.choice(["RSA ", "EC ", "", "OPENSSH "])
        return f"-----BEGIN {kind}PRIVATE KEY-----\n" + "\n".join(lines) + f"\n-----END {kind}PRIVATE KEY-----"

    def jwt(self) -> str:
        def seg(obj: dict[str, object]) -> str:
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
        payload = {"sub": self.digits(8), "name": self.fake.name(), "iat": self.rng.randint(1_600_000_000, 1_800_000_000)}
        return seg({"alg": "HS256", "typ": "JWT"}) + "." + seg(payload) + "." + self.alnum(43, string.ascii_letters + string.digits + "_-")

    def url_credentials(self) -> str:
        scheme = self.rng.choice(["postgres", "mysql", "https", "redis", "mongodb"])
        return f"{scheme}://{self.fake.user_name()}:{self.password()}@{self.fake.domain_name()}"

    def password(self) -> str:
        return self.alnum(self.rng.randint(10, 20), string.ascii_letters + string.digits + "!#%^*_")


def check_luhn(number: str) -> bool:
    return luhn_valid(number)
