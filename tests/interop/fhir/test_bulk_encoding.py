"""Bulk import reads NDJSON a block at a time and hands the database rows already encoded (COPY text on PostgreSQL):
line numbers, blank lines and batches come out as reading line by line would give them, and text that COPY has to
escape (tabs, newlines, backslashes) arrives exactly as it was sent."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from safetynet.core.clock import FixedClock
from safetynet.core.db import make_engine
from safetynet.interop.fhir import bulk, codes
from safetynet.record.diagnoses.models import Diagnosis
from tests.interop.fhir.conftest import PATIENT, directory

CLOCK = FixedClock(datetime(2030, 1, 1, tzinfo=UTC))
AWKWARD = ["tab\there", "new\nline", "back\\slash \\N", "carriage\rreturn", "form\ffeed\vand\bbackspace", "é ☃ \u2028"]


def _lines(data: bytes, block: int, size: int) -> tuple[list[tuple[int, bytes]], list[int]]:
    """(line number, line) of every line that is not blank, and how many each chunk holds."""
    bulk_block = bulk.BLOCK
    bulk.BLOCK = block
    try:
        chunks = list(bulk._chunks(bulk.read_stream(io.BytesIO(data), "s"), size))
    finally:
        bulk.BLOCK = bulk_block
    found = []
    held = []
    for chunk in chunks:
        count = 0
        for piece in chunk:
            assert isinstance(piece, bulk._Lines)
            for offset, line in enumerate(piece.lines):
                if line.strip():
                    found.append((piece.first + offset, line.strip()))
                    count += 1
            assert sum(1 for line in piece.lines if line.strip()) == piece.counted
        held.append(count)
    return found, held


@pytest.mark.parametrize("block", [1, 3, 64, 1 << 20])
@pytest.mark.parametrize("ending", [b"", b"\n", b"\n\n  \n"])
def test_blocks_of_lines_number_and_batch_as_lines_would(block: int, ending: bytes) -> None:
    lines = [b'{"resourceType":"Basic","id":"b%d"}' % n for n in range(12)]
    shaped = [b"", lines[0], b"  ", lines[1] + b"\r", b"\t", *lines[2:7], b"", b"", *lines[7:], b" \x0b\x0c"]
    data = b"\n".join(shaped) + ending
    expected = [(n + 1, line.strip()) for n, line in enumerate(data.split(b"\n")) if line.strip()]
    for size in (1, 5, 100):
        found, held = _lines(data, block, size)
        assert found == expected
        assert held == [min(size, len(expected) - start) for start in range(0, len(expected), size)]


@pytest.mark.parametrize("workers", [0, 1])
def test_text_that_copy_escapes_arrives_as_sent(
    client: TestClient, fresh_url: str, tmp_path: Path, workers: int
) -> None:
    directory(client)
    lines = []
    for n, text in enumerate(AWKWARD):
        lines.append(
            orjson.dumps(
                {
                    "resourceType": "Condition",
                    "id": f"awkward-{n}",
                    "subject": {"reference": f"Patient/{PATIENT}"},
                    "code": {"coding": [{"system": codes.ICD10, "code": "F20.0", "display": text}]},
                    "onsetDateTime": "2024-01-01",
                    "note": [{"text": text}],
                }
            )
        )
    path = tmp_path / "Condition.ndjson"
    path.write_bytes(b"\n\n".join(lines))  # blank lines between, none at the end
    engine = make_engine(fresh_url)
    report = bulk.import_paths(engine, [path], CLOCK, batch_size=4, workers=workers)
    with Session(engine) as session:
        stored = {row.fact_id: row.note for row in session.execute(select(Diagnosis.fact_id, Diagnosis.note))}
        shown = {row.fact_id: row.display for row in session.execute(select(Diagnosis.fact_id, Diagnosis.display))}
    engine.dispose()
    assert report.refused == []
    assert report.imported == len(AWKWARD)
    assert stored == {f"awkward-{n}": text for n, text in enumerate(AWKWARD)}
    assert shown == stored


@pytest.mark.parametrize("workers", [0, 1])
def test_a_resource_holding_a_nul_character_is_refused_alone(
    client: TestClient, fresh_url: str, tmp_path: Path, workers: int
) -> None:
    """No text in the record may hold U+0000 (PostgreSQL refuses it): that resource is refused with its line and
    the reason, the others import, rather than the whole import failing."""
    directory(client)

    def condition(n: int, note: str) -> bytes:
        return orjson.dumps(
            {
                "resourceType": "Condition",
                "id": f"nul-{n}",
                "subject": {"reference": f"Patient/{PATIENT}"},
                "code": {"coding": [{"system": codes.ICD10, "code": "F20.0"}]},
                "onsetDateTime": "2024-01-01",
                "note": [{"text": note}],
            }
        )

    # The third is text that only looks like an escaped NUL: a backslash, then "u0000".
    lines = [condition(0, "fine"), condition(1, "bad\x00byte"), condition(2, "looks like \\u0000 but is not")]
    path = tmp_path / "Condition.ndjson"
    path.write_bytes(b"\n".join(lines))
    engine = make_engine(fresh_url)
    report = bulk.import_paths(engine, [path], CLOCK, batch_size=2, workers=workers)
    with Session(engine) as session:
        stored = dict(session.execute(select(Diagnosis.fact_id, Diagnosis.note)).tuples().all())
    engine.dispose()
    assert [(r.line, [i.message for i in r.issues]) for r in report.refused] == [
        (2, ["text must not contain NUL characters (U+0000)"])
    ]
    assert stored == {"nul-0": "fine", "nul-2": "looks like \\u0000 but is not"}
