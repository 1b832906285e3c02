"""Protected health information (HIPAA): record numbers, health plan IDs, provider identifiers."""

from __future__ import annotations

from deepsentinel.detection.findings import Category, Severity
from deepsentinel.detection.recognizer import Pattern, PatternRecognizer
from deepsentinel.detection.recognizers.fragments import (
    BARE_AFTER,
    BARE_SCORE,
    NUM_AFTER,
    NUM_BEFORE,
    WORD_AFTER,
    WORD_BEFORE,
)
from deepsentinel.detection.validators import valid_dea, valid_npi

MEDICAL_RECORD_NUMBER = PatternRecognizer(
    "MEDICAL_RECORD_NUMBER", Category.PHI, Severity.HIGH,
    (Pattern("id after an MRN word", r"[A-Z]{0,3}-?[0-9]{5,12}", 0.9, WORD_BEFORE, WORD_AFTER,
             requires_context=True),),
    context=("mrn", "medical record", "medical record number", "medical record no",
             "med rec", "med rec no", "record number", "record no", "patient id",
             "patient number", "patient no", "chart", "chart number", "hospital number", "hospital id",
             "hospital no", "health record", "ehr", "emr", "case record"),
    context_window=32,
    max_length=16,
    detector="phi",
)

# Medicare Beneficiary Identifier: 11 characters, letters from a restricted alphabet at fixed positions.
_MBI_L = "[AC-HJKMNP-RT-Y]"
_MBI = rf"[1-9]{_MBI_L}[AC-HJKMNP-RT-Y0-9][0-9]-?{_MBI_L}[AC-HJKMNP-RT-Y0-9][0-9]-?{_MBI_L}{{2}}[0-9]{{2}}"

HEALTH_PLAN_ID = PatternRecognizer(
    "HEALTH_PLAN_ID", Category.PHI, Severity.HIGH,
    (
        Pattern("Medicare MBI", f"(?i:{_MBI})", 0.8, WORD_BEFORE, WORD_AFTER),
        Pattern("member id after a plan word", r"[A-Z]{1,4}-?[0-9]{6,12}|[0-9]{8,12}", 0.9, WORD_BEFORE, WORD_AFTER,
                requires_context=True),
    ),
    context=("member id", "member number", "member no", "subscriber id", "subscriber number", "policy number",
             "policy no", "insurance id", "insurance number", "health plan", "plan id", "medicare", "medicaid",
             "beneficiary", "mbi", "group number", "insurance"),
    context_window=32,
    max_length=16,
    detector="phi",
)

NPI = PatternRecognizer(
    "NPI", Category.PHI, Severity.MEDIUM,
    (Pattern("10 digits after NPI", r"[12][0-9]{9}", 0.95, NUM_BEFORE, NUM_AFTER, requires_context=True),),
    validator=valid_npi,
    context=("npi", "national provider", "national provider identifier", "provider id", "provider identifier",
             "provider number", "prescriber"),
    context_window=32,
    max_length=10,
    detector="phi",
)

DEA_NUMBER = PatternRecognizer(
    "DEA_NUMBER", Category.PHI, Severity.MEDIUM,
    (Pattern("DEA registration", r"[ABCDEFGHJKLMPRSTUX][A-Z9][0-9]{7}", 0.75, WORD_BEFORE, WORD_AFTER),),
    validator=valid_dea,
    context=("dea", "dea number", "dea no", "registration", "prescriber"),
    context_boost=0.2,
    max_length=9,
    detector="phi",
)

# Opt-in (``recognizers.BARE_NUMBER_RECOGNIZERS``): an NPI alone, whose only mark is Luhn over "80840".
WEAK_NPI = PatternRecognizer(
    "NPI", Category.PHI, Severity.MEDIUM,
    (Pattern("10 digits or 4-3-3", r"[12][0-9]{3}(?:[0-9]{6}|-[0-9]{3}-[0-9]{3}| [0-9]{3} [0-9]{3})", BARE_SCORE,
             NUM_BEFORE, BARE_AFTER),),
    validator=valid_npi, max_length=12, detector="phi",
)

PHI_RECOGNIZERS = (MEDICAL_RECORD_NUMBER, HEALTH_PLAN_ID, NPI, DEA_NUMBER)

