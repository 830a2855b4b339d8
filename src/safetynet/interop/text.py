"""Text from record systems: what the FHIR import and CDS Hooks refuse alike, and how a number in a URL is read."""

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


def whole_number(text: str) -> int | None:
    """The whole number these ASCII digits spell (a version, an id, ``_count``), or None. ``str.isdigit`` alone
    also accepts digits ``int`` refuses, such as superscript two, which turned a request into a 500."""
    return int(text) if text.isascii() and text.isdigit() else None
