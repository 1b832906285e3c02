"""Metrics and real-time hooks fed by audit events: Prometheus counters, OpenTelemetry spans, monitors."""

from deepsentinel.metrics.collector import MetricsCollector
from deepsentinel.metrics.monitor import ComplianceMonitor
from deepsentinel.metrics.otel import OTelSink

__all__ = ["ComplianceMonitor", "MetricsCollector", "OTelSink"]
