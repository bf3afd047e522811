"""The webhook rotator and rotation notifications against a real HTTP endpoint on loopback:
signed requests for each step, retries on 5xx, the endpoint's value used, events delivered."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from strongroom.auth import Identity
from strongroom.config import ServerSettings
from strongroom.errors import BadRequest
from strongroom.rotation.signing import SIGNATURE_HEADER, sign, verify_signature
from strongroom.server.node import Node
from strongroom.server.runtime import Runtime

ROOT = Identity.system("root")
KEY = "webhook-signing-key-for-tests"


class Endpoint:
    """Records verified requests; fails the first ``set`` with a 503 to exercise retries."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self.failed_once = False
        self.sign_answers = True
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if not verify_signature(KEY.encode(), body, self.headers[SIGNATURE_HEADER]):
                    endpoint.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                doc = json.loads(body)
                if doc.get("step") == "set" and not endpoint.failed_once:
                    endpoint.failed_once = True
                    self.send_response(503)
                    self.end_headers()
                    return
                endpoint.received.append({"path": self.path, **doc})
                answer = b"{}"
                if doc.get("step") == "create":
                    answer = json.dumps({"value": {"api_key": "from-the-endpoint"}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                if endpoint.sign_answers:  # a value is taken only from a signed answer
                    self.send_header(SIGNATURE_HEADER, sign(KEY.encode(), answer))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    running = Endpoint()
    yield running
    running.close()


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    # The endpoint is on loopback, which the egress policy refuses unless the operator allows it.
    settings = ServerSettings(tmp_path, dev=True, root_token="t", egress_allow=("127.0.0.1/32",))
    node = Node(settings)
    yield node.require_runtime()
    node.close()


def _webhook(
    rt: Runtime,
    url: str,
    *,
    key: str = KEY,
    params: dict[str, object] | None = None,
    notify_url: str | None = None,
) -> None:
    """secret/api rotated by a webhook at ``url``, signed with ``key`` (in secret/hook-key)."""
    rt.secrets.put(ROOT, "secret", "hook-key", {"key": key})
    rt.secrets.put(ROOT, "secret", "api", {"api_key": "old"})
    rt.rotation.configure(
        ROOT,
        "secret",
        "api",
        rotator="webhook",
        params={"url": url, "signing_secret": "secret/hook-key", **(params or {})},
        interval=86400,
        notify_url=notify_url,
        notify_secret="secret/hook-key" if notify_url else None,
    )


def test_webhook_rotation_and_notifications(rt: Runtime, endpoint: Endpoint) -> None:
    _webhook(rt, f"{endpoint.url}/rotate", notify_url=f"{endpoint.url}/notify")
    result = rt.rotation.rotate_now(ROOT, "secret", "api")
    assert result.result == "success"
    assert rt.secrets.get(ROOT, "secret", "api").data == {"api_key": "from-the-endpoint"}
    steps = [r["step"] for r in endpoint.received if r["path"] == "/rotate"]
    assert steps == ["create", "set", "test", "finish"]
    assert endpoint.failed_once, "the 503 was retried"
    set_call = next(r for r in endpoint.received if r.get("step") == "set")
    assert set_call["pending"] == {"api_key": "from-the-endpoint"}
    assert set_call["current"] == {"api_key": "old"}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(
        r["path"] == "/notify" for r in endpoint.received
    ):
        time.sleep(0.05)
    events = [r for r in endpoint.received if r["path"] == "/notify"]
    assert events and events[0]["event"] == "rotation_succeeded"
    assert endpoint.bad_signatures == 0


def test_a_webhook_that_refuses_fails_the_step_at_once(rt: Runtime, endpoint: Endpoint) -> None:
    _webhook(rt, f"{endpoint.url}/rotate", key="not-the-endpoint-key")
    started = time.monotonic()
    result = rt.rotation.rotate_now(ROOT, "secret", "api")
    # The caller learns that the step failed, not what the target answered (no port scanner).
    assert result.result == "failed" and "401" not in str(result.error)
    assert time.monotonic() - started < 5, "a 4xx is not retried"
    assert endpoint.bad_signatures == 1
    assert rt.secrets.get(ROOT, "secret", "api").data == {"api_key": "old"}


def test_an_unsigned_answer_cannot_choose_the_secret(rt: Runtime, endpoint: Endpoint) -> None:
    endpoint.sign_answers = False  # as an internal service that happens to answer {"value": …}
    _webhook(rt, f"{endpoint.url}/rotate")
    assert rt.rotation.rotate_now(ROOT, "secret", "api").result == "success"
    value = rt.secrets.get(ROOT, "secret", "api").data
    assert value["api_key"] == "old" and value["password"] != "from-the-endpoint"


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "0x7f000001",
        "2130706433",
        "127.1",
        "169.254.169.254",
        "10.0.0.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "0.0.0.0",
    ],
)
def test_webhooks_do_not_reach_internal_addresses(tmp_path: Path, host: str) -> None:
    node = Node(ServerSettings(tmp_path, dev=True, root_token="t"))  # no --egress-allow
    rt = node.require_runtime()
    try:
        _webhook(rt, f"http://{host}:9/x")
        started = time.monotonic()
        result = rt.rotation.rotate_now(ROOT, "secret", "api")
        assert result.result == "failed"
        assert result.error == "the webhook step failed; the server log has the reason"
        assert time.monotonic() - started < 2  # refused before any connection or retry
    finally:
        node.close()


@pytest.mark.parametrize(
    "params",
    [
        {"timeout": 1e9},
        {"retries": 1_000_000},
        {"timeout": -1},
        {"retries": "3"},
        {"url": "file:///etc"},
    ],
)
def test_webhook_parameters_are_bounded(rt: Runtime, params: dict[str, object]) -> None:
    with pytest.raises(BadRequest):
        rest = {k: v for k, v in params.items() if k != "url"}
        _webhook(rt, str(params.get("url", "https://example.com/x")), params=rest)
