"""Turn gitleaks' rule examples into ``gitleaks.jsonl`` (facts only: their test strings, none of their code).

    python benchmarks/peers/extract_gitleaks.py /path/to/gitleaks-checkout

Each rule in ``cmd/generate/config/rules/*.go`` lists true positives (``tps``) and false positives (``fps``):
string literals, plus ``GenerateSampleSecrets(identifier, secret)`` calls that put a secret made from a regex
into the assignment syntaxes gitleaks tests (INI, JSON, XML, YAML, C#, Go, Java, Kotlin, PHP, Python, Make...).
We keep the literals as they are and make one random secret per call (fixed seed) in each of those syntaxes.
Texts are stored base64-encoded so that secret scanners stay quiet on the data file.
"""

from __future__ import annotations

import base64
import json
import random
import re
import sys
from pathlib import Path

from regex_sample import sample

OUT = Path(__file__).resolve().parent / "data" / "gitleaks.jsonl"

# The syntaxes of gitleaks' GenerateSampleSecrets ({i}: identifier, {I}: upper case, {s}: secret).
SYNTAXES = (
    '{i}Token="{s}"', '{i}Token = "{s}"', "{i}Token={s}", "{i}Token = {s}", '{{\n    "{i}_token": "{s}"\n}}',
    '{{"config.ini": "{I}_TOKEN={s}\\nBACKUP_ENABLED=true"}}', "<{i}Token>\n    {s}\n</{i}Token>",
    "{i}_token: {s}", "{i}_token: '{s}'", '{i}_token: "{s}"', 'string {i}Token = "{s}";',
    'var {i}Token string = "{s}"', '{i}Token := "{s}"', "{i}Token := `{s}`", 'String {i}Token = "{s}";',
    'var {i}Token = "{s}"', '${i}Token .= "{s}"', "{i}Token = '{s}'", '{i}Token = "{s}"',
    'System.setProperty("{I}_TOKEN", "{s}")', '  "{i}Token" => "{s}"', '{I}_TOKEN = "{s}"', '{I}_TOKEN := "{s}"',
    '{I}_TOKEN ::= "{s}"', '{I}_TOKEN :::= "{s}"', '{I}_TOKEN ?= "{s}"',
)
_HELPERS = {
    "Numeric": "[0-9]{%s}", "Hex": "[a-f0-9]{%s}", "AlphaNumeric": "[a-z0-9]{%s}",
    "AlphaNumericExtendedShort": "[a-z0-9_-]{%s}", "AlphaNumericExtended": "[a-z0-9=_\\-]{%s}",
    "AlphaNumericExtendedLong": "[a-z0-9\\/=_\\+\\-]{%s}",
}
_LITERAL = re.compile(r'`([^`]*)`|"((?:[^"\\\n]|\\.)*)"')


def _go_string(m: re.Match[str]) -> str:
    raw, interpreted = m.group(1), m.group(2)
    if raw is not None:
        return raw
    return json.loads('"' + interpreted.replace("\\'", "'") + '"')


def _split_top(expr: str, sep: str) -> list[str]:
    parts, depth, cur, i = [], 0, [], 0
    while i < len(expr):
        m = _LITERAL.match(expr, i)
        if m:
            cur.append(m.group(0))
            i = m.end()
            continue
        c = expr[i]
        depth += c in "([{"
        depth -= c in ")]}"
        if c == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def _call_args(text: str, open_paren: int) -> tuple[str, int]:
    """The argument text of the call whose "(" is at ``open_paren``, and the index after its ")"."""
    depth, i = 0, open_paren
    while i < len(text):
        m = _LITERAL.match(text, i)
        if m:
            i = m.end()
            continue
        depth += text[i] == "("
        depth -= text[i] == ")"
        if depth == 0:
            return text[open_paren + 1:i], i + 1
        i += 1
    raise ValueError("unbalanced call")


def _as_regex(expr: str) -> str:
    out = []
    for term in _split_top(expr, "+"):
        lit = _LITERAL.fullmatch(term)
        helper = re.fullmatch(r'utils\.(\w+)\((?:"([^"]*)")?\)', term)
        if lit:
            out.append(_go_string(lit))
        elif helper and helper.group(1) in _HELPERS:
            out.append(_HELPERS[helper.group(1)] % helper.group(2))
        elif helper and helper.group(1) == "Hex8_4_4_4_12":
            out.append("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
        else:
            raise ValueError(f"cannot read {term!r}")
    return "".join(out)


def _secret(expr: str, rng: random.Random) -> str:
    out = []
    for term in _split_top(expr, "+"):
        lit = _LITERAL.fullmatch(term)
        if lit:
            out.append(_go_string(lit))
        elif term.startswith("secrets.NewSecret("):
            out.append(sample(_as_regex(_call_args(term, term.index("("))[0]), rng))
        else:
            raise ValueError(f"cannot read {term!r}")
    return "".join(out)


def extract(rules_dir: Path) -> list[dict[str, str]]:
    rng = random.Random(20261126)
    cases: list[dict[str, str]] = []
    for path in sorted(rules_dir.glob("*.go")):
        source = path.read_text()
        for chunk in re.split(r"\nfunc ", source)[1:]:
            rule = re.search(r'RuleID:\s*"([^"]+)"', chunk)
            start = re.search(r"\b[tf]ps\s*(?::=|=)", chunk)
            if rule is None or start is None:
                continue
            body, label, i = chunk[start.start():], "tp", 0
            while i < len(body):
                marker = re.match(r"\b([tf])ps\b", body[i:])
                if marker and (i == 0 or not body[i - 1].isalnum()):
                    label = marker.group(1) + "p"
                call = re.match(r"utils\.GenerateSampleSecrets?\(", body[i:])
                if call:
                    args, i = _call_args(body, i + call.end() - 1)
                    ident_expr, secret_expr = _split_top(args, ",")[:2]
                    try:
                        ident, secret = _go_string(_LITERAL.fullmatch(ident_expr)), _secret(secret_expr, rng)  # type: ignore[arg-type]
                    except (ValueError, TypeError, re.error) as exc:
                        print(f"skip {rule.group(1)}: {exc}", file=sys.stderr)
                        continue
                    for syntax in SYNTAXES if "Secrets(" in call.group(0) else ('{i}_api_token = "{s}"',):
                        text = syntax.format(i=ident, I=ident.upper(), s=secret)
                        cases.append({"rule": rule.group(1), "label": label, "syntax": syntax, "text": text})
                    continue
                lit = _LITERAL.match(body, i)
                if lit:
                    # A literal concatenated with a variable is only part of a case: skipped.
                    joined = re.search(r"\+\s*$", body[max(0, i - 10):i]) or re.match(r"\s*\+", body[lit.end():])
                    short = lit.end() - lit.start() < 10  # a length or count argument, not a case
                    if not joined and not short and not re.search(r"(?:Sprintf|Replace|MustCompile|NewSecret|Keywords)\(\s*$|"
                                                    r"//[^\n]*$", body[max(0, i - 60):i]):
                        cases.append({"rule": rule.group(1), "label": label, "syntax": "literal",
                                      "text": _go_string(lit)})
                    i = lit.end()
                    continue
                if body.startswith("return utils.Validate", i):
                    break
                i += 1
    return cases


def main() -> None:
    cases = extract(Path(sys.argv[1]) / "cmd" / "generate" / "config" / "rules")
    OUT.parent.mkdir(exist_ok=True)
    with OUT.open("w") as fh:
        for case in cases:
            text = case.pop("text")
            case["text_b64"] = base64.b64encode(text.encode()).decode()
            fh.write(json.dumps(case, sort_keys=True) + "\n")
    print(f"{len(cases)} cases -> {OUT}")


if __name__ == "__main__":
    main()
