"""Identifier sources. Injected, so a synthetic trust made from a seed is identical to the byte."""

from __future__ import annotations

import random
import uuid
from typing import Protocol


class IdSource(Protocol):
    def new_id(self) -> str:
        """A new unique identifier (a UUID in text form)."""
        ...


class RandomIds:
    """UUID4 identifiers for the running product."""

    def new_id(self) -> str:
        return str(uuid.uuid4())


# The RFC 4122 variant and version 4 bits, as uuid.UUID(version=4) sets them.
_CLEAR_VERSION = ~((0xC000 << 48) | (0xF000 << 64))
_VERSION_4 = (0x8000 << 48) | (4 << 76)


class SeededIds:
    """Reproducible UUID4-shaped identifiers for synthetic data and tests."""

    def __init__(self, seed: int | str) -> None:
        self._random = random.Random(f"safetynet-ids:{seed}")  # noqa: S311 (reproducible, not secret)

    def new_id(self) -> str:
        # Exactly str(uuid.UUID(int=bits, version=4)), without building the object: synth makes millions of these.
        bits = (self._random.getrandbits(128) & _CLEAR_VERSION) | _VERSION_4
        text = f"{bits:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
