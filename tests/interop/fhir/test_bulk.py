"""Bulk export and import: a synthetic trust round-trips exactly (every version, so the record as known at any
moment is the same), importing twice changes nothing, an import killed mid-way completes when run again, and
refused lines are reported with file, line and field."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safetynet import migrations
from safetynet.core.clock import FixedClock
from safetynet.core.db import make_engine
from safetynet.core.facts import known_at
from safetynet.interop.fhir import bulk
from safetynet.interop.fhir.models import FhirImportLedger
from safetynet.record.registry import FACT_MODELS
from safetynet.synth import trust
from tests.conftest import Databases
from tests.interop.fhir.conftest import PATIENT, counts, directory

CLOCK = FixedClock(datetime(2030, 1, 1, tzinfo=UTC))
RECORD_TABLES = ["organisations", "teams", "staff", "patients", *(m.__tablename__ for m in FACT_MODELS.values())]


def record(url: str) -> dict[str, list[tuple[str, ...]]]:
    """Every row of the record (the surrogate integer ids aside), comparable across databases."""
    engine = make_engine(url)
    tables = migrations.metadata().tables
    try:
        with Session(engine) as session:
            found = {}
            for name in RECORD_TABLES:
                table = tables[name]
                columns = [c for c in table.c if not (c.name == "id" and name not in RECORD_TABLES[:4])]
                found[name] = sorted(tuple(map(repr, row)) for row in session.execute(select(*columns)))
            return found
    finally:
        engine.dispose()


def as_known_at(url: str, moments: list[datetime]) -> dict[tuple[str, datetime], list[tuple[str, int]]]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return {
                (kind, at): sorted((f.fact_id, f.version) for f in session.scalars(known_at(model, at)))
                for kind, model in FACT_MODELS.items()
                for at in moments
            }
    finally:
        engine.dispose()


def new_db(databases: Databases) -> str:
    url = databases.new_url()
    migrations.upgrade(url)
    return url


def synthetic(databases: Databases, patients: int, seed: int, out: Path) -> tuple[str, int]:
    url = new_db(databases)
    engine = make_engine(url)
    trust.build(engine, patients=patients, seed=seed, workers=0)
    done = bulk.export(engine, out)
    engine.dispose()
    return url, sum(done.files.values())


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=1, max_value=10_000), patients=st.integers(min_value=1, max_value=12))
def test_a_synthetic_trust_round_trips(
    databases: Databases, tmp_path_factory: pytest.TempPathFactory, seed: int, patients: int
) -> None:
    out = tmp_path_factory.mktemp("export")
    source, _ = synthetic(databases, patients, seed, out)
    target = new_db(databases)
    engine = make_engine(target)
    report = bulk.import_paths(engine, [out], CLOCK)
    engine.dispose()
    assert report.refused == []
    assert record(target) == record(source)
    moments = [datetime(year, 6, 1, tzinfo=UTC) for year in (2021, 2023, 2025)]
    assert as_known_at(target, moments) == as_known_at(source, moments)


@pytest.mark.slow
def test_importing_twice_changes_nothing(databases: Databases, tmp_path: Path) -> None:
    source, total = synthetic(databases, 8, 21, tmp_path)
    target = new_db(databases)
    engine = make_engine(target)
    first = bulk.import_paths(engine, [tmp_path], CLOCK, batch_size=300, workers=1)
    after_first = counts(target)
    second = bulk.import_paths(engine, [tmp_path], CLOCK, batch_size=300)
    engine.dispose()
    assert first.imported > 0
    assert first.refused == []
    assert second.imported == 0
    assert second.unchanged == first.imported
    assert second.refused == []
    assert counts(target) == after_first
    assert record(target) == record(source)
    assert first.read == total


@pytest.mark.slow
def test_an_import_killed_mid_way_completes_when_run_again(databases: Databases, tmp_path: Path) -> None:
    source, total = synthetic(databases, 25, 8, tmp_path / "export")
    target = new_db(databases)
    env = os.environ | {"SAFETYNET_DATABASE_URL": target}
    command = [
        sys.executable,
        "-c",
        "from safetynet.cli import app; app()",
        "fhir",
        "import",
        str(tmp_path / "export"),
        "--batch-size",
        "40",
    ]
    # Its own process group: the kill takes the worker process with it, as a crash of the machine would.
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    engine = make_engine(target)
    ledger = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        with Session(engine) as session:
            ledger = session.scalar(select(func.count()).select_from(FhirImportLedger)) or 0
        if ledger >= 200:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the import finished before it could be killed: make the batches smaller"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    with Session(engine) as session:
        partial = session.scalar(select(func.count()).select_from(FhirImportLedger)) or 0
    assert 0 < partial < total
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert "refused 0" in rerun.stdout
    engine.dispose()
    assert record(target) == record(source)
    assert counts(target)["fhir_import_ledger"] == total - _produced(tmp_path / "export")


def _produced(folder: Path) -> int:
    """Lines the importer skips (Safetynet's own products): the ledger has no row for them."""
    skipped = 0
    for name in ("DetectedIssue", "Consent"):
        skipped += sum(1 for line in (folder / f"{name}.ndjson").read_bytes().splitlines() if line.strip())
    for line in (folder / "Task.ndjson").read_bytes().splitlines():
        task = orjson.loads(line)
        if "basedOn" not in task:
            skipped += 1
    return skipped


def test_refused_lines_name_file_line_and_field(client: TestClient, fresh_url: str, tmp_path: Path) -> None:
    directory(client)
    good = {
        "resourceType": "Condition",
        "id": "c-1",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "F20.0"}]},
        "onsetDateTime": "2024-01-01",
    }
    no_person = good | {"id": "c-2", "subject": {"reference": "Patient/nobody"}}
    no_code = good | {"id": "c-3", "code": {"text": "psychosis"}}
    lines = [orjson.dumps(good), b"{broken", orjson.dumps(no_person), orjson.dumps(no_code)]
    path = tmp_path / "Condition.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    engine = make_engine(fresh_url)
    report = bulk.import_paths(engine, [path], CLOCK)
    again = bulk.import_paths(engine, [path], CLOCK)
    engine.dispose()
    assert report.imported == 1
    assert again.imported == 0
    assert again.unchanged == 1
    where = {(r.line, i.expression) for r in report.refused for i in r.issues}
    assert where == {(2, "line"), (3, "Condition.subject"), (4, "Condition.code")}
    outcome = report.as_outcome()
    assert outcome["resourceType"] == "OperationOutcome"
    assert any(issue.get("location") == [f"{path}:3"] for issue in outcome["issue"])


def test_export_and_import_over_http(client: TestClient, fresh_url: str, databases: Databases) -> None:
    directory(client)
    condition = {
        "resourceType": "Condition",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "F20.0"}]},
        "onsetDateTime": "2024-01-01T09:00:00Z",
    }
    assert client.post("/fhir/Condition", json=condition).status_code == 201
    manifest = client.get("/fhir/$export").json()
    body = b""
    for output in manifest["output"]:
        response = client.get(output["url"])
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/fhir+ndjson")
        body += response.content
    assert b'"resourceType":"Condition"' in body

    target = new_db(databases)
    settings_ = client.app.state.settings  # type: ignore[attr-defined]
    from safetynet.web.app import create_app
    from safetynet.web.settings import WebSettings

    other = create_app(
        WebSettings(database_url=target, secure_cookies=False, clock=settings_.clock),
        api_clients=(("test-ehr", "token"),),
    )
    with TestClient(other, headers={"Authorization": "Bearer token"}) as second:
        imported = second.post("/fhir/$import", content=body, headers={"content-type": "application/fhir+ndjson"})
        assert imported.status_code == 200, imported.text
        assert imported.json()["resourceType"] == "OperationOutcome"
        assert second.get(f"/fhir/Condition?patient={PATIENT}").json()["total"] == 1
        anonymous = TestClient(other)
        assert anonymous.post("/fhir/$import", content=body).status_code == 401
        assert anonymous.get("/fhir/$export").status_code == 401
    assert record(target) == record(fresh_url)


def test_the_command_line_exports_and_imports(
    client: TestClient, fresh_url: str, databases: Databases, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from safetynet.cli import app

    directory(client)
    runner = CliRunner()
    exported = runner.invoke(
        app, ["fhir", "export", "--out", str(tmp_path / "out")], env={"SAFETYNET_DATABASE_URL": fresh_url}
    )
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "out" / "Patient.ndjson").read_bytes().count(b"\n") == 1
    target = new_db(databases)
    env = {"SAFETYNET_DATABASE_URL": target}
    imported = runner.invoke(app, ["fhir", "import", str(tmp_path / "out"), "--workers", "0"], env=env)
    assert imported.exit_code == 0, imported.output
    assert "refused 0" in imported.output
    assert record(target) == record(fresh_url)
    (tmp_path / "bad.ndjson").write_bytes(b'{"resourceType": "Condition", "id": "x"}\n')
    refused = runner.invoke(
        app, ["fhir", "import", str(tmp_path / "bad.ndjson"), "--format", "json", "--workers", "0"], env=env
    )
    assert refused.exit_code == 2
    assert '"OperationOutcome"' in refused.output
    missing = runner.invoke(app, ["fhir", "import", str(tmp_path / "nowhere")], env=env)
    assert missing.exit_code == 2
