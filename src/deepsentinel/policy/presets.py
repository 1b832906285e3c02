"""Jurisdiction presets: ready-made policies that select the entity set a regulation cares about.

>>> from deepsentinel.policy.presets import hipaa, pci_dss
>>> client_policies = [hipaa(), pci_dss()]  # several policies: per finding, the strictest action wins

Each factory returns a fresh :class:`CompliancePolicy`; pass keyword overrides to adjust it
(``gdpr(block_on_violation=False)``). The entity sets are a starting point for an engineering control, not legal
advice: they name what each regulation calls personal data, health data or cardholder data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from deepsentinel.errors import ConfigurationError
from deepsentinel.policy.actions import Action
from deepsentinel.policy.policy import CompliancePolicy

__all__ = ["CCPA_ENTITIES", "GDPR_ENTITIES", "HIPAA_ENTITIES", "PCI_ENTITIES", "PRESETS", "ccpa", "gdpr", "hipaa",
           "pci_dss", "preset"]

_CONTACT = frozenset({"PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "STREET_ADDRESS", "IP_ADDRESS", "MAC_ADDRESS"})
_EU_IDS = frozenset({"IBAN_CODE", "UK_NINO", "ES_NIF", "IT_FISCAL_CODE", "FR_NIR", "DE_TAX_ID", "NL_BSN"})
_US_IDS = frozenset({"US_SSN", "US_ITIN", "US_PASSPORT", "US_BANK_ACCOUNT", "US_BANK_ROUTING"})
_HEALTH = frozenset({"MEDICAL_RECORD_NUMBER", "HEALTH_PLAN_ID", "NPI", "DEA_NUMBER", "DATE_OF_BIRTH"})

# GDPR: any personal data; health data is a special category (Art. 9).
GDPR_ENTITIES = _CONTACT | _EU_IDS | _HEALTH | frozenset({"DATE_OF_BIRTH", "CREDIT_CARD", "US_PASSPORT"})
# HIPAA Safe Harbor identifiers that text can carry: names, addresses, dates, phone, e-mail, SSN, record and
# plan numbers, account numbers, device and network identifiers.
HIPAA_ENTITIES = _CONTACT | _HEALTH | frozenset({"US_SSN", "US_BANK_ACCOUNT", "URL_WITH_CREDENTIALS"})
# PCI DSS: cardholder data and sensitive authentication data.
PCI_ENTITIES = frozenset({"CREDIT_CARD", "CVV", "CARD_EXPIRY"})
# CCPA/CPRA: identifiers, and "sensitive personal information" (SSN, passport, account and card numbers, health).
CCPA_ENTITIES = _CONTACT | _US_IDS | _HEALTH | PCI_ENTITIES


def _policy(defaults: dict[str, Any], overrides: dict[str, Any]) -> CompliancePolicy:
    return CompliancePolicy(**{**defaults, **overrides})


def gdpr(**overrides: Any) -> CompliancePolicy:
    """GDPR: identifiers and special-category data blocked, contact data anonymized, secrets left to others."""
    return _policy({
        "name": "gdpr",
        "description": "GDPR: personal data of EU data subjects; identifiers blocked, contact data anonymized.",
        "entities": GDPR_ENTITIES,
        "enable_secret_detection": False,
        "entity_actions": {t: Action.ANONYMIZE for t in _CONTACT | {"DATE_OF_BIRTH"}},
        "anonymization_strategy": "placeholder",
    }, overrides)


def hipaa(**overrides: Any) -> CompliancePolicy:
    """HIPAA: the Safe Harbor identifiers anonymized before they reach a model; SSNs blocked."""
    return _policy({
        "name": "hipaa",
        "description": "HIPAA: protected health information de-identified (Safe Harbor identifiers).",
        "entities": HIPAA_ENTITIES,
        "enable_pci_detection": False,
        "entity_actions": {**{t: Action.ANONYMIZE for t in HIPAA_ENTITIES}, "US_SSN": Action.BLOCK},
        "anonymization_strategy": "placeholder",
    }, overrides)


def pci_dss(**overrides: Any) -> CompliancePolicy:
    """PCI DSS: card numbers and CVVs never leave; expiry dates masked."""
    return _policy({
        "name": "pci_dss",
        "description": "PCI DSS: primary account numbers and sensitive authentication data never sent.",
        "entities": PCI_ENTITIES,
        "enable_pii_detection": False,
        "enable_phi_detection": False,
        "enable_secret_detection": False,
        "entity_actions": {"CREDIT_CARD": Action.BLOCK, "CVV": Action.BLOCK, "CARD_EXPIRY": Action.ANONYMIZE},
        "anonymization_strategy": "mask",
    }, overrides)


def ccpa(**overrides: Any) -> CompliancePolicy:
    """CCPA/CPRA: sensitive personal information blocked, other identifiers anonymized."""
    return _policy({
        "name": "ccpa",
        "description": "CCPA/CPRA: sensitive personal information of California residents.",
        "entities": CCPA_ENTITIES,
        "enable_secret_detection": False,
        "entity_actions": {
            **{t: Action.ANONYMIZE for t in _CONTACT | {"DATE_OF_BIRTH", "US_BANK_ROUTING", "NPI", "DEA_NUMBER"}},
            **{t: Action.BLOCK for t in {"US_SSN", "US_ITIN", "US_PASSPORT", "US_BANK_ACCOUNT", "CREDIT_CARD",
                                          "CVV"}},
        },
        "anonymization_strategy": "placeholder",
    }, overrides)


PRESETS: Mapping[str, Callable[..., CompliancePolicy]] = MappingProxyType(
    {"gdpr": gdpr, "hipaa": hipaa, "pci_dss": pci_dss, "ccpa": ccpa}
)


def preset(name: str, **overrides: Any) -> CompliancePolicy:
    """The preset policy called ``name`` (case-insensitive; ``pci-dss`` and ``pci`` work too)."""
    key = name.strip().lower().replace("-", "_")
    key = {"pci": "pci_dss"}.get(key, key)
    if key not in PRESETS:
        raise ConfigurationError(f"unknown policy preset {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[key](**overrides)
