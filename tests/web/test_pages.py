"""The pages through the app itself (TestClient, no browser): sign-in and its refusals, who may see what, CSRF,
session expiry and sign-out, and forms that refuse bad input with the NHS error summary, fields kept, nothing
written. The world is shared: these tests change nothing a browser test relies on."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from safetynet.access.models import AccountSession
from safetynet.audit.models import AuditEvent
from safetynet.core.db import make_engine
from safetynet.record.carers.models import FamilyConcernResponse
from safetynet.tasks.models import Task, TaskEvent
from tests.web.conftest import SESSION_MINUTES, csrf_from, sign_in
from tests.web.world import OTHER, World


def _count(world: World, model: type, *where: object) -> int:
    engine = make_engine(world.url)
    with engine.connect() as connection:
        found = connection.execute(select(func.count()).select_from(model).where(*where)).scalar_one()  # type: ignore[arg-type]
    engine.dispose()
    return int(found)


def _task(world: World, task_id: str) -> Task:
    engine = make_engine(world.url)
    with engine.connect() as connection:
        row = connection.execute(select(Task.status, Task.closed_at).where(Task.id == task_id)).one()
    engine.dispose()
    return row  # type: ignore[return-value]


def test_pages_redirect_to_sign_in_and_htmx_or_program_requests_get_401(client: TestClient) -> None:
    assert client.get("/").headers["location"] == "/sign-in"
    assert client.get("/people/9990000018").headers["location"] == "/sign-in?next=/people/9990000018"
    refused = client.get("/", headers={"HX-Request": "true"})
    assert refused.status_code == 401
    assert refused.headers["HX-Redirect"] == "/sign-in"
    assert client.post("/tasks/x/acknowledge", data={"rationale": "x" * 20}).status_code == 401


def test_a_key_worker_signs_in_and_sees_my_work(client: TestClient) -> None:
    signed_in = sign_in(client, "chris")
    assert signed_in.status_code == 303
    cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    page = client.get("/")
    assert page.status_code == 200
    assert "Chris Taylor (key worker)" in page.text
    assert "Family concern unanswered" in page.text
    assert "999 000 0018" in page.text  # caseload, NHS number 3-3-4


def test_cookies_are_secure_unless_the_settings_say_plain_http(world: World) -> None:
    from safetynet.web.app import create_app
    from safetynet.web.settings import WebSettings

    app = create_app(WebSettings(database_url=world.url, secret_key="k", clock=world.clock))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as secure:
        assert "Secure" in sign_in(secure, "chris").headers["set-cookie"]


def test_sign_in_with_empty_fields_shows_the_error_summary_and_keeps_the_username(client: TestClient) -> None:
    form = client.get("/sign-in")
    refused = client.post("/sign-in", data={"username": "chris", "password": "", "csrf_token": csrf_from(form.text)})
    assert refused.status_code == 400
    assert "There is a problem" in refused.text
    assert 'href="#password"' in refused.text
    assert 'value="chris"' in refused.text
    assert "Error: Sign in" in refused.text  # the page title says so too


def test_a_wrong_password_an_unknown_user_and_a_staff_member_without_an_account_are_refused_alike(
    client: TestClient, world: World
) -> None:
    before = _count(world, AccountSession)
    for username, password in (("chris", "not the password"), ("nobody", "whatever it is"), ("mo", "anything")):
        refused = sign_in(client, username, password)
        assert refused.status_code == 401
        assert "The username or password is not right" in refused.text
    assert client.get("/").status_code == 303
    assert _count(world, AccountSession) == before
    assert _count(world, AuditEvent, AuditEvent.action == "sign_in_failed") >= 3


def test_a_sign_in_without_the_forms_token_is_refused(client: TestClient) -> None:
    refused = client.post("/sign-in", data={"username": "chris", "password": "a synthetic password 4 tests"})
    assert refused.status_code == 400
    assert "set-cookie" not in refused.headers or "safetynet_session" not in refused.headers["set-cookie"]


def test_sign_in_never_redirects_off_the_site(client: TestClient) -> None:
    form = client.get("/sign-in")
    data = {"username": "chris", "password": "a synthetic password 4 tests", "csrf_token": csrf_from(form.text)}
    assert client.post("/sign-in", data=data | {"next": "//evil.example/"}).headers["location"] == "/"


def test_an_administrator_signed_in_is_refused_clinical_pages_with_a_page_saying_why(client: TestClient) -> None:
    sign_in(client, "ada")
    for path in ("/", "/people/9990000018"):
        refused = client.get(path)
        assert refused.status_code == 403
        assert "You do not have access to this" in refused.text
        assert "administrator" in refused.text
        assert "Riley Example" not in refused.text


def test_a_post_without_its_csrf_token_is_refused_and_nothing_is_written(client: TestClient, world: World) -> None:
    sign_in(client, "chris")
    before = _count(world, TaskEvent)
    path = f"/tasks/{world.task_ids[OTHER]}/acknowledge"
    refused = client.post(path, data={"rationale": "Calling the sister back this morning"})
    assert refused.status_code == 403
    assert "This form could not be accepted" in refused.text
    wrong = client.post(path, data={"rationale": "Calling the sister back this morning", "csrf_token": "0" * 64})
    assert wrong.status_code == 403
    assert _count(world, TaskEvent) == before


def test_a_rationale_too_short_shows_the_error_summary_keeps_it_and_writes_nothing(
    client: TestClient, world: World
) -> None:
    sign_in(client, "chris")
    token = csrf_from(client.get("/").text)
    before = _count(world, TaskEvent)
    task_id = world.task_ids[OTHER]
    status = _task(world, task_id).status
    refused = client.post(f"/tasks/{task_id}/acknowledge", data={"rationale": "soon", "csrf_token": token})
    assert refused.status_code == 422
    assert "There is a problem" in refused.text
    assert f'href="#acknowledge-{task_id}-rationale"' in refused.text
    assert ">soon</textarea>" in refused.text
    snooze = client.post(
        f"/tasks/{task_id}/snooze",
        data={"rationale": "Waiting for the ward", "until": "2021-06-01", "csrf_token": token},
    )
    assert snooze.status_code == 422
    assert "14 days" in snooze.text
    assert 'value="2021-06-01"' in snooze.text
    assert _count(world, TaskEvent) == before
    assert _task(world, task_id).status == status


def test_htmx_gets_the_task_card_alone_with_its_errors(client: TestClient, world: World) -> None:
    sign_in(client, "chris")
    token = csrf_from(client.get("/").text)
    task_id = world.task_ids[OTHER]
    card = client.post(
        f"/tasks/{task_id}/dismiss", data={"rationale": ""}, headers={"HX-Request": "true", "X-CSRF-Token": token}
    )
    assert card.status_code == 422
    assert card.text.lstrip().startswith(f'<div class="nhsuk-card" id="task-{task_id}">')
    assert "There is a problem" in card.text
    assert "<html" not in card.text


def test_an_empty_family_concern_response_is_refused_with_the_error_summary_and_nothing_written(
    client: TestClient, world: World
) -> None:
    sign_in(client, "chris")
    token = csrf_from(client.get(f"/people/{OTHER}").text)
    concern = world.concern_ids[OTHER]
    before = _count(world, FamilyConcernResponse)
    refused = client.post(
        f"/people/{OTHER}/family-concerns/{concern}/response", data={"text": "   ", "csrf_token": token}
    )
    assert refused.status_code == 422
    assert "There is a problem" in refused.text
    assert f'href="#concern-{concern}-text"' in refused.text
    assert _count(world, FamilyConcernResponse) == before
    assert _task(world, world.task_ids[OTHER]).closed_at is None


def test_the_person_page_shows_the_banner_risk_history_struck_through_and_the_depot_chart(
    client: TestClient, world: World
) -> None:
    sign_in(client, "chris")
    page = client.get(f"/people/{OTHER}")
    assert page.status_code == 200
    text = page.text
    for expected in ("Riley Example", "999 000 0018", "Chris Taylor", "CMHT North", "Informal / community", "Age"):
        assert expected in text
    assert "<del>" in text
    assert "Entered in error: Recorded on the wrong person&#39;s record" in text
    assert '<svg class="sn-chart"' in text
    assert "Depot doses due and given" in text
    assert "No response yet" in text
    assert "Responded" in text


def test_reading_the_person_page_is_audited_with_its_purpose_and_reader(client: TestClient, world: World) -> None:
    sign_in(client, "lee")
    before = _count(world, AuditEvent, AuditEvent.entity == "chart", AuditEvent.actor_name == "Dr Lee Consultant")
    client.get(f"/people/{OTHER}")
    after = _count(
        world,
        AuditEvent,
        AuditEvent.entity == "chart",
        AuditEvent.actor_name == "Dr Lee Consultant",
        AuditEvent.purpose == "direct care: person summary",
    )
    assert after == before + 1


def test_an_unknown_person_is_a_friendly_404(client: TestClient) -> None:
    sign_in(client, "chris")
    missing = client.get("/people/9990000026", headers={"Accept": "text/html"})
    assert missing.status_code == 404
    assert "Not found" in missing.text
    assert client.get("/people/9990000026").json() == {"detail": "no person with NHS number 9990000026"}


def test_a_session_ends_after_the_idle_time(client: TestClient, world: World) -> None:
    sign_in(client, "pat")
    assert client.get("/").status_code == 200
    world.clock.advance(timedelta(minutes=SESSION_MINUTES + 1))
    ended = client.get("/")
    assert ended.status_code == 303
    assert "Your session ended" in client.get("/sign-in").text


def test_signing_out_ends_the_session_for_good(client: TestClient, world: World) -> None:
    sign_in(client, "dana")
    token = csrf_from(client.get("/").text)
    cookie = client.cookies.get("safetynet_session")
    sessions = _count(world, AccountSession)
    out = client.post("/sign-out", data={"csrf_token": token})
    assert out.status_code == 303
    assert out.headers["location"] == "/sign-in?signed_out=true"
    assert _count(world, AccountSession) == sessions - 1
    client.cookies.set("safetynet_session", cookie or "")
    assert client.get("/").status_code == 303


def test_acknowledging_without_javascript_redirects_back_and_keeps_who_and_why(
    client: TestClient, world: World
) -> None:
    sign_in(client, "chris")
    token = csrf_from(client.get("/").text)
    task_id = world.task_ids[OTHER]
    rationale = "Ringing his sister at ten; visit booked for this afternoon"
    done = client.post(f"/tasks/{task_id}/acknowledge", data={"rationale": rationale, "csrf_token": token, "next": "/"})
    assert done.status_code == 303
    assert done.headers["location"] == f"/#task-{task_id}"
    assert _task(world, task_id).status == "acknowledged"
    assert (
        _count(
            world,
            TaskEvent,
            TaskEvent.task_id == task_id,
            TaskEvent.rationale == rationale,
            TaskEvent.actor_name == "Chris Taylor",
            TaskEvent.actor_role == "key_worker",
        )
        == 1
    )
    card = client.post(
        f"/tasks/{task_id}/acknowledge",
        data={"rationale": rationale + " (again)"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert card.status_code == 200
    assert "Acknowledged: the task is now acknowledged." in card.text
    assert "<html" not in card.text
