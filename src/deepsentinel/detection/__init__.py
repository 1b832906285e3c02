"""Detection: find sensitive values in text. Pure, no I/O.

>>> from deepsentinel.detection import scan
>>> scan("my SSN is 123-45-6789").types()  # deepsentinel: allow
['US_SSN']
"""

from deepsentinel.detection.cache import CacheInfo, ScanCache
from deepsentinel.detection.detectors import PCIDetector, PHIDetector, PIIDetector, SecretDetector
from deepsentinel.detection.engine import DetectionEngine, default_engine, resolve_overlaps, scan
from deepsentinel.detection.findings import Category, Finding, ScanResult, Severity
from deepsentinel.detection.normalizer import Normalized, normalize
from deepsentinel.detection.pattern_matcher import PatternMatcher
from deepsentinel.detection.recognizer import Pattern, PatternRecognizer

__all__ = [
    "CacheInfo", "Category", "DetectionEngine", "Finding", "Normalized", "PCIDetector", "PHIDetector",
    "PIIDetector", "Pattern", "PatternMatcher", "PatternRecognizer", "ScanCache", "ScanResult", "SecretDetector",
    "Severity", "default_engine", "normalize", "resolve_overlaps", "scan",
]
