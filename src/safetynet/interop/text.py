"""Text that no record system may send: what the FHIR import and CDS Hooks refuse alike."""

from __future__ import annotations

from typing import Any

NUL_MESSAGE = "text must not contain NUL characters (U+0000)"


def has_nul(value: Any) -> bool:
    """Does any text in this JSON value (keys included) hold a NUL character? No text in the record may hold one
    (PostgreSQL refuses them), so input holding one is refused where it arrives, never failing further in."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(has_nul(item) for item in value)
    return False
