"""Turn Presidio's recognizer test tables into ``presidio.jsonl`` (their test strings; none of their code).

    python benchmarks/peers/extract_presidio.py /path/to/presidio-checkout

Each ``presidio-analyzer/tests/test_*_recognizer.py`` has a parametrized table ``(text, expected_len,
expected_positions, ...)`` and an ``entities`` fixture naming the entity type. A row with ``expected_len > 0`` is
a positive case with its spans, a row with 0 a negative one. ``OURS`` maps Presidio's entity names to ours;
entity types we have no recognizer for are kept with ``entity: null`` (reported, not counted as supported).
``presidio_score`` is the highest score Presidio's own test expects its recognizer to give the case (the top
of ``expected_score_ranges``, or ``expected_score``), before any context word raises it; null where the table
gives none. It tells the cases Presidio itself calls weak (0.05-0.4: a bare shape) from the ones it is sure of.
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
    "US_NPI": "NPI", "MEDICAL_LICENSE": "DEA_NUMBER", "PERSON": "PERSON", "CRYPTO": "CRYPTO",
    "PH_MOBILE_NUMBER": "PHONE_NUMBER", "TR_PHONE_NUMBER": "PHONE_NUMBER",
    **{name: name for name in (
        "CREDIT_CARD", "EMAIL_ADDRESS", "PHONE_NUMBER", "IP_ADDRESS", "MAC_ADDRESS", "IBAN_CODE", "US_SSN",
        "US_ITIN", "US_PASSPORT", "UK_NINO", "UK_NHS", "UK_PASSPORT", "UK_DRIVING_LICENCE", "UK_POSTCODE",
        "IN_PAN", "IN_AADHAAR", "IN_PASSPORT", "IN_VOTER", "IN_GSTIN", "ES_NIF", "ES_NIE", "ES_PASSPORT",
        "IT_FISCAL_CODE", "IT_VAT_CODE", "IT_PASSPORT", "IT_IDENTITY_CARD", "IT_DRIVER_LICENSE", "CA_SIN",
        "DE_TAX_ID", "DE_PASSPORT", "DE_ID_CARD", "DE_VAT_ID", "AU_ABN", "AU_ACN",
        "AU_TFN", "AU_MEDICARE", "SG_NRIC_FIN", "SG_UEN", "KR_RRN", "KR_BRN", "KR_FRN", "PL_PESEL",
        "SE_PERSONNUMMER", "SE_ORGANISATIONSNUMMER", "FI_PERSONAL_IDENTITY_CODE", "TR_NATIONAL_ID",
        "ZA_ID_NUMBER", "TH_TNIN", "DE_SOCIAL_SECURITY", "DE_HEALTH_INSURANCE", "DE_LANR", "DE_HANDELSREGISTER",
        "DE_FUEHRERSCHEIN", "DE_TAX_NUMBER", "DE_PLZ", "KR_PASSPORT", "KR_DRIVER_LICENSE", "PH_TIN",
        "US_DRIVER_LICENSE", "DE_KFZ", "UK_VEHICLE_REGISTRATION", "IN_VEHICLE_REGISTRATION",
        "NG_VEHICLE_REGISTRATION", "TR_LICENSE_PLATE")},
}


def _entities(tree: ast.Module) -> list[str]:
    """The ``entities`` fixture's list (a row's ``entity_num``, where the table has one, indexes it)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "entities":
            for sub in ast.walk(node):
                if isinstance(sub, ast.Return) and isinstance(sub.value, ast.List) and sub.value.elts:
                    return [e.value if isinstance(e, ast.Constant) else "" for e in sub.value.elts]
    return []


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


def _score(values: dict[str, object]) -> float | None:
    """The highest score the row expects of Presidio's recognizer ("max" is its maximum, 1.0)."""
    tops: list[object] = []
    for ranges in (values.get("expected_score_ranges"),):
        if isinstance(ranges, (tuple, list)):
            tops += [r[1] for r in ranges if isinstance(r, (tuple, list)) and len(r) == 2]
    for name in ("expected_score", "expected_scores", "score"):
        value = values.get(name)
        tops += list(value) if isinstance(value, (tuple, list)) else [value]
    numbers = [1.0 if t == "max" else float(t) for t in tops if t == "max" or isinstance(t, (int, float))]
    return max(numbers) if numbers else None


def extract(tests_dir: Path) -> list[dict[str, object]]:
    cases: list[dict[str, object]] = []
    for path in sorted(tests_dir.glob("test_*_recognizer.py")):
        tree = ast.parse(path.read_text())
        entities = _entities(tree)
        if not entities or not entities[0]:
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
                # The NER tests put PERSON and DATE_TIME rows in one table, told apart by entity_num.
                num = values.get("entity_num", 0)
                entity = entities[num] if isinstance(num, int) and 0 <= num < len(entities) else entities[0]
                cases.append({"key": entity, "entity": OURS.get(entity), "label": "tp" if expected else "fp",
                              "spans": spans, "text": text, "file": path.name,
                              "presidio_score": _score(values) if expected else None})
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
