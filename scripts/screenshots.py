"""Regenerate docs/screenshots/*.png: the web app's main pages on a seeded synthetic trust, in Debian's Chromium.

    .venv/bin/python scripts/screenshots.py                 # a fresh 1,500-person trust in a temporary database
    .venv/bin/python scripts/screenshots.py --patients 3000 # a bigger one

It does what ``make run`` does, in a throwaway SQLite database: ``safetynet db upgrade``, ``safetynet synth``
(seed 7), ``safetynet tasks reconcile``, ``safetynet accounts demo`` (its printed logins are read back), then
``safetynet serve`` on a free loopback port, and Playwright signs in as each demo role and saves each page. Pages
another area has not built yet are skipped with a note. Synthetic data only.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
SAFETYNET = str(ROOT / ".venv" / "bin" / "safetynet")
CHROMIUM = "/usr/bin/chromium"
WIDTH = 1280
TALLEST = 2600  # long pages (a 150-person board) are cut here: the top is what a screenshot is for


def run(env: dict[str, str], *args: str, allowed: tuple[int, ...] = (0,)) -> str:
    print("$ safetynet", " ".join(args), flush=True)
    done = subprocess.run([SAFETYNET, *args], env=env, capture_output=True, text=True)  # noqa: S603 (our own command)
    if done.returncode not in allowed:
        raise SystemExit(f"safetynet {' '.join(args)} failed ({done.returncode}):\n{done.stderr or done.stdout}")
    return done.stdout


def logins(printed: str) -> dict[str, tuple[str, str]]:
    """``safetynet accounts demo``'s table: role -> (username, password)."""
    found: dict[str, tuple[str, str]] = {}
    for line in printed.splitlines():
        match = re.search(r"(demo-[a-z-]+)\s+(\S+)\s*$", line)
        if match:
            found[match.group(1).removeprefix("demo-")] = (match.group(1), match.group(2))
    return found


@contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(  # noqa: S603 (our own command)
        [SAFETYNET, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/sign-in", timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("safetynet serve did not start") from None
                time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


def shoot(page: Any, name: str) -> None:
    height = min(TALLEST, page.evaluate("document.documentElement.scrollHeight"))
    page.screenshot(
        path=str(OUT / f"{name}.png"), clip={"x": 0, "y": 0, "width": WIDTH, "height": height}, full_page=True
    )
    print(f"wrote docs/screenshots/{name}.png", flush=True)


def sign_in(page: Any, username: str, password: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in**")


def pages(base: str, accounts: dict[str, tuple[str, str]]) -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(base_url=base, viewport={"width": WIDTH, "height": 900})
        # Only loopback: the NHS.UK stylesheet's fonts on assets.nhs.uk cannot be reached from here.
        context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto("/sign-in")
        shoot(page, "sign-in")

        sign_in(page, *accounts["key-worker"])
        page.get_by_role("heading", name="My work", level=1).wait_for()
        shoot(page, "my-work")
        # The person of the first task on the list: someone with open findings to show.
        person = page.locator("main a[href^='/people/']").first
        nhs_number = (person.get_attribute("href") or "").split("#")[0].rsplit("/", 1)[-1]
        page.goto(f"/people/{nhs_number}")
        shoot(page, "person")
        for name, path in (("chronology", "chronology"), ("discharge", "discharge"), ("recording", "record/contact")):
            answer = page.goto(f"/people/{nhs_number}/{path}")
            if answer is not None and answer.ok:
                shoot(page, name)
            else:
                print(f"skipped {name}: /people/{nhs_number}/{path} answered {answer.status if answer else '?'}")
        sign_out(page)

        sign_in(page, *accounts["team-manager"])
        page.goto("/board")
        page.locator("h1").wait_for()
        shoot(page, "team-board")
        sign_out(page)

        sign_in(page, *accounts["safety-lead"])
        page.goto("/trust/safety")
        page.get_by_role("heading", name="Trust safety", level=1).wait_for()
        shoot(page, "trust-safety")
        page.get_by_role("link", name="Indicators").first.click()
        page.get_by_role("heading", name="Trust indicators", level=1).wait_for()
        shoot(page, "trust-indicators")
        page.goto("/trust/indicators/DNA01")
        page.get_by_role("heading", name="DNA01 Did-not-attend rate", level=1).wait_for()
        shoot(page, "indicator-spc")
        sign_out(page)

        sign_in(page, *accounts["national-analyst"])
        page.get_by_role("heading", name="National oversight", level=1).wait_for()
        page.get_by_label("Indicator").select_option("DNA01")
        page.get_by_role("button", name="Show").click()
        page.get_by_role("img", name=re.compile("DNA01 Did-not-attend rate by provider")).wait_for()
        shoot(page, "national-funnel")
        browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=1500, help="size of the synthetic trust (default 1,500)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="safetynet-screenshots-") as tmp:
        env = dict(os.environ)
        env["SAFETYNET_DATABASE_URL"] = f"sqlite:///{tmp}/screenshots.db"
        key = Path(tmp) / "secret-key"
        key.write_text(os.urandom(32).hex())
        env["SAFETYNET_SECRET_KEY_FILE"] = str(key)
        env.pop("SAFETYNET_SECRET_KEY", None)
        run(env, "db", "upgrade")
        run(env, "synth", "--patients", str(args.patients), "--seed", "7")
        # Exit status 1 means some rule failed for someone: the trust safety view shows it, as it should.
        run(env, "tasks", "reconcile", "--as-of", "2026-10-31", allowed=(0, 1))
        run(env, "indicators", "refresh")
        env["SAFETYNET_NATIONAL_DB"] = f"{tmp}/national.duckdb"
        # A small national population, split into provider extracts and loaded as providers would send them.
        extracts = Path(tmp) / "extracts"
        run(
            env,
            "national",
            "synth",
            "--providers",
            "12",
            "--patients",
            "24000",
            "--period",
            "2026-10",
            "--out",
            f"{tmp}/national-synth",
            "--extracts",
            str(extracts),
        )
        run(env, "national", "ingest", *sorted(str(p) for p in extracts.iterdir()))
        accounts = logins(run(env, "accounts", "demo"))
        missing = {"key-worker", "team-manager", "safety-lead", "national-analyst"} - accounts.keys()
        if missing:
            raise SystemExit(f"no demo login for {', '.join(sorted(missing))}")
        with serving(env) as base:
            pages(base, accounts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
