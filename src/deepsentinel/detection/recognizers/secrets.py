"""Secrets: vendor API keys and tokens, private keys, JWTs, credentials in URLs and next to ``password=``."""

from __future__ import annotations

import re

from deepsentinel.detection.findings import Category, Severity
from deepsentinel.detection.recognizer import Pattern, PatternRecognizer
from deepsentinel.detection.recognizers.assignments import ASSIGNMENT_RECOGNIZERS
from deepsentinel.detection.recognizers.fragments import TOKEN_AFTER, TOKEN_BEFORE, WORD_AFTER, WORD_BEFORE
from deepsentinel.detection.recognizers.vendor_tokens import VENDOR_RECOGNIZERS
from deepsentinel.detection.secret_values import is_placeholder, shannon_entropy, valid_vendor_token
from deepsentinel.detection.validators import not_anthropic, valid_jwt


def _token(entity: str, *patterns: Pattern, validator: object = valid_vendor_token, max_length: int = 260) -> PatternRecognizer:
    return PatternRecognizer(entity, Category.SECRET, Severity.CRITICAL, patterns,
                             validator=validator,  # type: ignore[arg-type]
                             max_length=max_length, detector="secrets")


AWS_ACCESS_KEY = _token("AWS_ACCESS_KEY", Pattern(
    "access key id", r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|APKA)[0-9A-Z]{16}", 0.95,
    WORD_BEFORE, WORD_AFTER), max_length=20)
# The secret half of an AWS key pair: 40 base64 characters, only meaningful after a word that names it.
AWS_SECRET_KEY = PatternRecognizer(
    "AWS_SECRET_KEY", Category.SECRET, Severity.CRITICAL,
    (Pattern("40 characters after an AWS secret word", r"[A-Za-z0-9/+]{40}", 0.9, r"(?<![A-Za-z0-9/+=])",
             r"(?![A-Za-z0-9/+=])", requires_context=True),),
    validator=lambda v: valid_vendor_token(v) and shannon_entropy(v) >= 4.0,
    context=("aws secret", "aws secret key", "aws secret access key", "secret access key", "secret_access_key",
             "aws_secret_access_key", "aws_secret_key", "secretaccesskey", "aws key", "secret key"),
    context_window=40, max_length=40, detector="secrets",
)
GITHUB_TOKEN = _token(
    "GITHUB_TOKEN",
    Pattern("classic", r"gh[pousr]_[A-Za-z0-9]{36,251}", 0.98, WORD_BEFORE, WORD_AFTER),
    Pattern("fine-grained", r"github_pat_[A-Za-z0-9_]{60,251}", 0.98, WORD_BEFORE, WORD_AFTER),
)
GITLAB_TOKEN = _token("GITLAB_TOKEN", Pattern(
    "personal access token", r"glpat-[0-9A-Za-z_\-]{20,64}", 0.98, TOKEN_BEFORE, TOKEN_AFTER))
def _valid_slack(value: str) -> bool:
    """Slack tokens carry numeric workspace/user ids: "xoxb-12345-abcd234" or "xoxb-my-bot-token" are examples."""
    if value.startswith("https://"):
        return True
    # A trailing dash: the token went on in characters no token has ("xoxp-...-####"), an example.
    return valid_vendor_token(value) and re.search(r"[0-9]{8}", value) is not None and not value.endswith("-")


SLACK_TOKEN = _token(
    "SLACK_TOKEN",
    Pattern("token", r"xox[abposr]-[0-9A-Za-z\-]{10,250}", 0.95, TOKEN_BEFORE, TOKEN_AFTER),
    Pattern("webhook", r"https://hooks\.slack\.com/services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{20,32}",
            0.95, "", WORD_AFTER),
    validator=_valid_slack,
)
STRIPE_KEY = _token("STRIPE_KEY", Pattern(
    "secret or restricted key", r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,247}", 0.95, WORD_BEFORE, WORD_AFTER))
ANTHROPIC_API_KEY = _token("ANTHROPIC_API_KEY", Pattern(
    "api key", r"sk-ant-(?:api|admin|oat)[0-9]{2}-[A-Za-z0-9_\-]{20,200}", 0.99, TOKEN_BEFORE, TOKEN_AFTER))
OPENAI_API_KEY = _token("OPENAI_API_KEY", Pattern(
    "api key", r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,200}", 0.9, TOKEN_BEFORE, TOKEN_AFTER),
    validator=lambda v: not_anthropic(v) and valid_vendor_token(v))

_PEM_HEAD = r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY-----"
_PEM_ARMOR = re.compile(r"-----(?:BEGIN|END)[A-Z0-9 ]{0,40}PRIVATE KEY-----")
_BASE64_CHAR = re.compile(r"[A-Za-z0-9+/]")


def _pem_key(value: str) -> bool:
    """Key material between the armor lines: at least 64 base64 characters, as gitleaks requires (a header
    around "anything", or an empty block in documentation, holds no key)."""
    body = _PEM_ARMOR.sub("", value)
    return valid_vendor_token(value) and len(_BASE64_CHAR.findall(body)) >= 64


PRIVATE_KEY = _token(
    "PRIVATE_KEY",
    # A block never holds another BEGIN line: stopping there keeps a text of repeated headers linear (each
    # header would otherwise scan 12 000 characters ahead for an END line: seconds for a 400 KB prompt).
    Pattern("PEM block", _PEM_HEAD + r"(?:(?!-----BEGIN)[\s\S]){0,12000}?-----END[A-Z0-9 ]{0,40}PRIVATE KEY-----",
            0.99, gate=_PEM_HEAD),
    # A pasted half of a key (or a stream that stopped) is still a leak: header plus the base64 lines.
    Pattern("unterminated PEM block", _PEM_HEAD + r"(?:[ \t]{0,4}\r?\n?[A-Za-z0-9+/=:,\-]{1,100}){0,160}", 0.95,
            gate=_PEM_HEAD),
    validator=_pem_key,
    max_length=12100,
)

JWT = PatternRecognizer(
    "JWT", Category.SECRET, Severity.CRITICAL,
    (Pattern("three base64url segments",
             r"eyJ[A-Za-z0-9_\-]{8,4000}\.eyJ[A-Za-z0-9_\-]{8,4000}\.[A-Za-z0-9_\-]{8,1000}",
             0.97, TOKEN_BEFORE, TOKEN_AFTER,
             gate=r"eyJ[A-Za-z0-9_\-]{8}[A-Za-z0-9_\-]*\.eyJ[A-Za-z0-9_\-]{8}"),),
    validator=valid_jwt,
    max_length=9100,
    detector="secrets",
)

def _url_password_is_real(url: str) -> bool:
    """``postgres://user:password@host`` and ``https://user:${PASS}@host`` are documentation, not leaks."""
    password = url.split("://", 1)[1].rsplit("@", 1)[0].split(":", 1)[1]
    return not is_placeholder(password) and not password.lower().startswith(("pass", "pwd", "secret"))


URL_WITH_CREDENTIALS = PatternRecognizer(
    "URL_WITH_CREDENTIALS", Category.SECRET, Severity.CRITICAL,
    (Pattern("user:password@host", r"[A-Za-z][A-Za-z0-9+.\-]{1,15}://[^\s:/@]{1,64}:([^\s@/]{1,128})@[A-Za-z0-9.\-]{1,253}",
             0.95, WORD_BEFORE, ""),),
    validator=_url_password_is_real,
    max_length=470,
    detector="secrets",
)

SECRET_RECOGNIZERS = (
    AWS_ACCESS_KEY, AWS_SECRET_KEY, GITHUB_TOKEN, GITLAB_TOKEN, SLACK_TOKEN, STRIPE_KEY, ANTHROPIC_API_KEY, OPENAI_API_KEY,
    PRIVATE_KEY, JWT, URL_WITH_CREDENTIALS, *VENDOR_RECOGNIZERS, *ASSIGNMENT_RECOGNIZERS,
)
