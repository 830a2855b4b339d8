"""OperationOutcome: how every FHIR error is said (the resource, where in it, and why)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from safetynet.core.errors import Problem
from safetynet.interop.fhir.mapping.base import Issue, Res


def operation_outcome(issues: Iterable[Issue], *, severity: str = "error", prefix: str = "") -> Res:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": severity,
                "code": issue.code,
                "diagnostics": issue.message,
                "expression": [f"{prefix}{issue.expression}"],
            }
            for issue in issues
        ],
    }


def information(message: str) -> Res:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "diagnostics": message}],
    }


def from_validation(kind: str, exc: ValidationError) -> list[Issue]:
    """fhir.resources (pydantic) errors as issues, with the path in the resource."""
    issues = []
    for error in exc.errors():
        path = ".".join(_step(part) for part in error["loc"]).replace(".[", "[")
        issues.append(Issue(f"{kind}.{path}" if path else kind, str(error["msg"]), "structure"))
    return issues


def from_problems(kind: str, problems: Iterable[Problem]) -> list[Issue]:
    return [Issue(f"{kind}.{p.field}", p.message, "business-rule") for p in problems]


def _step(part: Any) -> str:
    return f"[{part}]" if isinstance(part, int) else str(part)
