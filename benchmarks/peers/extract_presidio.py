"""Turn Presidio's recognizer test tables into ``presidio.jsonl`` (their test strings; none of their code).

    python benchmarks/peers/extract_presidio.py /path/to/presidio-checkout

Each ``presidio-analyzer/tests/test_*_recognizer.py`` has a parametrized table ``(text, expected_len,
expected_positions, ...)`` and an ``entities`` fixture naming the entity type. A row with ``expected_len > 0`` is
a positive case with its spans, a row with 0 a negative one. ``OURS`` maps Presidio's entity names to ours;
entity types we have no recognizer for are kept with ``entity: null`` (reported, not counted as supported).
"""

from __future__ import annotations

import ast
import base64
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data" / "presidio.jsonl"

OURS = {
    "ABA_ROUTING_NUMBER": "US_BANK_ROUTING", "US_BANK_NUMBER": "US_BANK_ACCOUNT", "US_MBI": "HEALTH_PLAN_ID",
    "US_NPI": "NPI", "MEDICAL_LICENSE": "DEA_NUMBER",
    **{name: name for name in (
        "CREDIT_CARD", "EMAIL_ADDRESS", "PHONE_NUMBER", "IP_ADDRESS", "MAC_ADDRESS", "IBAN_CODE", "US_SSN",
        "US_ITIN", "US_PASSPORT", "UK_NINO", "UK_NHS", "UK_PASSPORT", "UK_DRIVING_LICENCE", "UK_POSTCODE",
        "IN_PAN", "IN_AADHAAR", "IN_PASSPORT", "IN_VOTER", "IN_GSTIN", "ES_NIF", "ES_NIE", "ES_PASSPORT",
        "IT_FISCAL_CODE", "IT_VAT_CODE", "IT_PASSPORT", "IT_IDENTITY_CARD", "IT_DRIVER_LICENSE", "CA_SIN",
        "DE_TAX_ID", "DE_PASSPORT", "DE_ID_CARD", "DE_VAT_ID", "AU_ABN", "AU_ACN",
        "AU_TFN", "AU_MEDICARE", "SG_NRIC_FIN", "SG_UEN", "KR_RRN", "KR_BRN", "KR_FRN", "PL_PESEL",
        "SE_PERSONNUMMER", "SE_ORGANISATIONSNUMMER", "FI_PERSONAL_IDENTITY_CODE", "TR_NATIONAL_ID",
        "ZA_ID_NUMBER", "TH_TNIN")},
}


def _entity(tree: ast.Module) -> str | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "entities":
            for sub in ast.walk(node):
                if isinstance(sub, ast.Return) and isinstance(sub.value, ast.List) and sub.value.elts:
                    first = sub.value.elts[0]
                    return first.value if isinstance(first, ast.Constant) else None
    return None


def _tables(tree: ast.Module) -> list[tuple[list[str], list[object]]]:
    tables = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        for deco in node.decorator_list:
            if (isinstance(deco, ast.Call) and getattr(deco.func, "attr", "") == "parametrize"
                    and len(deco.args) >= 2 and isinstance(deco.args[0], ast.Constant)):
                names = [n.strip() for n in str(deco.args[0].value).split(",")]
                try:
                    rows = ast.literal_eval(deco.args[1])
                except ValueError:
                    continue
                tables.append((names, rows))
    return tables


def extract(tests_dir: Path) -> list[dict[str, object]]:
    cases: list[dict[str, object]] = []
    for path in sorted(tests_dir.glob("test_*_recognizer.py")):
        tree = ast.parse(path.read_text())
        entity = _entity(tree)
        if entity is None:
            continue
        for names, rows in _tables(tree):
            if not {"text", "expected_len"} <= set(names):
                continue
            for row in rows:
                values = dict(zip(names, row, strict=False))
                text, expected = values["text"], values["expected_len"]
                if not isinstance(text, str) or not isinstance(expected, int):
                    continue
                spans = [list(p) for p in values.get("expected_positions") or () if len(p) == 2]
                cases.append({"key": entity, "entity": OURS.get(entity), "label": "tp" if expected else "fp",
                              "spans": spans, "text": text, "file": path.name})
    return cases


def main() -> None:
    cases = extract(Path(sys.argv[1]) / "presidio-analyzer" / "tests")
    OUT.parent.mkdir(exist_ok=True)
    with OUT.open("w") as fh:
        for case in cases:
            text = str(case.pop("text"))
            case["text_b64"] = base64.b64encode(text.encode()).decode()
            fh.write(json.dumps(case, sort_keys=True) + "\n")
    print(f"{len(cases)} cases -> {OUT}")


if __name__ == "__main__":
    main()
