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


class SeededIds:
    """Reproducible UUID4-shaped identifiers for synthetic data and tests."""

    def __init__(self, seed: int | str) -> None:
        self._random = random.Random(f"safetynet-ids:{seed}")  # noqa: S311 (reproducible, not secret)

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))
