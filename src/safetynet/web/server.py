"""How uvicorn speaks HTTP for Safetynet: h11, with Nagle's algorithm off on every connection.

With several worker processes (``safetynet serve --workers N``) uvicorn binds the listening socket itself, as
``socket.socket(family)``, whose protocol number is 0 rather than TCP's; asyncio turns Nagle's algorithm off only on
sockets that say TCP, so every connection kept it. A response written in two parts (headers, then body) then waited
for the client's delayed acknowledgement: about 40 ms added to every answer (measured: CDS Hooks patient-view on
PostgreSQL, 11 ms with one process, 54 ms with two). This protocol sets TCP_NODELAY on each connection itself.

Give it to uvicorn as ``http=HTTP_PROTOCOL`` (an import string, so worker processes can find it).
"""

from __future__ import annotations

import asyncio
import socket
from contextlib import suppress

from uvicorn.protocols.http.h11_impl import H11Protocol

HTTP_PROTOCOL = "safetynet.web.server:NoDelayH11Protocol"


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, sending each write at once (TCP_NODELAY) whatever socket the connection came from."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with suppress(OSError):  # a socket that cannot take the option still serves, as before
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
