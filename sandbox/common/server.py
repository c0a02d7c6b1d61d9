"""Run an ASGI app with uvicorn on a loopback port, in a background thread.

Tests, the demo and benchmarks use this to start a portal in-process and stop it when done.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from sandbox.common.admin_client import SandboxAdmin
from sandbox.common.config import SandboxConfig


@dataclass(frozen=True)
class RunningServer:
    host: str
    port: int
    #: Further addresses served on the same port (a portal's second host, e.g. its login).
    extra_hosts: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _listen(hosts: tuple[str, ...], port: int) -> list[socket.socket]:
    """Listening sockets on one port for every host; `port=0` finds one free on all of them."""
    for _ in range(20):
        sockets: list[socket.socket] = []
        try:
            chosen = port
            for host in hosts:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sockets.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                # Accepted connections inherit it: without it a response's headers and body
                # wait on the client's delayed ACK (about 40 ms per request).
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.bind((host, chosen))
                chosen = int(sock.getsockname()[1])
            for sock in sockets:
                sock.listen(2048)
                sock.setblocking(False)
            return sockets
        except OSError:
            for sock in sockets:
                sock.close()
            if port:
                raise
    raise RuntimeError(f"no port is free on all of {', '.join(hosts)}")


@contextmanager
def serve(
    app: ASGIApp, host: str = "127.0.0.1", port: int = 0, startup_timeout: float = 15.0
) -> Iterator[RunningServer]:
    """Serve `app` until the block exits; `port=0` picks a free port.

    An app whose `state.extra_hosts` names further addresses (the Invisalign sandbox's login
    host) is served on those too, at the same port, as one server.
    """
    extra = tuple(h for h in getattr(getattr(app, "state", None), "extra_hosts", ()) if h != host)
    try:
        sockets = _listen((host, *extra), port)
    except OSError as error:
        raise RuntimeError(f"sandbox server on {host}:{port} did not start ({error})") from None
    config = uvicorn.Config(
        app,
        host=host,
        port=int(sockets[0].getsockname()[1]),
        log_level="warning",
        access_log=False,
        lifespan="auto",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=sockets)), daemon=True
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"sandbox server on {host}:{config.port} did not start")
        time.sleep(0.01)
    try:
        yield RunningServer(host, config.port, extra)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        for sock in sockets:
            sock.close()


@dataclass(frozen=True)
class PortalHandle:
    """A running sandbox portal: its base URL and, when started with admin, its admin client."""

    vendor: str
    url: str
    admin: SandboxAdmin
    #: Further hosts of the portal on the same port (the Invisalign hosted login).
    extra_hosts: tuple[str, ...] = ()


@contextmanager
def start_portal(
    vendor: str, config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> Iterator[PortalHandle]:
    """Start one vendor's portal in this process (admin API on unless the config says otherwise)."""
    from sandbox import create_app  # late: the vendor packages import this module

    app = create_app(vendor, config or SandboxConfig(admin=True))
    with serve(app, host, port) as running, SandboxAdmin(running.url) as admin:
        yield PortalHandle(vendor, running.url, admin, running.extra_hosts)
