"""Transaction and batch Bundles. A transaction is all or nothing in the caller's ONE unit of work (so the safety
net reconciles once, after everything is written); a batch answers each entry on its own (each in a savepoint)."""

from __future__ import annotations

from typing import Any

from safetynet.core.context import Context
from safetynet.core.errors import NotFound, SafetynetError, ValidationFailed
from safetynet.interop.fhir import store
from safetynet.interop.fhir.mapping.base import FHIR_ID, Issue, Refused, Res
from safetynet.interop.fhir.outcome import operation_outcome

RANK = {"Organization": 0, "Practitioner": 1, "Patient": 2}


def _org_rank(res: Res) -> int:
    """The trust before its teams."""
    return 0 if res.get("resourceType") == "Organization" and not res.get("partOf") and res.get("identifier") else 1


def process(ctx: Context, bundle: Res) -> Res:
    """Apply a transaction or batch Bundle; the response Bundle, or Refused (for a transaction) naming the entry."""
    kind = bundle.get("type")
    if bundle.get("resourceType") != "Bundle" or kind not in ("transaction", "batch"):
        raise Refused(
            [Issue("Bundle.type", "POST to the base takes a Bundle of type transaction or batch", "invalid")], 400
        )
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise Refused([Issue("Bundle.entry", "must be a list", "structure")], 400)
    plans: list[tuple[int, str, Res, str | None, str | None]] = []  # (index, method, resource, id, if-match)
    issues: list[Issue] = []
    urls: dict[str, str] = {}
    for n, entry in enumerate(entries):
        where = f"Bundle.entry[{n}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            issues.append(Issue(f"{where}.resource", "each entry carries a resource", "required"))
            continue
        res = entry["resource"]
        request = entry.get("request") or {}
        method = str(request.get("method", "")).upper()
        url = str(request.get("url", ""))
        type_ = str(res.get("resourceType"))
        if method == "DELETE":
            issues.append(
                Issue(
                    f"{where}.request",
                    "nothing is deleted from the record: send the resource with status entered-in-error instead",
                    "not-supported",
                )
            )
            continue
        if method not in ("POST", "PUT"):
            issues.append(
                Issue(f"{where}.request.method", "entries are POST (create) or PUT (update)", "not-supported")
            )
            continue
        ident: str | None = None
        if method == "PUT":
            path = url.split("?")[0].strip("/").split("/")
            if len(path) != 2 or path[0] != type_ or not FHIR_ID.match(path[1]):
                issues.append(Issue(f"{where}.request.url", f"a PUT names {type_}/[id]", "invalid"))
                continue
            ident = path[1]
        else:
            ident = ctx.ids.new_id()
        full_url = entry.get("fullUrl")
        if isinstance(full_url, str) and full_url:
            urls[full_url] = f"{type_}/{ident}"
        urls.setdefault(f"{type_}/{ident}", f"{type_}/{ident}")
        plans.append((n, method, res, ident, request.get("ifMatch")))
    if issues and kind == "transaction":
        raise Refused(issues, 400)
    # References to entries by fullUrl (urn:uuid:...) become references to what they will be.
    for _, _, res, _, _ in plans:
        _rewrite(res, urls)
    order = sorted(plans, key=lambda p: (RANK.get(str(p[2].get("resourceType")), 3), _org_rank(p[2]), p[0]))
    responses: dict[int, Res] = {}
    for n, method, res, ident, if_match in order:
        body = dict(res)
        if method == "POST":
            body["id"] = ident
        if kind == "transaction":
            try:
                written = store.write(ctx, body, ident=ident, if_match=if_match)
            except Refused as exc:
                raise Refused([_at(n, i) for i in exc.issues], exc.status) from None
            except ValidationFailed as exc:
                raise Refused(
                    [Issue(f"Bundle.entry[{n}].resource.{p.field}", p.message) for p in exc.problems], 422
                ) from None
            responses[n] = _response(written)
        else:
            try:
                with ctx.session.begin_nested():
                    written = store.write(ctx, body, ident=ident, if_match=if_match)
                responses[n] = _response(written)
            except Refused as exc:
                responses[n] = _failed(exc.status, [_at(n, i) for i in exc.issues])
            except (ValidationFailed, NotFound, SafetynetError) as exc:
                responses[n] = _failed(422, [Issue(f"Bundle.entry[{n}]", str(exc))])
    for issue in issues:  # a batch answers entries it could not even read
        index = int(issue.expression.split("[")[1].split("]")[0])
        responses[index] = _failed(400, [issue])
    return {
        "resourceType": "Bundle",
        "type": f"{kind}-response",
        "entry": [responses[n] for n in sorted(responses)],
    }


def _at(n: int, issue: Issue) -> Issue:
    return Issue(f"Bundle.entry[{n}].resource.{issue.expression}", issue.message, issue.code)


def _response(written: store.Written) -> Res:
    res = written.resource
    version = res.get("meta", {}).get("versionId", "1")
    return {
        "resource": res,
        "response": {
            "status": "201 Created" if written.created else "200 OK",
            "location": f"{res['resourceType']}/{res['id']}/_history/{version}",
            "etag": store.etag(version),
            "lastModified": res.get("meta", {}).get("lastUpdated"),
        },
    }


def _failed(status: int, issues: list[Issue]) -> Res:
    return {"response": {"status": str(status), "outcome": operation_outcome(issues)}}


def _rewrite(value: Any, urls: dict[str, str]) -> None:
    if isinstance(value, dict):
        reference = value.get("reference")
        if isinstance(reference, str) and reference in urls:
            value["reference"] = urls[reference]
        for item in value.values():
            _rewrite(item, urls)
    elif isinstance(value, list):
        for item in value:
            _rewrite(item, urls)
