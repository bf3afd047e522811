"""Connections are bounded (issue 9, finding 17), against a real server: idle and half-open
connections are dropped, a trickled head or body times out, and header count and size are
capped with a 431."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import StrongroomServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    data = tmp_path_factory.mktemp("bounds") / "data"
    running = StrongroomServer(data, extra=["--head-timeout", "1", "--body-timeout", "2"]).start()
    try:
        yield running
    finally:
        running.stop()


def _connect(server: StrongroomServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock


def _closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """Whether the server closed the connection in time, and what it said first."""
    sock.settimeout(seconds)
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except TimeoutError:
        return False, received
    except ConnectionResetError:
        pass
    return True, received


def test_idle_and_half_open_connections_are_dropped(server: StrongroomServer) -> None:
    idle = [_connect(server) for _ in range(50)]
    started = time.monotonic()
    for sock in idle:
        closed, _ = _closed_within(sock, 5)
        assert closed
        sock.close()
    assert time.monotonic() - started < 5
    # The server still answers.
    assert httpx.get(f"{server.addr}/healthz").status_code == 200


def test_a_trickled_head_times_out(server: StrongroomServer) -> None:
    sock = _connect(server)
    sock.sendall(b"GET /api/v1/sys/seal-status HTTP/1.1\r\nHost: x\r\n")
    closed = False
    for _ in range(30):  # a byte every 0.1 s: never a whole head
        try:
            sock.sendall(b"X")
        except OSError:
            closed = True
            break
        time.sleep(0.1)
    if not closed:
        closed, answer = _closed_within(sock, 3)
        assert b"408" in answer or answer == b""
    assert closed
    sock.close()


def test_a_body_that_never_ends_times_out(server: StrongroomServer) -> None:
    sock = _connect(server)
    sock.sendall(
        b"PUT /api/v1/secrets/secret/slow HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {server.root_token}\r\n".encode()
        + b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"data":'
    )
    closed, answer = _closed_within(sock, 6)
    assert closed and answer.startswith(b"HTTP/1.1 408")
    sock.close()
    headers = {"Authorization": f"Bearer {server.root_token}"}
    assert (
        httpx.get(f"{server.addr}/api/v1/secrets/secret/slow", headers=headers).status_code == 404
    )


@pytest.mark.parametrize("count, size", [(50_000, 1), (1, 2 * 1024 * 1024), (101, 10)])
def test_too_many_or_too_large_headers_get_a_431(
    server: StrongroomServer, count: int, size: int
) -> None:
    sock = _connect(server)
    head = b"GET /api/v1/sys/seal-status HTTP/1.1\r\nHost: x\r\n"
    head += b"".join(b"X-H%d: %s\r\n" % (i, b"v" * size) for i in range(count))
    with contextlib.suppress(OSError):  # the server may close while we are still sending
        sock.sendall(head + b"\r\n")
    closed, answer = _closed_within(sock, 5)
    assert closed
    if count * size < 1024 * 1024:  # small enough to be read whole before the answer
        assert answer.startswith(b"HTTP/1.1 431"), answer[:100]
    else:
        assert answer.startswith(b"HTTP/1.1 431") or answer == b""
    sock.close()


def test_a_normal_client_is_unaffected(server: StrongroomServer, tmp_path: Path) -> None:
    with httpx.Client(base_url=server.addr) as client:
        for _ in range(3):
            assert client.get("/api/v1/sys/seal-status").status_code == 200
            time.sleep(0.5)  # kept alive across requests, within the head deadline


def test_answers_are_whole_on_kept_alive_pipelined_head_and_closing_requests(
    server: StrongroomServer,
) -> None:
    """An answer's head is written with its body (server/protocol.py): pipelined requests each
    get their whole answer in order, a HEAD gets a head only, and ``Connection: close`` gets its
    answer before the close."""
    sock = _connect(server)
    with contextlib.closing(sock):
        sock.sendall(
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        closed, received = _closed_within(sock, 5)
    assert closed
    answers = received.split(b"HTTP/1.1 ")[1:]
    assert [a.split(b" ", 1)[0] for a in answers] == [b"200", b"200", b"200"]
    first, head, last = answers
    length = int(first.split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
    assert len(first.split(b"\r\n\r\n", 1)[1]) == length
    assert head.endswith(b"\r\n\r\n") and b"content-length: " in head
    assert b"connection: close" in last and b'"sealed":false' in last.split(b"\r\n\r\n", 1)[1]
