"""Errors that cross layers. Each says what went wrong in words a user can act on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class SafetynetError(Exception):
    """Base of every error Safetynet raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: where (a dotted field path, with the event index if any) and why."""

    field: str
    message: str
    index: int | None = None

    def __str__(self) -> str:
        where = f"[{self.index}] " if self.index is not None else ""
        return f"{where}{self.field}: {self.message}"


class ValidationFailed(SafetynetError):
    """The input had problems; every one is listed and nothing was written."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s): " + "; ".join(str(p) for p in self.problems))


class NotFound(SafetynetError):
    """A thing asked for by its identifier does not exist (as known at the moment asked)."""


class AppendOnlyViolation(SafetynetError):
    """Someone tried to change or delete a clinical fact in place. Correct it with a new version instead."""
