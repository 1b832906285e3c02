"""Detection: find sensitive values in text. Pure, no I/O."""

from deepsentinel.detection.engine import DetectionEngine, default_engine, scan
from deepsentinel.detection.findings import Category, Finding, ScanResult, Severity

__all__ = ["Category", "DetectionEngine", "Finding", "ScanResult", "Severity", "default_engine", "scan"]
