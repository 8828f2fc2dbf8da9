"""Monitoring: what production decisions show about the versions that made them."""
