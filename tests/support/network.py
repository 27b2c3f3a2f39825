"""Network guard (issue 3).

Tests reach only this machine: 127.0.0.1, ::1 and unix sockets (the embedded
PostgreSQL). Any other connection or name lookup is refused *and* fails the
test, even when the code under test swallows the error (an SDK turning it
into a "transient" failure, say).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

_LOOPBACK_NAMES = {"localhost", "::1", "ip6-localhost", "testserver"}
_network_violations: list[str] = []


def _is_loopback(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]").lower()
    return host in _LOOPBACK_NAMES or host.startswith("127.") or host == "::ffff:127.0.0.1"


def _refuse(what: str) -> OSError:
    _network_violations.append(what)
    return ConnectionRefusedError(f"tests may not reach the network ({what})")


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex
    getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            raise _refuse(f"connect to {address[0]}:{address[1]}")

    def guarded_connect(self: socket.socket, address: Any) -> None:
        check(self, address)
        return connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        check(self, address)
        return connect_ex(self, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback(host):
            _network_violations.append(f"look up {host}")
            raise socket.gaierror(socket.EAI_NONAME, f"tests may not look up {host}")
        return getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = guarded_connect  # type: ignore[method-assign, assignment]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign, assignment]
    socket.getaddrinfo = guarded_getaddrinfo
    yield
    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo


@pytest.fixture(autouse=True)
def _network_check(_no_network: None) -> Iterator[None]:
    _network_violations.clear()
    yield
    if _network_violations:
        found = ", ".join(_network_violations)
        _network_violations.clear()
        pytest.fail(f"the test tried to reach the network: {found}")
