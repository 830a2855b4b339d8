"""``safetynet accounts add --partner``: accounts for a GP practice user, a police liaison officer and a registered
carer, each with the link its channel needs, and refused (nothing written) when the link does not fit the role."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from safetynet.access.models import Account
from safetynet.cli import app
from safetynet.core.clock import LONDON, SystemClock
from safetynet.core.context import Context
from safetynet.core.db import make_engine, unit_of_work
from safetynet.record.carers import service as carers
from safetynet.record.carers.schemas import CarerIn
from safetynet.record.org.models import Staff
from tests.factories import NHS_NUMBERS, world
from tests.personas import ALICE

runner = CliRunner()
PERSON = NHS_NUMBERS[0]


@pytest.fixture
def env(fresh_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("SAFETYNET_DATABASE_URL", fresh_url)
    engine = make_engine(fresh_url)
    with unit_of_work(engine) as session:
        ctx = Context(session, ALICE, SystemClock())
        made = world(ctx)  # Sam Example, practice Y00001
        carers.register_carer(
            ctx,
            made.patient.id,
            CarerIn(
                occurred_at=datetime(2024, 1, 1, tzinfo=LONDON),
                name="Lee Example",
                relationship="partner",
                consent_to_share=True,
            ),
        )
    engine.dispose()
    secret = tmp_path / "password"
    secret.write_text("a long enough password\n")
    return secret


def _accounts(url: str) -> dict[str, tuple[str, str | None, str | None]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(Account.username, Staff.role, Account.organisation, Account.carer_fact_id).join(
                Staff, Staff.id == Account.staff_id
            )
        ).all()
    engine.dispose()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def _add(*args: str) -> Any:
    return runner.invoke(app, ["accounts", "add", *args])


def test_partner_and_carer_accounts_are_added_with_their_links(env: Path, fresh_url: str) -> None:
    password = ["--password-file", str(env)]
    gp = _add("Dr Ria Practice", "ria", "--partner", "gp_partner", "--organisation", "y00001", *password)
    assert gp.exit_code == 0, gp.output
    police = _add(
        "PC Kit Liaison", "kit", "--partner", "police_liaison", "--organisation", "Northshire Police", *password
    )
    assert police.exit_code == 0, police.output
    carer = _add("Lee Example", "lee", "--partner", "family_member", "--cares-for", PERSON, *password)
    assert carer.exit_code == 0, carer.output
    made = _accounts(fresh_url)
    assert made["ria"][:2] == ("gp_partner", "Y00001")
    assert made["kit"][:2] == ("police_liaison", "Northshire Police")
    assert made["lee"][0] == "family_member"
    assert made["lee"][2] is not None


def test_accounts_whose_link_does_not_fit_the_role_are_refused_and_nothing_is_written(
    env: Path, fresh_url: str
) -> None:
    password = ["--password-file", str(env)]
    for args in (
        ("Dr No Code", "nocode", "--partner", "gp_partner"),
        ("Not A Carer", "notcarer", "--partner", "family_member", "--cares-for", PERSON),
        ("Jo Smith", "jo", "--organisation", "Y00001"),  # a clinician has no organisation
    ):
        result = _add(*args, *password)
        assert result.exit_code == 2, (args, result.output)
    assert _accounts(fresh_url) == {}
    engine = make_engine(fresh_url)
    with engine.connect() as connection:  # the directory entries --partner would have made are not there either
        added = connection.execute(select(Staff.name).where(Staff.name.in_(["Dr No Code", "Not A Carer"]))).all()
    engine.dispose()
    assert added == []
