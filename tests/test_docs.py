"""The documentation cannot drift from the code.

As in Datasette's tests/test_docs.py: every command and option, every table, every layer, every scenario event type
and every value set the record stores must appear in the documentation, and each failure names what is missing and
where it belongs. None of these tests needs a database.
"""

from __future__ import annotations

import enum
import importlib
import pkgutil
import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import typer.main

import safetynet
import safetynet.record
from safetynet import migrations
from safetynet.cli import app
from safetynet.core.context import Role
from safetynet.record import registry
from safetynet.record.contacts.models import ATTEND_OR_DNA_CODE
from safetynet.record.legal.models import DETENTION_CODES, LEGAL_STATUS_CODES
from safetynet.scenarios.format import EVENT_TYPES
from safetynet.tasks.models import TaskStatus

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
CONTRIBUTING = ROOT / "CONTRIBUTING.md"
ARCHITECTURE = DOCS / "architecture.md"
DOMAIN = DOCS / "domain.md"
SCENARIOS = DOCS / "scenarios.md"
MAKEFILE = ROOT / "Makefile"
PYPROJECT = ROOT / "pyproject.toml"


# --- reading the documentation ----------------------------------------------------------------------------------


@cache
def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _reference_docs() -> list[Path]:
    """Where commands are documented: the README and docs/*.md."""
    return [README, *sorted(DOCS.glob("*.md"))]


def _all_docs() -> list[Path]:
    return [*_reference_docs(), CONTRIBUTING]


HEADING = re.compile(r"^(#{1,6})\s")
ITEM = re.compile(r"^\s*(?:[-*+]|\d+\.)\s|^\s*\|")
FENCE = re.compile(r"^\s*```")


def _blocks(text: str) -> list[str]:
    """A markdown text cut into the pieces one thing is said in: a heading, a paragraph, a list item (with its
    continuation lines), a table row, or one command in a code block (with its backslash continuations)."""
    blocks: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            blocks.append("\n".join(current))
            current.clear()

    fenced = False
    for line in text.splitlines():
        if FENCE.match(line):
            flush()
            fenced = not fenced
        elif fenced:
            if not (current and current[-1].rstrip().endswith("\\")):
                flush()
            current.append(line)
        elif not line.strip():
            flush()
        elif HEADING.match(line):
            flush()
            blocks.append(line)
        else:
            if ITEM.match(line):
                flush()
            current.append(line)
    flush()
    return blocks


def _sections(text: str) -> list[tuple[str, str]]:
    """Each heading with the text under it, down to the next heading of the same or a higher level."""
    lines = text.splitlines()
    headings: list[tuple[int, int]] = []
    fenced = False
    for number, line in enumerate(lines):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced and (found := HEADING.match(line)):
            headings.append((number, len(found.group(1))))
    sections = []
    for index, (start, level) in enumerate(headings):
        end = next((n for n, lvl in headings[index + 1 :] if lvl <= level), len(lines))
        sections.append((lines[start], "\n".join(lines[start:end])))
    return sections


def _entries(pattern: re.Pattern[str]) -> list[str]:
    """Everything the reference documentation says next to a mention: the blocks that mention it, and the sections
    whose heading does."""
    found = []
    for path in _reference_docs():
        text = _text(path)
        found += [block for block in _blocks(text) if pattern.search(block)]
        found += [body for heading, body in _sections(text) if pattern.search(heading)]
    return found


def _mentioned(name: str) -> re.Pattern[str]:
    """``name`` as a whole word: ``--as`` is not found in ``--as-of``, nor ``tasks step`` in ``tasks steps``."""
    return re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")


# --- the command line -------------------------------------------------------------------------------------------


def _commands() -> dict[str, Any]:
    """Every command and subcommand of ``safetynet``, by its path (``db upgrade``), hidden ones left out."""
    found: dict[str, Any] = {}

    def walk(command: Any, path: str) -> None:
        for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
            if not getattr(sub, "hidden", False):
                found[f"{path} {name}".strip()] = sub
                walk(sub, f"{path} {name}")

    walk(typer.main.get_command(app), "")
    return found


def _options(command: Any) -> list[str]:
    """A command's long options. (The root's own --install-completion and --show-completion are Typer's.)"""
    return [
        option
        for param in command.params
        if param.param_type_name == "option" and not getattr(param, "hidden", False)
        for option in param.opts
        if option.startswith("--")
    ]


COMMANDS = _commands()
OPTIONS = [(path, option) for path, command in COMMANDS.items() for option in _options(command)]


def test_the_command_line_has_the_commands_this_test_was_written_against() -> None:
    assert {"db upgrade", "db downgrade", "db current", "db stats", "scenario load", "synth", "patient show"} <= set(
        COMMANDS
    )
    assert "caseload" in COMMANDS


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_command_and_subcommand_is_documented_by_its_full_name(path: str) -> None:
    assert _entries(_mentioned(f"safetynet {path}")), (
        f"`safetynet {path}` is not in README.md or docs/*.md: add it to the command list in docs/architecture.md"
    )


@pytest.mark.parametrize(("path", "option"), OPTIONS, ids=[f"{path} {option}" for path, option in OPTIONS])
def test_every_option_of_every_command_is_documented_beside_its_command(path: str, option: str) -> None:
    beside = "\n".join(_entries(_mentioned(f"safetynet {path}")))
    assert _mentioned(option).search(beside), (
        f"{option} of `safetynet {path}` is not documented beside the command (on the line or list item that "
        "names it, or in a section whose heading does)"
    )


# --- the record's tables ----------------------------------------------------------------------------------------


def _tables() -> list[str]:
    """Every table on the product's metadata: the record's (registry) and the layers' above it (migrations)."""
    assert registry.FACT_MODELS
    return sorted(migrations.metadata().tables)


def _described(name: str) -> re.Pattern[str]:
    """A heading or list item that starts with the name in backticks: where a table is described, not just named."""
    return re.compile(rf"^(?:#+\s+|\s*[-*]\s+)`{re.escape(name)}`", re.MULTILINE)


@pytest.mark.parametrize("table", _tables())
def test_every_table_is_described_in_the_domain_guide(table: str) -> None:
    assert _described(table).search(_text(DOMAIN)), (
        f"table `{table}` has no heading or list item of its own in docs/domain.md"
    )


def test_the_domain_guide_describes_no_table_that_does_not_exist() -> None:
    described = re.findall(r"^#{3}\s+`(\w+)`", _text(DOMAIN), re.MULTILINE)
    assert described
    assert sorted(set(described) - set(_tables())) == []


def test_every_domain_package_of_the_record_has_its_place_in_the_domain_guide() -> None:
    packages = [m.name for m in pkgutil.iter_modules(safetynet.record.__path__) if m.ispkg]
    assert packages
    missing = [name for name in packages if f"`record/{name}" not in _text(DOMAIN)]
    assert missing == []


# --- value sets and code systems --------------------------------------------------------------------------------


def _value_sets() -> dict[str, type[enum.StrEnum]]:
    """Every enumeration a record model defines, plus the roles and task statuses stored beside them."""
    found: dict[str, type[enum.StrEnum]] = {"Role": Role, "TaskStatus": TaskStatus}
    for info in pkgutil.walk_packages(safetynet.record.__path__, "safetynet.record."):
        if not info.name.endswith(".models"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, enum.StrEnum) and value.__module__ == module.__name__:
                found[name] = value
    return found


VALUE_SETS = _value_sets()


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_every_value_of_every_value_set_is_listed_on_one_line_of_the_domain_guide(name: str) -> None:
    lines = [line for line in _text(DOMAIN).splitlines() if f"`{name}`" in line and line.startswith("|")]
    assert lines, f"value set `{name}` has no row in the value set table of docs/domain.md"
    listed = set(re.findall(r"`([^`]+)`", lines[0]))
    missing = [member.value for member in VALUE_SETS[name] if member.value not in listed]
    assert missing == [], f"{name}: {missing} missing from its row in docs/domain.md"


def _rows(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")] for line in text.splitlines() if line[:1] == "|"
    ]


def test_every_legal_status_code_is_listed_with_its_label_and_whether_it_is_a_detention() -> None:
    rows = {row[0].strip("`"): row for row in _rows(_text(DOMAIN)) if re.fullmatch(r"`\d\d`", row[0])}
    assert sorted(rows) == sorted(LEGAL_STATUS_CODES)
    for code, label in LEGAL_STATUS_CODES.items():
        _, shown, detention = rows[code][:3]
        assert shown == label, code
        assert (detention == "yes") == (code in DETENTION_CODES), code


def test_the_attend_or_dna_code_of_every_contact_outcome_is_as_the_code_maps_it() -> None:
    rows = {row[0].strip("`"): row[1] for row in _rows(_text(DOMAIN)) if row[0].strip("`") in ATTEND_OR_DNA_CODE}
    assert rows == {str(outcome): code for outcome, code in ATTEND_OR_DNA_CODE.items()}


# --- the layers -------------------------------------------------------------------------------------------------


def _layer_contracts() -> list[list[list[str]]]:
    """Each layers contract as its layers, top first; each layer the modules in it (``a | b`` is two)."""
    contracts = tomllib.loads(_text(PYPROJECT))["tool"]["importlinter"]["contracts"]
    return [
        [[module.strip() for module in re.split(r"[|:]", layer)] for layer in contract["layers"]]
        for contract in contracts
        if contract["type"] == "layers"
    ]


def _module(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.]){re.escape(name)}(?![\w.])")


def _position(pattern: re.Pattern[str], text: str) -> int:
    found = pattern.search(text)
    assert found is not None, pattern.pattern
    return found.start()


LAYER_MODULES = sorted({m for contract in _layer_contracts() for layer in contract for m in layer})


@pytest.mark.parametrize("module", LAYER_MODULES)
def test_every_layer_of_the_import_contract_is_in_the_architecture_guide(module: str) -> None:
    assert _module(module).search(_text(ARCHITECTURE)), f"{module} is not in docs/architecture.md"


def test_the_architecture_diagram_shows_the_layers_in_the_contracts_order() -> None:
    fences = re.findall(r"^```[^\n]*\n(.*?)^```", _text(ARCHITECTURE), re.MULTILINE | re.DOTALL)
    for contract in _layer_contracts():
        modules = [m for layer in contract for m in layer]
        diagram = next((f for f in fences if all(_module(m).search(f) for m in modules)), None)
        assert diagram is not None, "docs/architecture.md has no diagram (code block) naming every layer"
        first = [min(_position(_module(m), diagram) for m in layer) for layer in contract]
        assert first == sorted(first), "the diagram's layers are not in the order of the import contract"


def test_every_package_of_safetynet_is_in_the_architecture_guide() -> None:
    packages = [f"safetynet.{m.name}" for m in pkgutil.iter_modules(safetynet.__path__)]
    assert [p for p in packages if not _module(p).search(_text(ARCHITECTURE))] == []


# --- scenario files ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_scenario_event_type_has_a_row_in_the_scenario_guide(event_type: str) -> None:
    assert re.search(rf"^\|\s*`{event_type}`\s*\|", _text(SCENARIOS), re.MULTILINE), (
        f"event type {event_type} has no row in the event table of docs/scenarios.md"
    )


def test_the_scenario_guide_lists_no_event_type_that_does_not_exist() -> None:
    listed = re.findall(r"^\|\s*`(\w+)`\s*\|", _text(SCENARIOS), re.MULTILINE)
    assert sorted(set(listed) - set(EVENT_TYPES)) == []


def test_the_scenario_guide_points_at_the_specification_in_the_brief() -> None:
    assert "shared/brief/scenarios.md" in _text(SCENARIOS)


# --- settings, make targets and links ---------------------------------------------------------------------------


def _environment_variables() -> list[str]:
    sources = [*(ROOT / "src" / "safetynet").rglob("*.py"), ROOT / "tests" / "conftest.py"]
    return sorted({name for path in sources for name in re.findall(r"[\"'](SAFETYNET_[A-Z0-9_]+)[\"']", _text(path))})


@pytest.mark.parametrize("variable", _environment_variables())
def test_every_environment_variable_the_code_reads_is_documented(variable: str) -> None:
    assert any(variable in _text(path) for path in _all_docs()), (
        f"{variable} is not in README.md, docs/ or CONTRIBUTING.md"
    )


def _make_targets() -> list[str]:
    return sorted(set(re.findall(r"^([a-z][\w-]*):", _text(MAKEFILE), re.MULTILINE)))


def test_every_make_target_is_explained_in_contributing() -> None:
    assert [t for t in _make_targets() if not _mentioned(f"make {t}").search(_text(CONTRIBUTING))] == []


def test_every_make_command_the_documentation_mentions_exists() -> None:
    mentioned = {
        target
        for path in _all_docs()
        for target in re.findall(r"`make ([a-z][\w-]*)|^make ([a-z][\w-]*)", _text(path), re.MULTILINE)
    }
    assert {t for pair in mentioned for t in pair if t} - set(_make_targets()) == set()


@pytest.mark.parametrize("path", _all_docs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_in_the_documentation_points_at_a_file_that_exists(path: Path) -> None:
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", _text(path)):
        if re.match(r"[a-z]+:|#", target):
            continue
        resolved = (path.parent / target.split("#")[0]).resolve()
        if resolved.is_relative_to(ROOT) and not resolved.exists():
            broken.append(target)
    assert broken == []
