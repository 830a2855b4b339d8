"""The same service over real HTTP on loopback: uvicorn in a thread, httpx as the record system."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import uvicorn

from safetynet.core.clock import FixedClock
from safetynet.interop.cds_hooks.settings import CdsSettings
from safetynet.web.app import create_app
from safetynet.web.settings import WebSettings
from tests.interop.cds_hooks.conftest import (
    CASEY,
    DISCHARGE,
    PATIENT_VIEW,
    TOKEN,
    at,
    fhir_patient,
    hook_request,
    valid,
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_a_record_system_over_http_gets_discovery_cards_and_a_blocked_discharge(stories: str) -> None:
    app = create_app(
        WebSettings(database_url=stories, secure_cookies=False, clock=FixedClock(at("2022-03-22T10:00"))),
        api_clients=(("test-ehr", TOKEN),),
    )
    app.state.cds_settings = CdsSettings(max_cards=5, app_url=None, rulebook_url=None)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as http:
            valid("discovery", http.get("/cds-services").json())
            body = hook_request("patient-view", "ehr-7", prefetch={"patient": fhir_patient("ehr-7", CASEY)})
            response = http.post(PATIENT_VIEW, json=body)
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("application/json")
            (card,) = valid("response", response.json())["cards"]
            assert card["links"][0]["url"] == f"{base}/people/{CASEY}"  # no app URL set: the request's own base
            rulebook = http.get(card["source"]["url"].split("#")[0], headers={"Authorization": ""})
            assert rulebook.status_code == 200
            assert 'id="sn02"' in rulebook.text
            blocked = http.post(DISCHARGE, json=hook_request("encounter-discharge", CASEY, encounterId="enc-9"))
            assert valid("response", blocked.json())["cards"][0]["indicator"] == "critical"
            assert (
                http.post(PATIENT_VIEW, content=b"[]", headers={"Content-Type": "application/json"}).status_code == 400
            )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
