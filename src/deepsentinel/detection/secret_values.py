"""Is this value a real credential? Placeholders, dummies, code and documentation examples are not.

Three questions, asked by the secret recognizers:

* :func:`is_placeholder`: ``AKIAIOSFODNN7EXAMPLE``, ``ghp_xxxx...``, ``xoxb-xxxxxxxx``, ``<your-token>``,
  ``${API_KEY}``, ``changeme``: values published in documentation or written to be replaced;
* :func:`looks_like_code`: ``api_key=api_key``, ``token=self.token``, ``password: Optional[str]``: an
  identifier, an attribute, a call or a type where a literal would be;
* :func:`random_enough`: the Shannon entropy and character classes of a made-up string.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter

__all__ = ["is_placeholder", "looks_like_code", "random_enough", "shannon_entropy", "valid_literal_secret",
           "valid_bare_secret", "valid_env_secret", "valid_vendor_token"]

# Words that mark a value as written to be replaced, or as the documentation's own example.
_DUMMY_WORDS = re.compile(
    r"(?i)example|sample|dummy|demo|placeholder|redacted|changeme|change_me|replace|insert|your[_\-]?|my[_\-]?(?:api|"
    r"secret|token|key|pass)|fake|test[_\-]?(?:key|token|secret|password)|xxxx|\*\*\*|\.\.\.|<[^>]*>|\$\{|\{\{|"
    r"%\(|\{[A-Za-z_][^}]*\}|todo|fixme|not[_\-]?a[_\-]?real|lorem|abcdef(?:gh)?|abc123|#{4,}|0123456|123456789|qwerty|secret[_\-]?here|"
    r"here[_\-]?is|goes[_\-]?here"
)
_ONLY_FILLER = re.compile(r"(?i)^(?:[x*.#_\-0]+|\[[^\]]*\])$")
_ENV_REFERENCE = re.compile(r"^(?:\$[A-Za-z_{(]|%[A-Za-z_]+%$|os\.environ|process\.env|env\(|getenv)")
_PLAIN_WORDS = frozenset({
    "none", "null", "nil", "true", "false", "undefined", "password", "secret", "token", "string", "required",
    "optional", "hidden", "masked", "empty", "default", "unknown", "bearer", "basic", "prompt", "stdin",
})


# Keys published as examples that their owners say are not secret (the Firebase Android SDK's sample Google API
# keys, which gitleaks also allows), kept as truncated SHA-256 digests so no scanner reads them here as keys.
_PUBLISHED_EXAMPLES = frozenset({
    "0b476bdf9acf2123", "2037abcaffb2b777", "27a9a42931dff7eb", "37f8f09bdf12c2f2", "3a8b61d0f636b007",
    "3f370c9dd8225c63", "49f777db995e8260", "4c98242dcadc8b29", "8731261cb72d8626", "a19f89ab3555eac1",
    "a6c814bc555ae62c", "dc0fcf046c61640c", "e4a5542bb7fd7b67", "ea9bb1082cf95663", "eb540d2b6ee2a0a4",
    "f56e323494a6ffc2",
})


def shannon_entropy(value: str) -> float:
    """Bits per character."""
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values()) if n else 0.0


def _classes(value: str) -> int:
    return (any(c.islower() for c in value) + any(c.isupper() for c in value) + any(c.isdigit() for c in value)
            + any(not c.isalnum() for c in value))


def is_placeholder(value: str) -> bool:
    """A documentation example, a template variable or a run of filler characters."""
    raw, value = value, value.rstrip(".,;:!?")
    if hashlib.sha256(value.encode()).hexdigest()[:16] in _PUBLISHED_EXAMPLES:
        return True
    if len(value) < 3 or value.lower() in _PLAIN_WORDS or _ONLY_FILLER.match(value) or _ENV_REFERENCE.match(value):
        return True
    body = value.split("_", 1)[-1] if re.match(r"^[a-z]{2,6}_", value) else value
    # One character repeated for most of the value: "ghp_xxxxxxxx...", "sk_live_0000000000".
    if body and Counter(body).most_common(1)[0][1] >= max(6, len(body) * 0.6):
        return True
    return _DUMMY_WORDS.search(raw) is not None or _sequential(value)


def _sequential(value: str) -> bool:
    """Mostly runs of consecutive letters or digits, case ignored: "AbCeFG123" is typed, not generated."""
    v = value.lower()
    if len(v) < 6:
        return False
    steps = sum(ord(b) - ord(a) == 1 for a, b in zip(v, v[1:], strict=False))
    return steps >= 0.6 * (len(v) - 1)


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEBAB = re.compile(r"^[a-z]+(?:-[a-z]+)+$")
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$")
_CODE_CHARS = re.compile(r"[()\[\]{}]|^[&*@]|->|::")


def looks_like_code(value: str) -> bool:
    """An identifier, attribute path, call, subscript or type where a literal would be."""
    if _CODE_CHARS.search(value) or _DOTTED.match(value):
        return True
    # A bare word without digits is a variable or a constant (``api_key``, ``ClientSecret``, ``API_TOKEN``).
    # So is a kebab-case name (``x-api-key``, ``openai-organization``).
    return bool(_IDENTIFIER.match(value) or _KEBAB.match(value)) and not any(c.isdigit() for c in value)


def random_enough(value: str, *, min_entropy: float = 2.5) -> bool:
    """Mixed character classes with some entropy, or high entropy alone (a closing full stop is prose)."""
    value = value.rstrip(".,;:!?")
    h = shannon_entropy(value)
    return (_classes(value) >= 2 and h >= min_entropy) or h >= 3.5


def valid_literal_secret(value: str) -> bool:
    """A quoted literal or an ``.env`` value next to a secret-like name."""
    return not is_placeholder(value) and not _names_itself(value) and random_enough(value)


def valid_bare_secret(value: str) -> bool:
    """An unquoted value in code or YAML: also must not read as an identifier or an expression."""
    return valid_literal_secret(value) and not looks_like_code(value)


def valid_env_secret(value: str) -> bool:
    """A ``NAME=value`` line (``.env``, properties): a bare word may be a password, an expression may not."""
    return valid_literal_secret(value) and not (_CODE_CHARS.search(value) or _DOTTED.match(value))


def valid_vendor_token(value: str) -> bool:
    """A token with a vendor prefix: not a documentation placeholder, and not one character repeated."""
    return not is_placeholder(value) and shannon_entropy(value) >= 2.5


_SECRET_NAME = re.compile(r"(?i)(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_\-]?key|credentials?|auth)")


def _names_itself(value: str) -> bool:
    # ``password=password``, ``"OPENAI_API_KEY": "openai_api_key"``: the value is the name of a secret.
    return bool(_IDENTIFIER.match(value)) and _SECRET_NAME.search(value) is not None
