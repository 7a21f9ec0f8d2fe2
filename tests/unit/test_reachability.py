"""Why a server could not be reached, said step by step (a real resolver, a real socket)."""

from __future__ import annotations

import asyncio
import socket

from promodesk.services.reachability import why_unreachable


def test_a_name_that_does_not_resolve() -> None:
    said = asyncio.run(why_unreachable("https://api.nowhere.invalid/v1"))
    assert said == (
        "Could not reach api.nowhere.invalid: the name does not resolve — check the address "
        "or your connection"
    )


def test_a_port_where_nothing_listens() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: connecting to it is refused
    said = asyncio.run(why_unreachable(f"http://127.0.0.1:{port}"))
    assert said.startswith(f"Could not reach 127.0.0.1: nothing answers on port {port}")


def test_not_an_address_at_all() -> None:
    assert "not a web address" in asyncio.run(why_unreachable("api.example.com"))


def test_a_server_that_can_be_reached_leaves_the_words_to_the_caller() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert asyncio.run(why_unreachable(f"http://127.0.0.1:{port}")) is None
