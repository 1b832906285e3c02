"""Secrets named by their key: ``password = "..."`` in every common syntax (``GENERIC_SECRET``).

Covered: snake, kebab, camel and upper case names (``db_password``, ``x-api-key``, ``zendeskToken``,
``AWS_SECRET_ACCESS_KEY``); Python/JS/Go assignments, JSON, YAML, TOML, ``.env``, Java properties, XML
elements and attributes; CLI flags (``--password X``, ``curl -u user:pass``); ``Authorization`` headers;
``Password=...;`` in connection strings; prose ("the password is X").

Quoted literals and ``.env`` lines only have to look random (:func:`valid_literal_secret`); an unquoted value
must also not read as code (:func:`valid_bare_secret`), so ``api_key=api_key`` and ``token=self.token`` pass.
"""

from __future__ import annotations

import base64
import binascii
import re

from deepsentinel.detection.findings import Category, Severity
from deepsentinel.detection.recognizer import Pattern, PatternRecognizer
from deepsentinel.detection.secret_values import (
    is_placeholder,
    valid_bare_secret,
    valid_env_secret,
    valid_literal_secret,
)

__all__ = ["ASSIGN", "ASSIGNMENT_RECOGNIZERS"]

# The name: a secret word at the start of an identifier segment (after nothing, "_", "-" or "."), ...
_WORDS = (r"(?i:passwords?|passwd|passphrase|pwd|secret|secret[_\-]?key|client[_\-]?secret|app[_\-]?secret|"
          r"token|access[_\-]?token|auth[_\-]?token|refresh[_\-]?token|bearer[_\-]?token|api[_\-]?token|"
          r"api[_\-]?key|apikey|api[_\-]?secret|access[_\-]?key|secret[_\-]?access[_\-]?key|private[_\-]?key|"
          r"credentials?|auth[_\-]?key|master[_\-]?key|signing[_\-]?key|encryption[_\-]?key|webhook[_\-]?secret)")
# ... or, in camelCase, a capitalised secret word after a lower-case letter or digit ("zendeskToken").
_CAMEL = (r"[a-z0-9](?:Password|Passwd|Passphrase|Pwd|Secret|SecretKey|ClientSecret|Token|AccessToken|AuthToken|"
          r"RefreshToken|ApiToken|ApiKey|APIKey|ApiSecret|AccessKey|PrivateKey|Credentials?|AuthKey|MasterKey)")
# Anti-forgery tokens (Rails' authenticity_token, csrf/xsrf tokens) are sent to every visitor: not secrets.
_NAME_BEFORE = r"(?<![A-Za-z0-9])(?<!authenticity_)(?<!csrf_)(?<!csrf-)(?<!xsrf_)(?<!xsrf-)"
# Optional closing quote of the name, an assignment (":", "=", ":=", "::=", "=>", "?=", ".=", "+="), the value.
# A declared type may stand between the name and the operator (Go ``var t string =``, Kotlin ``val t: String =``).
ASSIGN = (r"[\"']?(?:(?:[ \t]{0,2}:)?[ \t]{1,3}[A-Za-z][A-Za-z0-9_.]{0,20}[ \t]{0,4}=|"
          r"[ \t]{0,4}(?::{1,3}=|=>|[?.+]=|[:=]))[ \t]{0,4}")
_QUOTED = r"[\"'`]([^\s\"'`]{6,200})[\"'`]"
_BARE = r"([^\s\"'`,;<>)\]}]{6,200})"


def _secret(name: str, patterns: tuple[Pattern, ...], validator: object) -> PatternRecognizer:
    return PatternRecognizer("GENERIC_SECRET", Category.SECRET, Severity.CRITICAL, patterns,
                             validator=validator,  # type: ignore[arg-type]
                             max_length=512, detector="secrets")


def _named(body_value: str, score: float, label: str) -> tuple[Pattern, ...]:
    return (
        Pattern(f"{label} (name)", _WORDS + ASSIGN + body_value, score, _NAME_BEFORE, "", group=1),
        Pattern(f"{label} (camelCase name)", _CAMEL + ASSIGN + body_value, score, "", "", group=1),
    )


def _valid_basic(value: str) -> bool:
    """``Authorization: Basic`` carries base64 of ``user:password``."""
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return False
    user, sep, password = decoded.partition(":")
    return bool(sep and re.fullmatch(r"[^\s:{}\"']{1,64}", user) and password) and password.isprintable() and not is_placeholder(password)


LITERAL_SECRET = _secret("literal", (
    *_named(_QUOTED, 0.9, "quoted value"),
    # XML: <password>value</password>, <add key="ApiKey" value="..."/> is handled by the attribute form above.
    Pattern("XML element", r"<(?i:[a-z0-9_.:\-]{0,30}(?:password|passwd|secret|token|api[_\-]?key|apikey|"
                           r"access[_\-]?key|private[_\-]?key|credentials?))>\s{0,12}([^\s<>]{6,200})\s{0,12}</",
            0.9, "", "", group=1),
    # CLI flags: --password X, --api-key=X, -p X is too ambiguous to take.
    Pattern("CLI flag", r"--(?i:[a-z\-]{0,20}(?:password|passwd|secret|token|api-key|apikey|access-key))"
                        r"(?:=|[ \t]{1,3})[\"']?([^\s\"'`]{6,200})", 0.85, "", "", group=1),
    # curl -u user:password, --user user:password.
    Pattern("curl user", r"(?:-u|--user)[ \t]{1,3}[\"']?[A-Za-z0-9_.@\-]{1,64}:([^\s\"'`,;]{4,128})", 0.85,
            r"(?<![A-Za-z0-9\-])", "", group=1),
    # Connection strings: Password=...; Pwd=...;
    Pattern("connection string", r"(?i:password|pwd)=([^;\s\"']{4,128});", 0.9, r"(?<![A-Za-z0-9_])", "",
            group=1),
), valid_literal_secret)

ENV_SECRET = _secret("env", (
    # .env and properties: NAME=value to the end of the line, no spaces around "=".
    Pattern(".env line", r"(?i:[a-z0-9_.\-]{0,40}(?:password|passwd|pwd|secret|token|api[_\-]?key|apikey|"
                         r"access[_\-]?key|private[_\-]?key|credentials?|auth))=([^\s\"'#]{6,200})",
            0.9, r"(?:^|(?<=\n)|(?<=export ))", r"(?=[ \t]*(?:#|\r?\n|$))", group=1),
), valid_env_secret)

BARE_SECRET = _secret("bare", (
    *_named(_BARE, 0.85, "unquoted value"),
    # A call (a tuple of names reads the same, hence the strict check): System.setProperty("API_TOKEN", "value"), config.put('password', 'value').
    Pattern("call argument", _WORDS + r"[\"'][ \t]{0,3},[ \t]{0,3}" + _QUOTED, 0.85, _NAME_BEFORE, "", group=1),
    # Prose: "the wifi password is X", "my password X".
    Pattern("password in a sentence",
            r"(?i:passwords?|passwd|passphrase)(?:[ \t]+(?i:is|was))?[ \t]{1,3}[\"'`]?([^\s\"'`,;<>]{6,128})",
            0.85, r"(?<![A-Za-z])", "", group=1),
), valid_bare_secret)

# Gates: the scheme and the fewest characters its credential has (every match holds them; the long bounded
# runs cost the prefilter a state machine stepping over every byte of every text).
_TOKEN_SCHEME = r"(?i:authorization)[\"']?[ \t]{0,3}[:=][ \t]{0,3}[\"']?(?i:token|apikey|key)[ \t]{1,3}"
_TOKEN_CHAR = r"[A-Za-z0-9._~+/\-]"

AUTH_HEADER = _secret("header", (
    Pattern("bearer token", rf"(?i:bearer)[ \t]{{1,3}}({_TOKEN_CHAR}{{16,512}}=*)", 0.85, r"(?<![A-Za-z])", "",
            group=1, gate=rf"(?i:bearer)[ \t]{{1,3}}{_TOKEN_CHAR}{{16}}"),
    Pattern("token scheme", rf"{_TOKEN_SCHEME}({_TOKEN_CHAR}{{16,512}}=*)", 0.85, r"(?<![A-Za-z])", "", group=1,
            gate=rf"{_TOKEN_SCHEME}{_TOKEN_CHAR}{{16}}"),
), valid_bare_secret)

BASIC_AUTH = _secret("basic", (
    Pattern("basic credentials", r"(?i:basic)[ \t]{1,3}([A-Za-z0-9+/]{8,400}={0,2})", 0.85, r"(?<![A-Za-z])",
            r"(?![A-Za-z0-9+/=])", group=1, gate=r"(?i:basic)[ \t]{1,3}[A-Za-z0-9+/]{8}"),
), _valid_basic)

ASSIGNMENT_RECOGNIZERS = (LITERAL_SECRET, ENV_SECRET, BARE_SECRET, AUTH_HEADER, BASIC_AUTH)
