"""The error a loaded model raises when it cannot answer as its spec says."""

from relevo.errors import RelevoError


class ModelFailure(RelevoError):
    """A model that failed at predict time: it crashed, timed out, or answered outside its signature."""


class InvalidOutput(ModelFailure):
    """A model that answered, but outside its signature (an unknown label, a bad probability)."""
