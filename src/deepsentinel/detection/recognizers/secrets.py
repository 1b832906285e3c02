"""Secrets: vendor API keys and tokens, private keys, JWTs, credentials in URLs and next to ``password=``."""

from __future__ import annotations

from deepsentinel.detection.findings import Category, Severity
from deepsentinel.detection.recognizer import Pattern, PatternRecognizer
from deepsentinel.detection.recognizers.fragments import TOKEN_AFTER, TOKEN_BEFORE, WORD_AFTER, WORD_BEFORE
from deepsentinel.detection.validators import not_anthropic, valid_generic_secret, valid_jwt


def _token(entity: str, *patterns: Pattern, validator: object = None, max_length: int = 260) -> PatternRecognizer:
    return PatternRecognizer(entity, Category.SECRET, Severity.CRITICAL, patterns,
                             validator=validator,  # type: ignore[arg-type]
                             max_length=max_length, detector="secrets")


AWS_ACCESS_KEY = _token("AWS_ACCESS_KEY", Pattern(
    "access key id", r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|APKA)[0-9A-Z]{16}", 0.95,
    WORD_BEFORE, WORD_AFTER), max_length=20)
GITHUB_TOKEN = _token(
    "GITHUB_TOKEN",
    Pattern("classic", r"gh[pousr]_[A-Za-z0-9]{36,251}", 0.98, WORD_BEFORE, WORD_AFTER),
    Pattern("fine-grained", r"github_pat_[A-Za-z0-9_]{60,251}", 0.98, WORD_BEFORE, WORD_AFTER),
)
GITLAB_TOKEN = _token("GITLAB_TOKEN", Pattern(
    "personal access token", r"glpat-[0-9A-Za-z_\-]{20,64}", 0.98, TOKEN_BEFORE, TOKEN_AFTER))
SLACK_TOKEN = _token(
    "SLACK_TOKEN",
    Pattern("token", r"xox[abposr]-[0-9A-Za-z\-]{10,250}", 0.95, TOKEN_BEFORE, TOKEN_AFTER),
    Pattern("webhook", r"https://hooks\.slack\.com/services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{20,32}",
            0.95, "", WORD_AFTER),
)
STRIPE_KEY = _token("STRIPE_KEY", Pattern(
    "secret or restricted key", r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,247}", 0.95, WORD_BEFORE, WORD_AFTER))
ANTHROPIC_API_KEY = _token("ANTHROPIC_API_KEY", Pattern(
    "api key", r"sk-ant-(?:api|admin|oat)[0-9]{2}-[A-Za-z0-9_\-]{20,200}", 0.99, TOKEN_BEFORE, TOKEN_AFTER))
OPENAI_API_KEY = _token("OPENAI_API_KEY", Pattern(
    "api key", r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,200}", 0.9, TOKEN_BEFORE, TOKEN_AFTER),
    validator=not_anthropic)

_PEM_HEAD = r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY-----"
PRIVATE_KEY = _token(
    "PRIVATE_KEY",
    # A block never holds another BEGIN line: stopping there keeps a text of repeated headers linear (each
    # header would otherwise scan 12 000 characters ahead for an END line: seconds for a 400 KB prompt).
    Pattern("PEM block", _PEM_HEAD + r"(?:(?!-----BEGIN)[\s\S]){0,12000}?-----END[A-Z0-9 ]{0,40}PRIVATE KEY-----",
            0.99, gate=_PEM_HEAD),
    # A pasted half of a key (or a stream that stopped) is still a leak: header plus the base64 lines.
    Pattern("unterminated PEM block", _PEM_HEAD + r"(?:[ \t]{0,4}\r?\n?[A-Za-z0-9+/=:,\-]{1,100}){0,160}", 0.95,
            gate=_PEM_HEAD),
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

URL_WITH_CREDENTIALS = PatternRecognizer(
    "URL_WITH_CREDENTIALS", Category.SECRET, Severity.CRITICAL,
    (Pattern("user:password@host", r"[A-Za-z][A-Za-z0-9+.\-]{1,15}://[^\s:/@]{1,64}:([^\s@/]{1,128})@[A-Za-z0-9.\-]{1,253}",
             0.95, WORD_BEFORE, ""),),
    max_length=470,
    detector="secrets",
)

# Keyword, optional closing quote, an assignment (":", "=", ":=", "=>"), optional opening quote, the value.
_SECRET_WORDS = (r"(?i:passwords?|passwd|passphrase|pwd|pass|secret|secret[_\-]?key|client[_\-]?secret|token|"
                 r"access[_\-]?token|auth[_\-]?token|refresh[_\-]?token|api[_\-]?key|apikey|"
                 r"access[_\-]?key|secret[_\-]?access[_\-]?key|private[_\-]?key|credentials?)")
_VALUE = r"([^\s\"'`,;<>]{6,128})"
GENERIC_SECRET = PatternRecognizer(
    "GENERIC_SECRET", Category.SECRET, Severity.CRITICAL,
    (
        Pattern("value assigned to a secret-like name",
                _SECRET_WORDS + r"[\"']?[ \t]{0,3}(?::=|=>|[:=])[ \t]{0,3}[\"'`]?" + _VALUE,
                0.85, r"(?<![A-Za-z])", "", group=1),
        # Prose: "the wifi password is X", "my password X"; a bearer token in a header.
        Pattern("password in a sentence",
                r"(?i:passwords?|passwd|passphrase)(?:[ \t]+(?i:is|was))?[ \t]{1,3}[\"'`]?" + _VALUE,
                0.85, r"(?<![A-Za-z])", "", group=1),
        Pattern("bearer token", r"(?i:bearer)[ \t]{1,3}([A-Za-z0-9._~+/\-]{16,512}=*)", 0.85, r"(?<![A-Za-z])", "",
                group=1),
    ),
    validator=valid_generic_secret,
    max_length=512,
    detector="secrets",
)

SECRET_RECOGNIZERS = (
    AWS_ACCESS_KEY, GITHUB_TOKEN, GITLAB_TOKEN, SLACK_TOKEN, STRIPE_KEY, ANTHROPIC_API_KEY, OPENAI_API_KEY,
    PRIVATE_KEY, JWT, URL_WITH_CREDENTIALS, GENERIC_SECRET,
)
