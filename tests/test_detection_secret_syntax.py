"""Secrets named by their key in every common syntax; placeholders, dummies and code are not secrets."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import openai
import pytest

import deepsentinel
from deepsentinel.detection import DetectionEngine
from deepsentinel.detection.findings import Category

ENGINE = DetectionEngine()
# Assembled at run time so secret scanners stay quiet on this file.
V = "q8Rk" + "2vLx" + "9TmW"

FOUND = [
    ('snake case', f'db_password = "{V}"'),
    ('camelCase', f'zendeskToken = "{V}"'),
    ('camelCase, JS const', f'const stripeApiKey = "{V}";'),
    ('kebab case YAML', f"x-api-key: {V}"),
    ('upper case .env', f"AWS_SECRET_ACCESS_KEY={V}"),
    ('.env with export', f"export GITHUB_TOKEN={V}"),
    ('JSON', f'{{"client_secret": "{V}"}}'),
    ('TOML', f'api_key = "{V}"'),
    ('YAML', f"password: {V}"),
    ('properties', f"spring.datasource.password={V}"),
    ('XML element', f"<password>{V}</password>"),
    ('XML attribute', f'<add key="x" apiKey="{V}"/>'),
    ('Go', f'authToken := "{V}"'),
    ('CLI flag', f"mytool --api-key {V}"),
    ('CLI flag with =', f"mytool --password={V}"),
    ('curl -u', f"curl -u admin:{V} https://api.internal"),
    ('bearer header', f"Authorization: Bearer {V}{V}"),
    ('basic header', "Authorization: Basic " + base64.b64encode(f"admin:{V}".encode()).decode()),
    ('connection string', f"Server=db;User Id=sa;Password={V};"),
    ('prose', f"the wifi password is {V}"),
    ('camelCase in a wide identifier', f'self.refreshToken = "{V}"'),
]


@pytest.mark.parametrize("text", [t for _, t in FOUND], ids=[n for n, _ in FOUND])
def test_secret_named_by_its_key_is_found(text: str) -> None:
    """A secret value after a secret-like name is found, whatever the syntax."""
    spans = [text[f.start:f.end] for f in ENGINE.scan(text).findings if f.category is Category.SECRET]
    basic = base64.b64encode(f"admin:{V}".encode()).decode()
    assert spans and all(V in s or s == basic for s in spans), spans


NOT_FOUND = [
    ("identifier", "client = OpenAI(api_key=api_key)"),
    ("same name", "password=password"),
    ("attribute", "token=self.token"),
    ("call", 'api_key = os.environ.get("OPENAI_API_KEY")'),
    ("type annotation", "api_key: Optional[str] = None"),
    ("constant", "token = DEFAULT_TOKEN"),
    ("class name", "secret = ClientSecret"),
    ("dict of names", '"OPENAI_API_KEY": "openai_api_key",'),
    ("template", 'password: "${DB_PASSWORD}"'),
    ("angle placeholder", "api_key=<your-api-key>"),
    ("your key here", 'OPENAI_API_KEY="your_api_key_here"'),
    ("stars", 'password = "********"'),
    ("AWS documentation key", "aws_access_key_id = " + "AKIA" + "IOSFODNN7EXAMPLE"),
    ("AWS documentation secret", "aws_secret_access_key=" + "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY"),
    ("GitHub placeholder", "token: " + "ghp_" + "x" * 36),
    ("Slack placeholder", "SLACK_TOKEN=" + "xoxb-" + "x" * 10),
    ("Stripe placeholder", "sk_live_" + "0" * 24),
    ("changeme", "password: changeme"),
    ("f-string", 'token = f"{prefix}{suffix}"'),
    ("doc URL", "postgres://user:password@localhost:5432/db"),
    ("max tokens", "max_tokens: 1000000"),
]


@pytest.mark.parametrize("text", [t for _, t in NOT_FOUND], ids=[n for n, _ in NOT_FOUND])
def test_placeholder_dummy_or_code_is_not_a_secret(text: str) -> None:
    """Documentation placeholders, dummies and code identifiers are not reported as secrets."""
    assert [f.type for f in ENGINE.scan(text).findings if f.category is Category.SECRET] == []


def _secrets_in(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [f"{path}:{f.start}:{f.type}" for f in ENGINE.scan(text).findings
                  if f.category is Category.SECRET]
    return found


@pytest.mark.timeout(120)
@pytest.mark.parametrize("package", [deepsentinel, openai], ids=["deepsentinel", "openai"])
def test_ordinary_source_code_has_no_secrets(package: object) -> None:
    """Scanning this project's src/ and the installed openai SDK reports no secret (the pre-commit hook passes)."""
    root = Path(package.__file__).parent  # type: ignore[attr-defined]
    started = time.monotonic()
    assert _secrets_in(root) == []
    assert time.monotonic() - started < 100
