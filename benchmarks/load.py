"""Load: many simulated users on the web app at once, and what the read audit costs (section ``load``).

    python -m benchmarks.run --section load            # 200 users for 5 minutes on a 10,000-person trust
    python -m benchmarks.run --section load --quick    # 10 users for 15 seconds on 300 people: a smoke check

The app runs as in production, in its own server process (uvicorn, two worker processes, the default SQLite
database, every read audited), on a fixed clock at the end of the synthetic stories. The load generator is this
process: asyncio with one HTTP client (its own cookies) per simulated user, sharing the machine's two cores with the
server, which makes every figure here pessimistic.

1. Audit cost (issue 7: under 15%): person-summary requests per second from 4 concurrent clients to one server
   process, with every read audited (as in production) and with read auditing switched off in the server process,
   alternated A B A B A B in the same run so that the machine's load falls on both alike, and the medians compared.
   Writes stay audited in both.
2. Load (issue 7: 0 errors): 200 simulated users sign in at random moments over the first 30 s and work until
   5 minutes are up, with a think time of 1 to 5 s between requests. Key workers (most users) open My work, then
   one of their people's summary and chronology; team managers their team board and the trust safety view; safety
   leads the trust safety view and the indicators. An error is a sign-in that fails, any answer that is not 2xx or
   3xx, or no answer within 30 s.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import statistics
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import select

from benchmarks.record import synth
from benchmarks.report import Report, free_port, percentile, uvicorn_command
from benchmarks.web import END_OF_STORIES, PASSWORD, SETUP, _reconcile
from safetynet.access import accounts
from safetynet.core.clock import FixedClock
from safetynet.core.context import Context, Role
from safetynet.core.db import make_engine, unit_of_work
from safetynet.record.org.models import Staff

TITLE = "Load and the cost of audit"
INTRO = (
    "The app in its own server process (uvicorn, two workers, SQLite, every read audited); simulated users in this "
    "process, each with its own HTTP client and session, on loopback. Load generator and server share two cores."
)
ROLES = {Role.KEY_WORKER: 0.8, Role.TEAM_MANAGER: 0.15, Role.SAFETY_LEAD: 0.05}  # the share of users in each role
NO_READ_AUDIT = "SAFETYNET_BENCHMARK_NO_READ_AUDIT"


@dataclass
class Sizes:
    patients: int
    users: int
    seconds: float
    audit_seconds: float
    ramp_seconds: float  # simulated users sign in at random moments over this long


FULL = Sizes(patients=10_000, users=200, seconds=300, audit_seconds=20, ramp_seconds=30)
QUICK = Sizes(patients=300, users=10, seconds=15, audit_seconds=5, ramp_seconds=3)


def app() -> object:
    """The app the server process serves (``uvicorn --factory benchmarks.load:app``): the production app on the
    database in ``SAFETYNET_DATABASE_URL``, on the fixed clock, with plain-HTTP cookies for loopback."""
    from safetynet.web import deps
    from safetynet.web.app import create_app
    from safetynet.web.settings import WebSettings

    if os.environ.get(NO_READ_AUDIT):  # the baseline for the audit cost: reads unaudited, writes still audited
        original = deps.Context

        def unaudited(*args: object, **kwargs: object) -> Context:
            return original(*args, **kwargs, audit_reads=False)  # type: ignore[arg-type, misc]

        deps.Context = unaudited  # type: ignore[assignment, misc]
    return create_app(WebSettings(secure_cookies=False, clock=FixedClock(END_OF_STORIES)))


@contextmanager
def _server(url: str, *, audit_reads: bool = True, workers: int = 2) -> Iterator[str]:
    port = free_port()
    env = os.environ | {"SAFETYNET_DATABASE_URL": url, "SAFETYNET_SECRET_KEY": "benchmark-load-secret-key"}
    env.pop(NO_READ_AUDIT, None)
    if not audit_reads:
        env[NO_READ_AUDIT] = "1"
    command = uvicorn_command("benchmarks.load:app", port, workers)
    # Keep idle connections longer than users think (uvicorn's default is 5 s): otherwise a request sent just as the
    # server closes an idle connection fails, which browsers retry by themselves and httpx does not.
    command += ["--timeout-keep-alive", "75"]
    process = subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parents[1])
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/sign-in", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the app's server process did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _accounts(url: str, users: int) -> dict[Role, list[str]]:
    """Accounts for key workers, team managers and safety leads of the trust, in the shares of ``ROLES``: as many
    distinct members of staff as the trust has (users beyond that share their account, each in its own session)."""
    engine = make_engine(url)
    made: dict[Role, list[str]] = defaultdict(list)
    try:
        with unit_of_work(engine) as session:
            ctx = Context(session, SETUP, FixedClock(END_OF_STORIES))
            for role, share in ROLES.items():
                wanted = max(1, round(users * share))
                staff = session.scalars(select(Staff).where(Staff.role == role).order_by(Staff.name)).all()
                for member in staff[:wanted]:
                    username = f"load-{role.value}-{len(made[role])}"
                    account = accounts.find(ctx, username) or accounts.create(
                        ctx, staff_id=member.id, username=username, password=PASSWORD
                    )
                    made[role].append(account.username)
    finally:
        engine.dispose()
    return made


async def _sign_in(client: httpx.AsyncClient, username: str) -> None:
    page = await client.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert token, "no CSRF token on the sign-in page"
    answer = await client.post(
        "/sign-in", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"}
    )
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in as {username} answered {answer.status_code}")


@dataclass
class Tally:
    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    examples: list[str] = field(default_factory=list)

    async def get(self, client: httpx.AsyncClient, page: str, path: str) -> httpx.Response | None:
        start = time.perf_counter()
        try:
            answer = await client.get(path, timeout=30)
        except httpx.HTTPError as exc:
            self.failed(page, f"{path}: {type(exc).__name__}")
            return None
        self.timings[page].append(time.perf_counter() - start)
        if answer.status_code >= 400:
            self.failed(page, f"{path}: {answer.status_code}")
            return None
        return answer

    def failed(self, page: str, what: str) -> None:
        self.errors[page] += 1
        if len(self.examples) < 5:
            self.examples.append(what)


PEOPLE = re.compile(r'href="/people/(\d{10})[#"]')


async def _user(base: str, role: Role, username: str, until: float, tally: Tally, seed: int, ramp: float) -> None:
    rng = random.Random(seed)  # think times, not secrets
    await asyncio.sleep(rng.uniform(0, ramp))  # users arrive over the first seconds, not all at once
    async with httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=30) as client:
        start = time.perf_counter()
        try:
            await _sign_in(client, username)
        except (httpx.HTTPError, RuntimeError) as exc:
            tally.failed("sign-in", f"sign-in as {username}: {exc!r}")
            return
        tally.timings["sign-in"].append(time.perf_counter() - start)
        while time.monotonic() < until:
            if role is Role.KEY_WORKER:
                work = await tally.get(client, "My work", "/")
                people = PEOPLE.findall(work.text) if work is not None else []
                if people:
                    nhs_number = rng.choice(people)
                    await asyncio.sleep(rng.uniform(1, 5))
                    await tally.get(client, "person summary", f"/people/{nhs_number}")
                    await asyncio.sleep(rng.uniform(1, 5))
                    await tally.get(client, "chronology", f"/people/{nhs_number}/chronology")
            elif role is Role.TEAM_MANAGER:
                await tally.get(client, "team board", "/board")
                await asyncio.sleep(rng.uniform(1, 5))
                await tally.get(client, "trust safety", "/trust/safety")
            else:
                await tally.get(client, "trust safety", "/trust/safety")
                await asyncio.sleep(rng.uniform(1, 5))
                await tally.get(client, "trust indicators", "/trust/indicators")
            await asyncio.sleep(rng.uniform(1, 5))


async def _load(base: str, logins: dict[Role, list[str]], sizes: Sizes) -> Tally:
    users, seconds = sizes.users, sizes.seconds
    tally = Tally()
    until = time.monotonic() + seconds
    plan: list[tuple[Role, str]] = []
    for role, share in ROLES.items():
        names = logins[role]
        plan += [(role, names[i % len(names)]) for i in range(max(1, round(users * share)))]
    await asyncio.gather(
        *(_user(base, role, name, until, tally, i, sizes.ramp_seconds) for i, (role, name) in enumerate(plan[:users]))
    )
    return tally


async def _throughput(base: str, username: str, nhs_numbers: list[str], seconds: float, clients: int = 4) -> float:
    """Person summaries answered per second by ``clients`` clients asking back to back for ``seconds``."""
    done = 0

    async def one(index: int) -> None:
        nonlocal done
        async with httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=30) as client:
            await _sign_in(client, username)
            until = time.monotonic() + seconds
            i = index
            while time.monotonic() < until:
                answer = await client.get(f"/people/{nhs_numbers[i % len(nhs_numbers)]}", timeout=30)
                answer.raise_for_status()
                done += 1
                i += clients

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(clients)))
    return done / (time.perf_counter() - start)


async def _caseload(base: str, username: str) -> list[str]:
    async with httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=30) as client:
        await _sign_in(client, username)
        return sorted(set(PEOPLE.findall((await client.get("/")).text)))


def measure(quick: bool) -> Report:
    sizes = QUICK if quick else FULL
    report = Report()
    with tempfile.TemporaryDirectory(prefix="safetynet-load-bench-") as tmp:
        print(f"synth {sizes.patients:,} people ...", flush=True)
        _, url = synth(Path(tmp), sizes.patients)
        print("safetynet tasks reconcile ...", flush=True)
        _reconcile(url)
        logins = _accounts(url, sizes.users)
        key_worker = logins[Role.KEY_WORKER][0]

        rates: dict[bool, list[float]] = {True: [], False: []}
        # Alternating, three of each, and the medians compared: one run in several is disturbed by the machine's
        # other work, and the order must not favour either.
        for audited in (True, False) * 3:
            # One server process: with two, the four clients' connections fall on them by chance (all on one, or two
            # each), which doubled or halved a run's throughput whatever was audited.
            with _server(url, audit_reads=audited, workers=1) as base:
                people = asyncio.run(_caseload(base, key_worker))
                rate = asyncio.run(_throughput(base, key_worker, people, sizes.audit_seconds))
                rates[audited].append(rate)
                print(f"  person summary, reads {'audited' if audited else 'not audited'}: {rate:.1f}/s", flush=True)
        with_audit, without = statistics.median(rates[True]), statistics.median(rates[False])
        cost = 1 - with_audit / without
        report.add(
            f"person summary throughput, 4 clients, one server process, trust of {sizes.patients:,}: "
            "reads audited vs not",
            f"medians {with_audit:.1f}/s vs {without:.1f}/s: audit costs {100 * cost:.0f}% "
            f"(runs {', '.join(f'{r:.1f}' for r in rates[True])} vs {', '.join(f'{r:.1f}' for r in rates[False])})",
            "under 15% (issue 7)",
            None if quick else cost < 0.15,
        )

        with _server(url) as base:
            print(f"{sizes.users} users for {sizes.seconds:.0f} s ...", flush=True)
            tally = asyncio.run(_load(base, logins, sizes))
        everything = [t for timings in tally.timings.values() for t in timings]
        errors = sum(tally.errors.values())
        report.add(
            f"{sizes.users} simulated users for {sizes.seconds / 60:g} min, trust of {sizes.patients:,}: errors",
            f"{errors} of {len(everything) + errors} requests"
            + (f" (e.g. {'; '.join(tally.examples)})" if tally.examples else ""),
            "0 (issue 7)",
            None if quick else errors == 0,
        )
        report.add(
            f"{sizes.users} simulated users: all requests",
            f"{len(everything) / sizes.seconds:.1f} requests/s; median {1000 * statistics.median(everything):.0f} ms,"
            f" p95 {1000 * percentile(everything, 0.95):.0f} ms, p99 {1000 * percentile(everything, 0.99):.0f} ms",
        )
        for page, timings in sorted(tally.timings.items()):
            report.add(
                f"{sizes.users} simulated users: {page}",
                f"median {1000 * statistics.median(timings):.0f} ms, p95 {1000 * percentile(timings, 0.95):.0f} ms "
                f"({len(timings)} requests)",
            )
    report.notes.append(
        "Simulated users sign in over the first 30 s and think for 1 to 5 s between requests; a sign-in is an "
        "argon2id hash, deliberately slow (tens of ms of CPU). Two uvicorn workers on SQLite; a trust would run "
        "PostgreSQL behind more workers. The load generator (this process) takes part of the same two cores."
    )
    return report
