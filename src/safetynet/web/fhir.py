"""The FHIR R4 REST API under ``/fhir``: read, vread, search, history, create, update (ETag, If-Match),
transaction and batch Bundles, ``$import`` and ``$export``. Every error is an OperationOutcome; nothing here is in
the OpenAPI schema (the CapabilityStatement at ``/fhir/metadata`` describes it). ``docs/fhir.md`` has the mapping."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from safetynet.audit import service as audit
from safetynet.core.context import Actor, Context
from safetynet.core.errors import NotFound, SafetynetError, ValidationFailed
from safetynet.interop.fhir import bulk, store, transaction
from safetynet.interop.fhir.capability import capability_statement
from safetynet.interop.fhir.mapping import READABLE_TYPES
from safetynet.interop.fhir.mapping.base import Issue, Refused, Res
from safetynet.interop.fhir.outcome import operation_outcome
from safetynet.interop.text import whole_number
from safetynet.web import deps
from safetynet.web.api_auth import api_actor

FHIR_JSON = "application/fhir+json"
NDJSON = "application/fhir+ndjson"
log = logging.getLogger(__name__)

router = APIRouter(prefix="/fhir", include_in_schema=False)


def fhir(body: Res, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=FHIR_JSON, headers=headers)


def outcome(issues: list[Issue], status: int) -> Response:
    return fhir(operation_outcome(issues), status)


def _guard(work: Callable[[], Response]) -> Response:
    """Every failure becomes an OperationOutcome (never a bare 500)."""
    try:
        return work()
    except Refused as exc:
        return outcome(exc.issues, exc.status)
    except ValidationFailed as exc:
        return outcome([Issue(p.field, p.message, "business-rule") for p in exc.problems], 422)
    except NotFound as exc:
        return outcome([Issue("", str(exc), "not-found")], 404)
    except SafetynetError as exc:
        return outcome([Issue("", str(exc), "business-rule")], 422)
    except SQLAlchemyError as exc:
        log.exception("FHIR request refused by the database")
        return outcome([Issue("", f"the database refused the change: {type(exc).__name__}", "conflict")], 409)
    except Exception as exc:  # the promise is an OperationOutcome, whatever happened
        log.exception("FHIR request failed")
        return outcome([Issue("", f"internal error: {type(exc).__name__}", "exception")], 500)


async def _body(request: Request) -> Res:
    raw = await request.body()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Refused([Issue("", f"the body is not JSON: {exc}", "structure")], 400) from None
    if not isinstance(body, dict):
        raise Refused([Issue("", "the body must be a FHIR resource (a JSON object)", "structure")], 400)
    return body


def _kind(kind: str) -> None:
    if kind not in READABLE_TYPES:
        raise Refused([Issue(kind, f"this server does not serve {kind} (see /fhir/metadata)", "not-supported")], 404)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir"


def _audit_reads(ctx: Context, kind: str, resources: list[Res]) -> None:
    people = {_person(res) for res in resources} - {None}
    for person in sorted(p for p in people if p):
        audit.record_read(ctx, entity=f"fhir {kind}", patient_id=person)


def _person(res: Res) -> str | None:
    if res.get("resourceType") == "Patient":
        return str(res["id"])
    for element in ("subject", "patient", "for"):
        reference = (res.get(element) or {}).get("reference") if isinstance(res.get(element), dict) else None
        if isinstance(reference, str) and reference.startswith("Patient/"):
            return reference.partition("/")[2]
    for participant in res.get("participant") or []:
        reference = ((participant or {}).get("actor") or {}).get("reference")
        if isinstance(reference, str) and reference.startswith("Patient/"):
            return reference.partition("/")[2]
    return None


def _read_only(request: Request, actor: Actor, work: Callable[[Context], Response]) -> Response:
    with deps.unit_of_work(request, actor) as ctx:
        return work(ctx)


def _with_version(res: Res, status: int = 200, base: str = "") -> Response:
    version = res.get("meta", {}).get("versionId", "1")
    headers = {"ETag": store.etag(version)}
    if res.get("meta", {}).get("lastUpdated"):
        headers["Last-Modified"] = res["meta"]["lastUpdated"]
    if status == 201:
        headers["Location"] = f"{base}/{res['resourceType']}/{res['id']}/_history/{version}"
    return fhir(res, status, headers)


# --- capability --------------------------------------------------------------------------------------------------


@router.get("/metadata")
def metadata(request: Request) -> Response:
    return fhir(capability_statement(deps.clock(request).now(), _base(request)))


# --- bulk ----------------------------------------------------------------------------------------------------------


@router.post("/$import")
async def bulk_import(request: Request, actor: Actor = Depends(api_actor)) -> Response:  # noqa: B008
    raw = await request.body()

    def work() -> Response:
        import io

        importer = bulk.Importer(deps.engine(request), deps.clock(request), actor=actor)
        report = importer.run(bulk.read_stream(io.BytesIO(raw), "request body"))
        return fhir(report.as_outcome(), 200)

    return await run_in_threadpool(_guard, work)


@router.get("/$export")
def bulk_export(request: Request, actor: Actor = Depends(api_actor)) -> Response:  # noqa: B008
    def work() -> Response:
        with deps.unit_of_work(request, actor) as ctx:
            audit.record(ctx, action="read", entity="fhir $export", detail="bulk export manifest")
            now = ctx.clock.now()
        base = _base(request)
        return Response(
            orjson.dumps(
                {
                    "transactionTime": now.isoformat(),
                    "request": str(request.url),
                    "requiresAccessToken": True,
                    "output": [{"type": kind, "url": f"{base}/$export/{kind}.ndjson"} for kind in bulk.DEFAULT_EXPORT],
                    "error": [],
                }
            ),
            media_type="application/json",
        )

    return _guard(work)


@router.get("/$export/{name}")
def bulk_export_file(name: str, request: Request, actor: Actor = Depends(api_actor)) -> Response:  # noqa: B008
    kind = name.removesuffix(".ndjson")
    if kind not in READABLE_TYPES:
        return outcome([Issue(kind, f"no export of {kind}", "not-found")], 404)

    def work() -> Response:
        with deps.unit_of_work(request, actor) as ctx:
            audit.record(ctx, action="read", entity="fhir $export", detail=f"bulk export of {kind}")

        def lines() -> Iterator[bytes]:
            with Session(deps.engine(request)) as session, session.begin():
                yield from bulk.export_lines(session, kind)

        return StreamingResponse(lines(), media_type=NDJSON)

    return _guard(work)


# --- transaction / batch -------------------------------------------------------------------------------------------


@router.post("")
@router.post("/")
async def bundle(request: Request, actor: Actor = Depends(api_actor)) -> Response:  # noqa: B008
    try:
        body = await _body(request)
    except Refused as exc:
        return outcome(exc.issues, exc.status)

    def work() -> Response:
        with deps.unit_of_work(request, actor) as ctx:
            result = transaction.process(ctx, body)
        return fhir(result)

    return await run_in_threadpool(_guard, work)


# --- per type ------------------------------------------------------------------------------------------------------


@router.get("/{kind}")
def search(kind: str, request: Request, actor: Actor = Depends(api_actor)) -> Response:  # noqa: B008
    def work() -> Response:
        _kind(kind)
        params = list(request.query_params.multi_items())

        def run(ctx: Context) -> Response:
            page = store.search(ctx.session, kind, params)
            _audit_reads(ctx, kind, page.resources)
            return fhir(_searchset(request, kind, params, page))

        return _read_only(request, actor, run)

    return _guard(work)


def _searchset(request: Request, kind: str, params: list[tuple[str, str]], page: store.Page) -> Res:
    base = f"{_base(request)}/{kind}"
    kept = [(k, v) for k, v in params if k not in ("_offset",)]
    count = next((n for k, v in params if k == "_count" and (n := whole_number(v)) is not None), 50)
    offset = next((n for k, v in params if k == "_offset" and (n := whole_number(v)) is not None), 0)

    def link(relation: str, at: int) -> Res:
        return {"relation": relation, "url": f"{base}?{urlencode([*kept, ('_offset', str(at))])}"}

    links = [link("self", offset)]
    if offset + count < page.total:
        links.append(link("next", offset + count))
    if offset > 0:
        links.append(link("previous", max(0, offset - count)))
    made = store.bundle_of(page.resources, "searchset", page.total, links)
    for entry in made["entry"]:
        entry["fullUrl"] = f"{_base(request)}/{entry['fullUrl']}"
        entry["search"] = {"mode": "match"}
    return made


@router.post("/{kind}")
async def create(kind: str, request: Request, actor: Actor = Depends(api_actor)) -> Response:  # noqa: B008
    try:
        body = await _body(request)
    except Refused as exc:
        return outcome(exc.issues, exc.status)

    def work() -> Response:
        if body.get("resourceType") != kind:
            raise Refused(
                [Issue(f"{kind}.resourceType", f"the body is a {body.get('resourceType')}, not a {kind}", "invalid")],
                400,
            )
        body.pop("id", None)
        with deps.unit_of_work(request, actor) as ctx:
            written = store.write(ctx, body, ident=None)
        return _with_version(written.resource, 201, _base(request))

    return await run_in_threadpool(_guard, work)


@router.get("/{kind}/{ident}")
def read(kind: str, ident: str, request: Request, actor: Actor = Depends(api_actor)) -> Response:  # noqa: B008
    def work() -> Response:
        _kind(kind)

        def run(ctx: Context) -> Response:
            res = store.read(ctx.session, kind, ident)
            if res is None:
                return outcome([Issue(f"{kind}/{ident}", f"{kind}/{ident} is not known", "not-found")], 404)
            _audit_reads(ctx, kind, [res])
            return _with_version(res)

        return _read_only(request, actor, run)

    return _guard(work)


@router.put("/{kind}/{ident}")
async def update(kind: str, ident: str, request: Request, actor: Actor = Depends(api_actor)) -> Response:  # noqa: B008
    try:
        body = await _body(request)
    except Refused as exc:
        return outcome(exc.issues, exc.status)
    if_match = request.headers.get("if-match")

    def work() -> Response:
        if body.get("resourceType") != kind:
            raise Refused(
                [Issue(f"{kind}.resourceType", f"the body is a {body.get('resourceType')}, not a {kind}", "invalid")],
                400,
            )
        with deps.unit_of_work(request, actor) as ctx:
            written = store.write(ctx, body, ident=ident, if_match=if_match)
        return _with_version(written.resource, 201 if written.created else 200, _base(request))

    return await run_in_threadpool(_guard, work)


@router.delete("/{kind}/{ident}")
def delete(kind: str, ident: str, actor: Actor = Depends(api_actor)) -> Response:  # noqa: B008
    del actor
    return outcome(
        [
            Issue(
                f"{kind}/{ident}",
                "nothing is deleted from the record: update it with status entered-in-error",
                "not-supported",
            )
        ],
        405,
    )


@router.get("/{kind}/{ident}/_history")
def history(kind: str, ident: str, request: Request, actor: Actor = Depends(api_actor)) -> Response:  # noqa: B008
    def work() -> Response:
        _kind(kind)

        def run(ctx: Context) -> Response:
            versions = store.history(ctx.session, kind, ident)
            if not versions:
                return outcome([Issue(f"{kind}/{ident}", f"{kind}/{ident} is not known", "not-found")], 404)
            _audit_reads(ctx, kind, versions[:1])
            made = store.bundle_of(versions, "history", len(versions))
            for entry in made["entry"]:
                version = entry["resource"]["meta"]["versionId"]
                entry["fullUrl"] = f"{_base(request)}/{kind}/{ident}"
                entry["request"] = {"method": "POST" if version == "1" else "PUT", "url": f"{kind}/{ident}"}
                entry["response"] = {
                    "status": "201 Created" if version == "1" else "200 OK",
                    "etag": store.etag(version),
                }
            return fhir(made)

        return _read_only(request, actor, run)

    return _guard(work)


@router.get("/{kind}/{ident}/_history/{version}")
def vread(kind: str, ident: str, version: str, request: Request, actor: Actor = Depends(api_actor)) -> Response:  # noqa: B008
    def work() -> Response:
        _kind(kind)
        number = whole_number(version)
        if number is None:
            return outcome([Issue(f"{kind}/{ident}/_history/{version}", "a version is a whole number", "invalid")], 400)

        def run(ctx: Context) -> Response:
            res = store.read(ctx.session, kind, ident, number)
            if res is None:
                return outcome([Issue(f"{kind}/{ident}/_history/{version}", "no such version", "not-found")], 404)
            _audit_reads(ctx, kind, [res])
            return _with_version(res)

        return _read_only(request, actor, run)

    return _guard(work)


__all__: list[Any] = ["router"]
