"""``safetynet accounts``: passwords from a prompt or a file (never the command line), demo logins per role."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from safetynet.access import accounts
from safetynet.cli import app
from safetynet.core.clock import SystemClock
from safetynet.core.context import Context, Role
from safetynet.core.db import make_engine, unit_of_work
from safetynet.oversight.models import IndicatorRun
from safetynet.record.org import service as org
from safetynet.record.org.schemas import StaffIn
from tests.factories import world
from tests.personas import ALICE
from tests.web.conftest import _free_port

runner = CliRunner()


@pytest.fixture
def env(fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SAFETYNET_DATABASE_URL", fresh_url)
    engine = make_engine(fresh_url)
    with unit_of_work(engine) as session:
        ctx = Context(session, ALICE, SystemClock())
        world(ctx)  # CMHT North with Jo Smith, key worker
        for name, role in (("Pat Lead", Role.SAFETY_LEAD), ("Ade Admin", Role.ADMINISTRATOR)):
            org.create_staff(ctx, StaffIn(name=name, role=role, team="CMHT North"))
    engine.dispose()
    return fresh_url


def _signs_in(url: str, username: str, password: str) -> bool:
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        found = accounts.authenticate(Context(session, ALICE, SystemClock()), username, password) is not None
    engine.dispose()
    return found


def test_an_account_is_added_with_the_password_from_a_file(env: str, tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("a long enough password\n")
    result = runner.invoke(app, ["accounts", "add", "Jo Smith", "jo", "--password-file", str(secret)])
    assert result.exit_code == 0, result.output
    assert "created for Jo Smith (key worker)" in result.output
    assert _signs_in(env, "jo", "a long enough password")


def test_an_account_is_added_with_the_password_typed_twice_at_a_prompt(env: str) -> None:
    result = runner.invoke(app, ["accounts", "add", "Jo Smith", "jo"], input="typed at the prompt\n" * 2)
    assert result.exit_code == 0, result.output
    assert "typed at the prompt" not in result.output
    assert _signs_in(env, "jo", "typed at the prompt")


def test_a_short_password_or_an_unknown_staff_member_is_refused(env: str, tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("short")
    refused = runner.invoke(app, ["accounts", "add", "Jo Smith", "jo", "--password-file", str(secret)])
    assert refused.exit_code == 2
    assert "at least 12 characters" in refused.output
    secret.write_text("a long enough password")
    missing = runner.invoke(app, ["accounts", "add", "Nobody Here", "nobody", "--password-file", str(secret)])
    assert missing.exit_code == 1
    assert not _signs_in(env, "jo", "short")


def test_there_is_no_password_option_on_the_command_line() -> None:
    result = runner.invoke(app, ["accounts", "add", "Jo Smith", "jo", "--password", "on the command line"])
    assert result.exit_code == 2


def test_demo_prints_working_logins_for_each_role_and_new_ones_each_run(env: str) -> None:
    first = runner.invoke(app, ["accounts", "demo"])
    assert first.exit_code == 0, first.output
    logins = dict(re.findall(r"(demo-[a-z-]+)\s+(\S+)", first.output))
    # The roles this trust has, and a national analyst the demo adds (a trust has none of its own).
    assert set(logins) == {"demo-key-worker", "demo-safety-lead", "demo-administrator", "demo-national-analyst"}
    assert _signs_in(env, "demo-national-analyst", logins["demo-national-analyst"])
    assert all(_signs_in(env, username, password) for username, password in logins.items())
    again = runner.invoke(app, ["accounts", "demo"])
    renewed = dict(re.findall(r"(demo-[a-z-]+)\s+(\S+)", again.output))
    assert renewed["demo-key-worker"] != logins["demo-key-worker"]
    assert not _signs_in(env, "demo-key-worker", logins["demo-key-worker"])
    assert _signs_in(env, "demo-key-worker", renewed["demo-key-worker"])


@contextmanager
def _serving(url: str, *options: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``safetynet serve`` on a free loopback port, until it answers; its base URL and process."""
    port = _free_port()
    safetynet = str(Path(sys.executable).parent / "safetynet")
    command = [safetynet, "serve", "--host", "127.0.0.1", "--port", str(port), *options]
    server = subprocess.Popen(
        command,
        env=os.environ | {"SAFETYNET_DATABASE_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # Generous: starting the app imports the whole product, and CI machines are shared and slow at times.
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"{base}/sign-in", timeout=5)
                break
            except httpx.TransportError:
                if server.poll() is not None:
                    raise AssertionError(f"serve exited: {server.stderr.read() if server.stderr else ''}") from None
                assert time.monotonic() < deadline, "safetynet serve did not answer"
                time.sleep(0.2)
        yield base, server
    finally:
        server.terminate()
        server.wait(timeout=30)


def _session_cookies(answer: httpx.Response) -> str:
    """The cookies an answer sets, as a Cookie header (httpx keeps Secure cookies back from plain HTTP)."""
    return "; ".join(value.split(";", 1)[0] for value in answer.headers.get_list("set-cookie"))


@pytest.mark.slow
def test_serve_answers_on_the_loopback_port_it_is_given(env: str) -> None:
    with _serving(env) as (base, _server):
        answer = httpx.get(f"{base}/sign-in")
    assert "Sign in to Safetynet" in answer.text
    cookie = answer.headers["set-cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie


@pytest.mark.slow
def test_serve_with_several_workers_shares_sessions_between_them_and_runs_one_scheduler(
    env: str, tmp_path: Path
) -> None:
    secret = tmp_path / "password"
    secret.write_text("a long enough password")
    added = runner.invoke(app, ["accounts", "add", "Jo Smith", "jo", "--password-file", str(secret)])
    assert added.exit_code == 0, added.output
    with _serving(env, "--workers", "2", "--every", "10") as (base, server):
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        assert len(children) >= 2  # the two workers (and perhaps uvicorn's own helper process)
        # Each request on a new connection, so the two workers take turns: a form one worker served is accepted by
        # whichever takes the post, and a session it signed is honoured by both. Ten sign-ins would all land on one
        # worker about once in a thousand runs.
        for _ in range(10):
            form = httpx.get(f"{base}/sign-in")
            token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form.text)
            assert token is not None
            signed = httpx.post(
                f"{base}/sign-in",
                data={"username": "jo", "password": "a long enough password", "csrf_token": token.group(1)},
                headers={"Cookie": _session_cookies(form)},
            )
            assert signed.status_code == 303, signed.text
            for _ in range(2):
                home = httpx.get(f"{base}/", headers={"Cookie": _session_cookies(signed)})
                assert home.status_code == 200
                assert "Jo Smith" in home.text
        # The scheduler's first tick, in the supervising process: the indicator figures are computed once.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            engine = make_engine(env)
            with engine.connect() as connection:
                runs = connection.execute(select(func.count()).select_from(IndicatorRun)).scalar_one()
            engine.dispose()
            if runs:
                break
            time.sleep(0.5)
        assert runs == 1
