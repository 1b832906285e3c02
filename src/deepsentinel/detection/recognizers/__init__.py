"""The built-in entity catalog, one module per family."""

from __future__ import annotations

from deepsentinel.detection.recognizer import PatternRecognizer
from deepsentinel.detection.recognizers.contact import CONTACT_RECOGNIZERS
from deepsentinel.detection.recognizers.crypto import CRYPTO_RECOGNIZERS
from deepsentinel.detection.recognizers.german_ids import GERMAN_ID_RECOGNIZERS
from deepsentinel.detection.recognizers.identity import IDENTITY_RECOGNIZERS, WEAK_IDENTITY_RECOGNIZERS
from deepsentinel.detection.recognizers.licences_and_tins import LICENCE_AND_TIN_RECOGNIZERS
from deepsentinel.detection.recognizers.national_ids import (
    NATIONAL_ID_RECOGNIZERS,
    WEAK_NATIONAL_ID_RECOGNIZERS,
)
from deepsentinel.detection.recognizers.pci import PCI_RECOGNIZERS
from deepsentinel.detection.recognizers.phi import PHI_RECOGNIZERS, WEAK_NPI
from deepsentinel.detection.recognizers.secrets import SECRET_RECOGNIZERS
from deepsentinel.detection.recognizers.vehicles import VEHICLE_RECOGNIZERS

BUILTIN_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    SECRET_RECOGNIZERS + PCI_RECOGNIZERS + IDENTITY_RECOGNIZERS + NATIONAL_ID_RECOGNIZERS + GERMAN_ID_RECOGNIZERS
    + LICENCE_AND_TIN_RECOGNIZERS + PHI_RECOGNIZERS + CONTACT_RECOGNIZERS + CRYPTO_RECOGNIZERS + VEHICLE_RECOGNIZERS
)

# Not in the catalog: plain 9-13 digit runs whose only mark is a mod-10 or mod-11 check (TFN, ACN, SIN, ABA,
# ITIN, NHS, Medicare, NPI, KR BRN, orgnr, Aadhaar, Thai ID, Korean numbers without their hyphen). A third of
# all random 9- and 10-digit numbers and of Unix timestamps pass one of them (benchmarks/peers/bare_numbers.py),
# so they are opt-in, for text known to hold identifiers:
#     DetectionEngine(BUILTIN_RECOGNIZERS + BARE_NUMBER_RECOGNIZERS)
# Each is reported at 0.5 (never blocking alone, outranked by any labelled finding).
BARE_NUMBER_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    WEAK_IDENTITY_RECOGNIZERS + WEAK_NATIONAL_ID_RECOGNIZERS + (WEAK_NPI,)
)

__all__ = ["BARE_NUMBER_RECOGNIZERS", "BUILTIN_RECOGNIZERS", "CONTACT_RECOGNIZERS", "CRYPTO_RECOGNIZERS",
           "GERMAN_ID_RECOGNIZERS", "IDENTITY_RECOGNIZERS", "LICENCE_AND_TIN_RECOGNIZERS", "NATIONAL_ID_RECOGNIZERS", "PCI_RECOGNIZERS",
           "PHI_RECOGNIZERS", "SECRET_RECOGNIZERS", "VEHICLE_RECOGNIZERS"]
