"""Monitoring: what production decisions show about the versions that made them."""

from relevo.monitoring.traffic import traffic_summary

__all__ = ["traffic_summary"]
