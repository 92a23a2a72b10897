"""Loopback servers for the tests, and free ports for the ones run as processes."""

from __future__ import annotations

import socket

from agent.loopback import loopback


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Servers for tests run the way `lifeos talk` runs the voice socket.
serve = loopback
