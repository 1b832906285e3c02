"""The built-in entity catalog, one module per family."""

from __future__ import annotations

from deepsentinel.detection.recognizer import PatternRecognizer
from deepsentinel.detection.recognizers.contact import CONTACT_RECOGNIZERS
from deepsentinel.detection.recognizers.identity import IDENTITY_RECOGNIZERS
from deepsentinel.detection.recognizers.national_ids import NATIONAL_ID_RECOGNIZERS
from deepsentinel.detection.recognizers.pci import PCI_RECOGNIZERS
from deepsentinel.detection.recognizers.phi import PHI_RECOGNIZERS
from deepsentinel.detection.recognizers.secrets import SECRET_RECOGNIZERS

BUILTIN_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    SECRET_RECOGNIZERS + PCI_RECOGNIZERS + IDENTITY_RECOGNIZERS + NATIONAL_ID_RECOGNIZERS + PHI_RECOGNIZERS + CONTACT_RECOGNIZERS
)

__all__ = ["BUILTIN_RECOGNIZERS", "CONTACT_RECOGNIZERS", "IDENTITY_RECOGNIZERS", "NATIONAL_ID_RECOGNIZERS", "PCI_RECOGNIZERS",
           "PHI_RECOGNIZERS", "SECRET_RECOGNIZERS"]
