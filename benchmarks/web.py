"""The web app's server time over real HTTP on loopback (section ``web``).

    python -m benchmarks.run --section web            # a 100,000-person synthetic trust, 2,000-fact record
    python -m benchmarks.run --section web --quick    # 300 people, a smoke check

Setting up the full size takes a while (synth ~6 minutes, the safety net over the trust longer). With
``SAFETYNET_BENCH_WEB_DIR=DIR`` the trust is built in DIR and kept, and a later run with the same DIR and size reuses
it (its set-up times are then those of the run that built it); without it, a temporary folder is used and removed.

A synthetic trust is written by ``safetynet synth``; a person with a long record is loaded beside it. The app runs
under uvicorn in a background thread on a free loopback port, on a fixed clock at the end of the synthetic stories,
and an HTTP client signed in as a key worker times each request from sending it to the last byte read:

1. My work (``/``) for the key worker whose caseload is nearest 35 people (issue 4: p95 at most 150 ms);
2. the person summary (``/people/{nhs_number}``) of the person with the long record (p95 at most 200 ms);
3. the team board (``/teams/{team_id}/board``) of the smallest team with at least 500 people on its caseload (the
   synthetic trust is cut into CMHTs of about 500 for this: ``--people-per-cmht``), signed in as its team manager
   (issue 4: a 500-person team, p95 at most 150 ms; its real size is reported), and the trust safety view
   (``/trust/safety``), after the safety net has been run over the trust (``safetynet tasks reconcile``) so that both
   have tasks to show.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import select

from benchmarks.record import SAFETYNET, add_long_record, synth
from benchmarks.report import Report, free_port, median_p95, percentile
from safetynet.access import accounts
from safetynet.core.clock import LONDON, FixedClock
from safetynet.core.context import Actor, Context, Role
from safetynet.core.db import make_engine, unit_of_work
from safetynet.core.facts import known_at
from safetynet.record.episodes.models import Episode, EpisodeStatus, KeyWorkerAllocation
from safetynet.record.org import service as org
from safetynet.record.org.models import Staff, Team
from safetynet.web.app import create_app
from safetynet.web.settings import WebSettings

TITLE = "The web app"
INTRO = (
    "Real HTTP on loopback: uvicorn in a background thread, clients signed in as a key worker and a team manager, each "
    "request timed from sending it to the last byte. The audit of every read is included, as in production."
)

END_OF_STORIES = datetime(2026, 10, 31, 17, 0, tzinfo=LONDON)  # the synthetic stories end on 31 October 2026
PASSWORD = "benchmark password, synthetic"
WANTED_CASELOAD = 35
WANTED_TEAM = 500
# The default synthetic trust cuts its CMHTs small (about 140 open people each); this benchmark's trust has one CMHT
# per 1,500 people, so about 500 are open to each, as in trusts whose CMHTs serve whole towns.
PEOPLE_PER_CMHT = 1500
SETUP = Actor(name="Benchmark set-up", role=Role.SYSTEM, purpose="benchmark")


def _key_worker(url: str) -> tuple[str, int]:
    """The key worker whose caseload is nearest 35, with an account; their username and caseload size."""
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            ctx = Context(session, SETUP, FixedClock(END_OF_STORIES))
            allocations = session.scalars(
                known_at(KeyWorkerAllocation).where(
                    KeyWorkerAllocation.entered_in_error.is_(False), KeyWorkerAllocation.ended_at.is_(None)
                )
            )
            sizes = Counter(a.staff_id for a in allocations)
            roles = dict(session.execute(select(Staff.id, Staff.role)).tuples().all())
            candidates = [
                (abs(n - WANTED_CASELOAD), sid, n) for sid, n in sizes.items() if roles.get(sid) == "key_worker"
            ]
            _, staff_id, size = min(candidates)
            staff = org.get_staff(ctx, staff_id)
            account = accounts.find(ctx, "benchmark") or accounts.create(
                ctx, staff_id=staff.id, username="benchmark", password=PASSWORD
            )
            assert account.staff_id == staff.id
    finally:
        engine.dispose()
    return "benchmark", size


def _team_manager(url: str) -> tuple[str, str, int]:
    """The smallest team with at least 500 people on its caseload (else the nearest), an account for its team
    manager; (username, team id, size)."""
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            ctx = Context(session, SETUP, FixedClock(END_OF_STORIES))
            open_episodes = Counter(
                team_id
                for team_id, status in session.execute(
                    known_at(Episode)
                    .with_only_columns(Episode.team_id, Episode.status)
                    .where(Episode.entered_in_error.is_(False))
                )
                if status == EpisodeStatus.ACTIVE
            )
            managed = set(session.scalars(select(Staff.team_id).where(Staff.role == Role.TEAM_MANAGER)))
            sizes = [(n, tid) for tid, n in open_episodes.items() if tid in managed]
            # The smallest team of at least 500 (a larger one is a harder test), else the one nearest 500.
            large_enough = [s for s in sizes if s[0] >= WANTED_TEAM]
            size, team_id = min(large_enough) if large_enough else min(sizes, key=lambda s: abs(s[0] - WANTED_TEAM))
            team = session.get(Team, team_id)
            assert team is not None
            manager = org.team_staff(ctx, team.id, Role.TEAM_MANAGER)[0]
            account = accounts.find(ctx, "benchmark-manager") or accounts.create(
                ctx, staff_id=manager.id, username="benchmark-manager", password=PASSWORD
            )
            assert account.staff_id == manager.id
    finally:
        engine.dispose()
    return "benchmark-manager", team_id, size


def _safety_lead(url: str) -> str:
    """An account for the trust's first safety lead; its username."""
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            ctx = Context(session, SETUP, FixedClock(END_OF_STORIES))
            lead = session.scalars(select(Staff).where(Staff.role == Role.SAFETY_LEAD).order_by(Staff.name)).first()
            assert lead is not None, "the synthetic trust has no safety lead"
            account = accounts.find(ctx, "benchmark-lead") or accounts.create(
                ctx, staff_id=lead.id, username="benchmark-lead", password=PASSWORD
            )
            assert account.staff_id == lead.id
    finally:
        engine.dispose()
    return "benchmark-lead"


def _reconcile(url: str) -> float:
    """The safety net over the whole trust, as ``make run`` does after ``safetynet synth``; its wall time in seconds.

    One unit of work with no output until it ends, so the elapsed time is printed every 30 seconds meanwhile."""
    env = os.environ | {"SAFETYNET_DATABASE_URL": url}
    command = [str(SAFETYNET), "tasks", "reconcile", "--as-of", "2026-10-31"]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, text=True)
        while True:
            try:
                returncode = process.wait(timeout=30)
                break
            except subprocess.TimeoutExpired:
                print(f"  ... reconciling, {time.perf_counter() - start:.0f} s", flush=True)
        seconds = time.perf_counter() - start
        output.seek(0)
        said = output.read().strip()
    if returncode not in (0, 1):  # 1: some rule failed for someone (shown on the trust view), not a harness error
        raise RuntimeError(f"tasks reconcile failed ({returncode}): {said}")
    print(f"  {said} ({seconds:.0f} s)", flush=True)
    return seconds


def _prepared(folder: Path, patients: int, facts: int) -> tuple[str, str, float, float, str | None]:
    """A synthetic trust with a long record, after the safety net has run over it: (database URL, the long record's
    NHS number, synth seconds, reconcile seconds, when it was built if reused). Reused if ``folder`` already holds
    one of this size."""
    done = folder / f"web-{patients}-{facts}-cmht{PEOPLE_PER_CMHT}.json"
    if done.exists():
        kept = json.loads(done.read_text())
        print(f"reusing the trust of {patients:,} in {folder} (built {kept['built']})", flush=True)
        return kept["url"], kept["nhs_number"], kept["synth_seconds"], kept["reconcile_seconds"], kept["built"]
    print(f"synth {patients:,} people ...", flush=True)
    run, url = synth(folder, patients, "--people-per-cmht", str(PEOPLE_PER_CMHT))
    print(f"  {run.facts:,} facts in {run.seconds:.0f} s; a long record of {facts:,} facts ...", flush=True)
    nhs_number, _ = add_long_record(url, facts)
    print("safetynet tasks reconcile ...", flush=True)
    reconcile_seconds = _reconcile(url)
    built = time.strftime("%Y-%m-%d %H:%M")
    record = {"url": url, "nhs_number": nhs_number, "synth_seconds": run.seconds}
    done.write_text(json.dumps(record | {"reconcile_seconds": reconcile_seconds, "built": built}))
    return url, nhs_number, run.seconds, reconcile_seconds, None


@contextmanager
def _serving(url: str) -> Iterator[str]:
    settings = WebSettings(
        database_url=url, secret_key="benchmark", secure_cookies=False, clock=FixedClock(END_OF_STORIES)
    )
    port = free_port()

    class Server(uvicorn.Server):
        def install_signal_handlers(self) -> None:
            pass

    server = Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _signed_in(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=60)
    form = client.get("/sign-in").text
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form)
    assert found
    answer = client.post("/sign-in", data={"username": username, "password": PASSWORD, "csrf_token": found.group(1)})
    assert answer.status_code == 303, answer.text[:500]
    return client


def _timings(client: httpx.Client, path: str, runs: int) -> list[float]:
    timings = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        answer = client.get(path)
        timings.append(time.perf_counter() - start)
        assert answer.status_code == 200, f"{path}: {answer.status_code}"
    return timings[1:]  # the first warms the caches


def measure(quick: bool) -> Report:
    patients, facts, runs = (300, 300, 10) if quick else (100_000, 2_000, 50)
    report = Report()
    kept = os.environ.get("SAFETYNET_BENCH_WEB_DIR")
    with tempfile.TemporaryDirectory(prefix="safetynet-web-bench-") as tmp:
        folder = Path(kept) if kept else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        url, nhs_number, synth_seconds, reconcile_seconds, built = _prepared(folder, patients, facts)
        report.add(
            f"set-up: `safetynet synth`, then `safetynet tasks reconcile`, trust of {patients:,}",
            f"{synth_seconds:.0f} s, then {reconcile_seconds:.0f} s"
            + (f" (when this trust was built, {built}; reused for these figures)" if built else ""),
        )
        username, caseload = _key_worker(url)
        manager, team_id, team_size = _team_manager(url)
        with _serving(url) as base:
            client = _signed_in(base, username)
            try:
                timings = _timings(client, "/", runs)
                report.add(
                    f"My work, a key worker with {caseload} people, trust of {patients:,}",
                    median_p95(timings),
                    "p95 ≤ 150 ms (issue 4)",
                    None if quick else percentile(timings, 0.95) <= 0.15,
                )
            finally:
                client.close()
            # The long record is on no team of the key worker's, and the access model (issue 7) refuses a record
            # without a legitimate relationship: its summary is read by a safety lead, for oversight.
            client = _signed_in(base, _safety_lead(url))
            try:
                timings = _timings(client, f"/people/{nhs_number}", runs)
                report.add(
                    f"person summary, {facts:,} facts, trust of {patients:,}",
                    median_p95(timings),
                    "p95 ≤ 200 ms (issue 4)",
                    None if quick else percentile(timings, 0.95) <= 0.2,
                )
            finally:
                client.close()
            client = _signed_in(base, manager)
            try:
                timings = _timings(client, f"/teams/{team_id}/board", runs)
                # The target is for a 500-person team: judged on a team of at least nine tenths of that (a larger one
                # is a harder test than the target asks).
                sized = team_size >= WANTED_TEAM * 9 // 10
                report.add(
                    f"team board, a team of {team_size} people, trust of {patients:,}",
                    median_p95(timings),
                    "p95 ≤ 150 ms (issue 4, a 500-person team)" + ("" if sized else ": not judged on this team"),
                    None if quick or not sized else percentile(timings, 0.95) <= 0.15,
                )
                if not sized and not quick:
                    report.notes.append(
                        f"The synthetic trust has no team of {WANTED_TEAM} people or more: the largest has "
                        f"{team_size}, so the team board's target is not judged here."
                    )
                timings = _timings(client, "/trust/safety", runs)
                report.add(f"trust safety view, trust of {patients:,}", median_p95(timings))
            finally:
                client.close()
    return report
