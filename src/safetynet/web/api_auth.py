"""Who is calling an HTTP API (FHIR, CDS Hooks): a record system presenting a bearer token.

Tokens come from the environment: SAFETYNET_API_CLIENTS_FILE names a file of ``name token`` lines (one client per
line, ``#`` for comments), kept out of the repository and readable only by the service. Each client acts as a
system actor named after it, so the audit trail says which record system wrote or read what. The security work
(issue 7) puts these clients under the access model."""

from __future__ import annotations

import hmac
import os
from functools import cache

from fastapi import HTTPException, Request, status

from safetynet.core.context import Actor, Role


@cache
def _clients_from(path: str) -> tuple[tuple[str, str], ...]:
    clients = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, token = line.rpartition(" ")
                if name and token:
                    clients.append((name.strip(), token))
    return tuple(clients)


def clients() -> tuple[tuple[str, str], ...]:
    path = os.environ.get("SAFETYNET_API_CLIENTS_FILE")
    return _clients_from(path) if path else ()


def client_for(token: str, known: tuple[tuple[str, str], ...]) -> str | None:
    """The client whose token this is (compared in constant time), or None."""
    match = None
    for name, expected in known:
        if hmac.compare_digest(token.encode(), expected.encode()):
            match = name
    return match


def api_actor(request: Request) -> Actor:
    """FastAPI dependency: the calling record system, or 401 with a WWW-Authenticate challenge."""
    known: tuple[tuple[str, str], ...] = getattr(request.app.state, "api_clients", None) or clients()
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    name = client_for(token.strip(), known) if scheme.lower() == "bearer" and token else None
    if name is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="A bearer token of a registered API client is required.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Actor(name=name, role=Role.SYSTEM, purpose=f"{request.method} {request.url.path} by record system")
