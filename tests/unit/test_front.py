"""The front door with a toy surface of the test's own: its own authenticator, error shape, answer
shape and one route. Registered without any change to the front door, the route is gated,
authenticated, audited and rendered in the toy's shape: the proof that the next surfaces (Vault,
AWS, UI) are thin."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from strongroom.auth.identity import Identity
from strongroom.config import ServerSettings
from strongroom.errors import StrongroomError
from strongroom.server.app import create_app
from strongroom.server.front import Front
from strongroom.server.node import Node
from strongroom.server.routes import Answer, Call, Route
from strongroom.server.surface import Rendered, Surface
from tests.canary import find_canaries
from tests.helpers import audit_entries

ROOT = "front-root-token"
CANARY = "CANARY-toy-7d1e"


class ToyKey:
    """Credentials as ``X-Toy-Key: toy:<token>``."""

    def __init__(self, app: list[Front[Node]]) -> None:
        self._app = app

    def credential(self, scope: Mapping[str, Any]) -> str | None:
        for name, value in scope["headers"]:
            if name == b"x-toy-key" and value.startswith(b"toy:"):
                return str(value[4:].decode("latin-1"))
        return None

    def identify(self, credential: str, scope: Mapping[str, Any]) -> Identity:
        runtime = self._app[0].node.require_runtime()
        return runtime.tokens.authenticate(credential)


def _render(answer: Answer) -> Rendered:
    body = "\n".join(f"{k}={v}" for k, v in sorted(answer.doc.items())).encode()
    return Rendered(answer.status, body, ((b"content-type", b"text/toy"),))


def _render_error(exc: StrongroomError, request_id: str) -> Rendered:
    body = f"TOY-ERROR {exc.code}: {exc.message} ({request_id})".encode()
    return Rendered(exc.http_status, body, ((b"content-type", b"text/toy-error"),))


def read_toy_secret(call: Call) -> Answer:
    value = call.services.secrets.get(call.identity, "secret", call.params["name"])
    return Answer({"name": call.params["name"], "value": value.data["v"]}, clear=("name",))


@pytest.fixture
def toy(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    audit = tmp_path / "audit.log"
    settings = ServerSettings(tmp_path / "data", dev=True, root_token=ROOT, audit_file=audit)
    holder: list[Front[Node]] = []
    surface = Surface(
        name="toy",
        claims=lambda scope: scope["path"].startswith("/toy/"),
        routes=(Route("GET", "/toy/secret/{name}", read_toy_secret, "toyRead"),),
        render=_render,
        render_error=_render_error,
        authenticators=(ToyKey(holder),),
    )
    app = create_app(settings, extra=[surface])
    holder.append(app)
    with TestClient(app) as client:
        yield client, audit
    app.node.close()


def _entries(audit: Path) -> list[dict[str, Any]]:
    return audit_entries(audit)


def test_a_toy_surface_is_authenticated_audited_and_rendered(
    toy: tuple[TestClient, Path],
) -> None:
    client, audit = toy
    written = client.put(
        "/api/v1/secrets/secret/db",
        json={"data": {"v": CANARY}},
        headers={"Authorization": f"Bearer {ROOT}"},
    )
    assert written.status_code == 200

    # Not authenticated: the toy's error shape, and the native bearer token is not the toy's.
    for headers in ({}, {"Authorization": f"Bearer {ROOT}"}, {"X-Toy-Key": "toy:wrong"}):
        refused = client.get("/toy/secret/db", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "text/toy-error"
        assert refused.text.startswith("TOY-ERROR unauthenticated")

    answered = client.get("/toy/secret/db", headers={"X-Toy-Key": f"toy:{ROOT}"})
    assert answered.status_code == 200 and answered.headers["content-type"] == "text/toy"
    assert answered.text == f"name=db\nvalue={CANARY}"

    # Errors of the service and of the router, in the toy's shape.
    missing = client.get("/toy/secret/nope", headers={"X-Toy-Key": f"toy:{ROOT}"})
    assert missing.status_code == 404 and missing.text.startswith("TOY-ERROR not_found")
    wrong_method = client.post("/toy/secret/db", headers={"X-Toy-Key": f"toy:{ROOT}"})
    assert wrong_method.status_code == 405 and wrong_method.text.startswith("TOY-ERROR")
    no_route = client.get("/toy/other", headers={"X-Toy-Key": f"toy:{ROOT}"})
    assert no_route.status_code == 404 and no_route.text.startswith("TOY-ERROR not_found")

    # Audited from the typed record: operation, outcome, the clear field in clear, the value
    # HMAC'd, the credential HMAC'd.
    entries = [e for e in _entries(audit) if e.get("operation") == "toyRead"]
    responses = [e for e in entries if e["type"] == "response"]
    assert len(entries) == len(responses) == 5  # a read: one entry, its response
    ok = next(e for e in responses if e["status"] == 200)
    assert "error" not in ok and ok["response_metadata"] == "db"
    assert ok["data"]["value"].startswith("hmac-sha256:")
    assert ok["token"].startswith("hmac-sha256:") and ok["auth"]["display_name"] == "root"
    failed = [e for e in responses if e["status"] == 401]
    assert {e["error"]["code"] for e in failed} == {"unauthenticated"}
    assert find_canaries({"audit.log": audit.read_bytes()}, [CANARY, ROOT]) == []

    # The native read keeps its documented entry: the version metadata in clear, as it is.
    client.get("/api/v1/secrets/secret/db", headers={"Authorization": f"Bearer {ROOT}"})
    native = [e for e in _entries(audit) if e.get("operation") == "readSecret"][-1]
    assert native["response_metadata"]["version"] == 1 and "metadata" not in native["data"]

    # Counted by surface and operation.
    metrics = client.get("/metrics", headers={"Authorization": f"Bearer {ROOT}"}).text
    assert '{operation="toyRead",status="200",surface="toy"}' in metrics


def test_a_sealed_server_answers_a_toy_request_in_the_toys_shape(
    toy: tuple[TestClient, Path],
) -> None:
    client, _ = toy
    sealed = client.post("/api/v1/sys/seal", headers={"Authorization": f"Bearer {ROOT}"})
    assert sealed.status_code == 204
    answer = client.get("/toy/secret/db", headers={"X-Toy-Key": f"toy:{ROOT}"})
    assert answer.status_code == 503 and answer.text.startswith("TOY-ERROR sealed")
    native = client.get("/api/v1/secrets/secret/db")
    assert native.status_code == 503 and native.json()["error"]["code"] == "sealed"


def test_no_secret_reaches_a_repr_of_the_front_doors_objects() -> None:
    from strongroom.audit.record import AuditRecord
    from strongroom.limits import DEFAULT_LIMITS

    call = Call(
        "PUT",
        "/api/v1/secrets/secret/db",
        {},
        b"",
        [(b"authorization", f"Bearer {ROOT}".encode())],
        f'{{"data": {{"v": "{CANARY}"}}}}'.encode(),
        "127.0.0.1",
        "id",
        DEFAULT_LIMITS,
        None,  # type: ignore[arg-type]
        None,
    )
    call.json()
    answer = Answer({"data": {"v": CANARY}})
    record = AuditRecord("writeSecret", response={"v": CANARY})
    rendered = _render(answer)
    for thing in (call, answer, record, rendered):
        assert CANARY not in repr(thing) and ROOT not in repr(thing)


def _on_an_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_fast_routes_request_is_audited_with_its_answer_or_before_a_thread(
    tmp_path: Path, store: str, request: pytest.FixtureRequest
) -> None:
    """A fast route's first pass only reads, so it has one entry, its response entry carrying the
    request's body, as a GET's; one that moves to a second pass (it may write) has its request
    entry on record before that pass runs. The first pass runs on the event loop, or on a
    worker thread when the store is PostgreSQL: the event loop never waits on a database
    across the network."""
    audit = tmp_path / "audit.log"
    on_record: dict[bool, bool] = {}
    on_the_loop: dict[bool, bool] = {}

    def fast_read(call: Call) -> Answer:
        if call.query_string == b"thread":
            call.must_not_block()
        written = _entries(audit) if audit.exists() else []
        requests = [e["request_id"] for e in written if e["type"] == "request"]
        on_record[call.first_pass] = call.request_id in requests
        on_the_loop[call.first_pass] = _on_an_event_loop()
        return Answer({"name": "fast"}, clear=("name",))

    surface = Surface(
        name="toy",
        claims=lambda scope: scope["path"].startswith("/toy/"),
        routes=(Route("POST", "/toy/fast", fast_read, "toyFast", fast=True),),
        render=_render,
        render_error=_render_error,
        authenticators=(ToyKey(holder := []),),
    )
    url = request.getfixturevalue("postgres_url") if store == "postgresql" else None
    settings = ServerSettings(
        tmp_path / "data", dev=True, root_token=ROOT, audit_file=audit, store_url=url or ""
    )
    app = create_app(settings, extra=[surface])
    holder.append(app)
    with TestClient(app) as client:
        headers = {"X-Toy-Key": f"toy:{ROOT}"}
        sent = b'{"name": "%s"}' % CANARY.encode()
        assert client.post("/toy/fast", headers=headers, content=sent).status_code == 200
        assert on_record == {True: False}  # held for the response
        assert client.post("/toy/fast?thread", headers=headers).status_code == 200
        assert on_record[False] is True  # on record before the second pass ran
    app.node.close()
    assert on_the_loop == {True: store == "sqlite", False: False}
    entries = [e for e in _entries(audit) if e.get("operation") == "toyFast"]
    assert [e["type"] for e in entries] == ["response", "request", "response"]
    read = entries[0]
    assert read["body_size"] == len(sent) and read["status"] == 200
    assert read["body"]["name"].startswith("hmac-sha256:")
    assert read["token"].startswith("hmac-sha256:") and read["auth"]["display_name"] == "root"
    assert CANARY.encode() not in audit.read_bytes()


class RecordingKey(ToyKey):
    """ToyKey that says where each of its look-ups ran: on the event loop or a worker thread."""

    def __init__(self, app: list[Front[Node]], calls: list[tuple[str, bool]]) -> None:
        super().__init__(app)
        self.calls = calls

    def identify(self, credential: str, scope: Mapping[str, Any]) -> Identity:
        self.calls.append(("identify", _on_an_event_loop()))
        return super().identify(credential, scope)

    def remembered(self, credential: str, scope: Mapping[str, Any]) -> Identity | None:
        self.calls.append(("remembered", _on_an_event_loop()))
        return self._app[0].node.require_runtime().tokens.remembered(credential)


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_the_event_loop_never_waits_on_a_database_across_the_network(
    tmp_path: Path, store: str, request: pytest.FixtureRequest
) -> None:
    """On SQLite a token is looked up on the event loop. On PostgreSQL the loop answers from
    what this node remembers, and a token it does not remember is looked up on a worker thread:
    a slow or partitioned database never stalls the node's other connections."""
    calls: list[tuple[str, bool]] = []
    surface = Surface(
        name="toy",
        claims=lambda scope: scope["path"].startswith("/toy/"),
        routes=(Route("GET", "/toy/who", lambda call: Answer({"name": "x"}), "toyWho"),),
        render=_render,
        render_error=_render_error,
        authenticators=(RecordingKey(holder := [], calls),),
    )
    url = request.getfixturevalue("postgres_url") if store == "postgresql" else ""
    settings = ServerSettings(tmp_path / "data", dev=True, root_token=ROOT, store_url=url)
    app = create_app(settings, extra=[surface])
    holder.append(app)
    with TestClient(app) as client:
        headers = {"X-Toy-Key": f"toy:{ROOT}"}
        for _ in range(2):
            assert client.get("/toy/who", headers=headers).status_code == 200
        unknown = {"X-Toy-Key": "toy:srs.not-a-token"}
        assert client.get("/toy/who", headers=unknown).status_code == 401
    app.node.close()
    if store == "sqlite":
        assert calls == [("identify", True)] * 3
    else:
        assert calls == [
            ("remembered", True),  # not yet remembered: looked up off the loop
            ("identify", False),
            ("remembered", True),  # remembered now: answered on the loop
            ("remembered", True),  # an unknown token: looked up off the loop, and refused
            ("identify", False),
        ]


def test_a_request_its_node_seals_under_is_a_503_not_a_500(tmp_path: Path) -> None:
    """A request in flight when its node seals finds its services closed under it: a 503 (which
    a load balancer retries on another node), never an internal error."""

    def seals_then_reads(call: Call) -> Answer:
        holder[0].node.seal()
        raise RuntimeError("a closed connection, as psycopg raises it")

    surface = Surface(
        name="toy",
        claims=lambda scope: scope["path"].startswith("/toy/"),
        routes=(Route("POST", "/toy/seal", seals_then_reads, "toySeal"),),
        render=_render,
        render_error=_render_error,
        authenticators=(ToyKey(holder := []),),
    )
    settings = ServerSettings(tmp_path / "data", dev=True, root_token=ROOT)
    app = create_app(settings, extra=[surface])
    holder.append(app)
    with TestClient(app) as client:
        answer = client.post("/toy/seal", headers={"X-Toy-Key": f"toy:{ROOT}"})
    app.node.close()
    assert answer.status_code == 503, answer.text
    assert b"internal error" not in answer.content
