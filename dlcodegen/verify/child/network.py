"""The socket layer's stand-ins: connections to IP addresses and name resolution are refused (the parent also runs
the child in an empty network namespace where the machine allows one)."""

from __future__ import annotations

import socket

NETWORK_BLOCKED = "network access is blocked in verify"
_LOCAL_NAMES = {None, "", "localhost", "127.0.0.1", "::1"}


def _refuse(*_args, **_kwargs):
    raise ConnectionRefusedError(NETWORK_BLOCKED)


def _guard(method):
    def guarded(self, *args, **kwargs):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise ConnectionRefusedError(NETWORK_BLOCKED)
        return method(self, *args, **kwargs)
    return guarded


def block_network() -> None:
    original_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if host in _LOCAL_NAMES:
            return original_getaddrinfo(host, *args, **kwargs)
        raise ConnectionRefusedError(NETWORK_BLOCKED)

    for name in ("connect", "connect_ex", "sendto"):
        setattr(socket.socket, name, _guard(getattr(socket.socket, name)))
    socket.create_connection = _refuse
    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = _refuse
    socket.gethostbyname_ex = _refuse
