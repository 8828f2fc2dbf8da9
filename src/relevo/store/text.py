"""What the store can hold as text: the one rule every use case applies before it writes a string."""

from __future__ import annotations

from relevo.errors import InvalidInput


def text_problem(value: str) -> str | None:
    """Why value cannot be stored and echoed as text, or None."""
    # PostgreSQL refuses NUL in text, and lone surrogates cannot be encoded as UTF-8: JSON allows
    # both, and one such value would fail the whole transaction (or group commit) it travels in.
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (it contains a lone surrogate)"
    return None


def storable_text(name: str, value: str, *, required: bool = False) -> str:
    """value, or InvalidInput naming the field when it cannot be stored (or is blank and required)."""
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text, got {type(value).__name__}")
    if problem := text_problem(value):
        raise InvalidInput(f"{name} {problem}")
    if required and not value.strip():
        raise InvalidInput(f"{name} must not be blank")
    return value
