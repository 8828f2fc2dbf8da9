"""Relevo: change the AI models behind citizen services without breaking them."""

__version__ = "0.1.0"
