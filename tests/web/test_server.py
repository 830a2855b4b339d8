"""The HTTP protocol ``safetynet serve`` gives uvicorn: Nagle's algorithm off on every connection, including those
accepted on a socket made the way uvicorn makes it for several workers (protocol number 0, which asyncio leaves
alone), where responses otherwise waited ~40 ms for the client's delayed acknowledgement."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from safetynet.web.server import HTTP_PROTOCOL, NoDelayH11Protocol


async def _hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello"})


def _nodelay_of_a_served_connection(protocol: type[H11Protocol]) -> tuple[int, bytes]:
    """Serve one request through ``protocol`` on a listening socket made as uvicorn makes it for several workers;
    the accepted connection's TCP_NODELAY, and the response."""
    config = uvicorn.Config(app=_hello, http=protocol, log_level="warning", lifespan="off")
    config.load()
    listener = socket.socket(family=socket.AF_INET)  # as uvicorn.Config.bind_socket: protocol number 0
    assert listener.proto == 0
    listener.bind(("127.0.0.1", 0))
    made: list[H11Protocol] = []
    found: dict[str, Any] = {}

    async def serve_one() -> None:
        loop = asyncio.get_running_loop()

        def factory() -> H11Protocol:
            made.append(protocol(config=config, server_state=ServerState(), app_state={}))
            return made[-1]

        server = await loop.create_server(factory, sock=listener)
        reader, writer = await asyncio.open_connection(*listener.getsockname())
        writer.write(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        await writer.drain()
        found["response"] = await reader.read(1000)
        transport = made[0].transport
        found["nodelay"] = transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        writer.close()
        server.close()

    # A thread of its own: a browser test before this one may have left an event loop running on this one.
    runner = threading.Thread(target=asyncio.run, args=(serve_one(),))
    runner.start()
    runner.join(timeout=30)
    return found["nodelay"], found["response"]


def test_uvicorns_own_h11_leaves_nagle_on_for_a_socket_made_as_for_several_workers() -> None:
    nodelay, response = _nodelay_of_a_served_connection(H11Protocol)
    assert response.startswith(b"HTTP/1.1 200")
    assert nodelay == 0  # the fault this protocol exists for: if uvicorn fixes it, this module can go


def test_safetynets_protocol_turns_nagle_off_on_every_connection() -> None:
    nodelay, response = _nodelay_of_a_served_connection(NoDelayH11Protocol)
    assert response.startswith(b"HTTP/1.1 200")
    assert b"hello" in response
    assert nodelay != 0
    assert f"{NoDelayH11Protocol.__module__}:{NoDelayH11Protocol.__name__}" == HTTP_PROTOCOL
