"""The hazard log (docs/clinical-safety/hazard-log.md): at least 15 hazards, each with causes, effects, controls, risk
before and after, and tests; and every test it names exists (collected by pytest, so a renamed or deleted test
fails here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOG = ROOT / "docs" / "clinical-safety" / "hazard-log.md"
HAZARD = re.compile(r"^## (H\d\d) (.+)$", re.MULTILINE)
NODE = re.compile(r"`(tests/[\w/]+\.py::\w+)`")


def _hazards() -> dict[str, str]:
    text = LOG.read_text(encoding="utf-8")
    found = list(HAZARD.finditer(text))
    return {
        match.group(1): text[match.end() : found[i + 1].start() if i + 1 < len(found) else len(text)]
        for i, match in enumerate(found)
    }


def test_the_log_has_at_least_15_hazards_each_with_causes_effects_controls_risk_and_tests() -> None:
    hazards = _hazards()
    assert len(hazards) >= 15
    for ident, body in hazards.items():
        for part in ("**Causes**", "**Effects**", "**Controls**", "**Risk**", "**Tests**"):
            assert part in body, f"{ident} has no {part}"
        assert "before" in body
        assert "after" in body
        assert NODE.search(body), f"{ident} names no test"


def test_the_summary_lists_every_hazard() -> None:
    text = LOG.read_text(encoding="utf-8")
    summary = set(re.findall(r"^\| (H\d\d) \|", text, re.MULTILINE))
    assert summary == set(_hazards())


@pytest.mark.slow
def test_every_test_the_log_names_exists() -> None:
    named = sorted(set(NODE.findall(LOG.read_text(encoding="utf-8"))))
    files = sorted({node.split("::")[0] for node in named})
    missing_files = [f for f in files if not (ROOT / f).is_file()]
    assert missing_files == []
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    collected = {line.split("[", 1)[0] for line in done.stdout.splitlines() if "::" in line}
    assert [node for node in named if node not in collected] == []


def test_make_audit_deps_audits_the_locked_dependencies_strictly() -> None:
    """H18's control: `make audit-deps` runs pip-audit with --strict over the lock (outside CI: see the hazard)."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^audit-deps: ", makefile, re.MULTILINE)
    recipe = makefile.split("\naudit-deps:", 1)[1].split("\n\n", 1)[0]
    assert "uv export --frozen" in recipe.replace("$(UV)", "uv")
    assert "pip-audit" in recipe
    assert "--strict" in recipe
