"""Monitoring: what production decisions show about the versions that made them."""

from relevo.monitoring.traffic import Answered, ShadowAgreement, TrafficSummary, traffic_summary

__all__ = ["Answered", "ShadowAgreement", "TrafficSummary", "traffic_summary"]
