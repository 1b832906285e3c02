"""Jurisdiction presets: entity sets and actions."""

from __future__ import annotations

import pytest

from deepsentinel.detection import DetectionEngine
from deepsentinel.errors import ConfigurationError
from deepsentinel.policy import CompliancePolicy, evaluate_policies
from deepsentinel.policy.actions import Action
from deepsentinel.policy.presets import PRESETS, ccpa, gdpr, hipaa, pci_dss, preset

ENGINE = DetectionEngine(cache_size=0)


def _actions(policy: CompliancePolicy, text: str) -> dict[str, Action]:
    decision = policy.evaluate(ENGINE.scan(text))
    return {v.type: v.action for v in decision.violations}


def test_presets_mapping_builds_named_policies() -> None:
    """PRESETS maps each name to a factory of a CompliancePolicy with that name."""
    assert set(PRESETS) == {"gdpr", "hipaa", "pci_dss", "ccpa"}
    for name, factory in PRESETS.items():
        policy = factory()
        assert isinstance(policy, CompliancePolicy) and policy.name == name and policy.entities


def test_every_preset_entity_is_one_the_engine_knows() -> None:
    """Preset entity sets only name entity types the catalog (or the optional NER) can report."""
    known = ENGINE.entities | {"PERSON"}
    for factory in PRESETS.values():
        assert factory().entities <= known  # type: ignore[operator]


def test_hipaa_anonymizes_phi_and_blocks_ssn() -> None:
    """HIPAA: record numbers and dates of birth anonymized, SSNs blocked, card numbers out of scope."""
    actions = _actions(hipaa(), "MRN: 12345678, DOB: 03/15/1985, card 4111 1111 1111 1111")
    assert actions == {"MEDICAL_RECORD_NUMBER": Action.ANONYMIZE, "DATE_OF_BIRTH": Action.ANONYMIZE}
    assert _actions(hipaa(), "SSN 536-22-1234") == {"US_SSN": Action.BLOCK}


def test_pci_dss_blocks_cards_and_cvv_and_masks_expiry() -> None:
    """PCI DSS: PAN and CVV blocked, expiry anonymized (mask strategy), nothing else in scope."""
    policy = pci_dss()
    actions = _actions(policy, "card 4111 1111 1111 1111 exp 08/27 CVV 123, mail jane@example.com")
    assert actions == {"CREDIT_CARD": Action.BLOCK, "CARD_EXPIRY": Action.ANONYMIZE, "CVV": Action.BLOCK}
    assert policy.anonymization_strategy == "mask"


def test_gdpr_anonymizes_contact_data_and_ignores_secrets() -> None:
    """GDPR: e-mail anonymized, IBAN blocked, API keys not its business."""
    text = "mail jane@example.com IBAN GB82 WEST 1234 5698 7654 32 key " + "AKIA" + "Q3VZ7RTMWK2LPX4N"
    assert _actions(gdpr(), text) == {"EMAIL_ADDRESS": Action.ANONYMIZE, "IBAN_CODE": Action.BLOCK}


def test_ccpa_blocks_sensitive_personal_information() -> None:
    """CCPA: SSN blocked, phone anonymized."""
    assert _actions(ccpa(), "SSN 536-22-1234 call (415) 555-2671") == {
        "US_SSN": Action.BLOCK, "PHONE_NUMBER": Action.ANONYMIZE}


def test_presets_combine_with_strictest_action_winning() -> None:
    """hipaa + pci_dss: the card is blocked (PCI) although HIPAA ignores it."""
    decision = evaluate_policies([hipaa(), pci_dss()], ENGINE.scan("MRN: 12345678 card 4111 1111 1111 1111"))
    assert decision.action is Action.BLOCK
    assert {v.type for v in decision.violations} == {"MEDICAL_RECORD_NUMBER", "CREDIT_CARD"}


def test_preset_lookup_and_overrides() -> None:
    """preset() accepts loose names and keyword overrides; unknown names are configuration errors."""
    assert preset("PCI-DSS").name == "pci_dss"
    assert preset("gdpr", block_on_violation=False).block_on_violation is False
    with pytest.raises(ConfigurationError):
        preset("sox")


def test_compliance_engine_scans_and_decides_with_custom_patterns() -> None:
    """ComplianceEngine builds its engine from the policies' custom patterns and applies all policies."""
    from deepsentinel.detection.compliance_engine import ComplianceEngine

    engine = ComplianceEngine([hipaa(), {"name": "corp", "custom_patterns": {"employee_id": r"EMP\d{6}"}}])
    decision = engine.check("MRN: 12345678, badge EMP123456")
    actions = {v.type: v.action for v in decision.violations}
    assert actions["EMPLOYEE_ID"] is Action.BLOCK and decision.action is Action.BLOCK
    assert engine.check("MRN: 12345678").action is Action.ANONYMIZE  # HIPAA anonymizes; "corp" only logs it
