"""An entry that is not HTTP gets the front door's every step through server/direct.py: the
seal gate, authentication and the address's budget, the audit trail and the request metrics,
with no socket anywhere. (That the front door needs of a node only front_node's protocol is
held by mypy, through ``Front[Node]``, and by tests/test_layering.py.)"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from strongroom.config import ServerSettings
from strongroom.server.app import create_app
from strongroom.server.direct import DirectAnswer, DirectRequest, call
from strongroom.server.front import Front
from strongroom.server.node import Node
from tests.helpers import audit_entries

ROOT = "direct-root"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Front[Node]]:
    settings = ServerSettings(
        tmp_path / "data", dev=True, root_token=ROOT, audit_file=tmp_path / "audit.log"
    )
    front = create_app(settings)
    yield front
    front.node.close()


def _call(app: Front[Node], method: str, path: str, **kwargs: object) -> DirectAnswer:
    return asyncio.run(call(app, DirectRequest(method, path, **kwargs)))  # type: ignore[arg-type]


def _audited(app: Front[Node]) -> list[dict[str, Any]]:
    audit = app.node.settings.audit_file
    assert audit is not None
    return audit_entries(audit)


def test_a_direct_request_is_authenticated_audited_and_counted(app: Front[Node]) -> None:
    token = ("X-Vault-Token", ROOT)
    written = _call(
        app, "POST", "/v1/secret/data/direct/db", headers=[token], body=b'{"data": {"pw": "s3"}}'
    )
    assert written.status == 200
    read = _call(app, "GET", "/v1/secret/data/direct/db", headers=[token])
    assert read.json()["data"]["data"] == {"pw": "s3"}
    listed = _call(app, "LIST", "/v1/secret/metadata/direct", headers=[token])
    assert listed.json()["data"]["keys"] == ["db"]

    refused = _call(app, "GET", "/v1/secret/data/direct/db")
    assert refused.status == 403  # Vault's answer to a missing token
    entries = _audited(app)
    operations = [(e.get("type"), e.get("operation")) for e in entries]
    assert ("request", "kvWriteData") in operations and ("response", "kvWriteData") in operations
    assert ("response", "kvReadData") in operations and ("response", "kvList") in operations
    assert ("response", "kvReadData", 403) in {
        (e.get("type"), e.get("operation"), e.get("status")) for e in entries
    }
    # No secret value reaches the audit log, whichever entry it came through.
    assert "s3" not in json.dumps(entries)

    metrics = _call(app, "GET", "/metrics", headers=[("Authorization", f"Bearer {ROOT}")])
    text = metrics.body.decode()
    assert 'strongroom_requests_total{operation="kvWriteData",status="200",surface="vault"}' in text
    assert 'operation="kvReadData",status="403",surface="vault"' in text


def test_a_direct_request_meets_the_seal_gate_and_the_address_budget(app: Front[Node]) -> None:
    budget = int(app.node.limiter.burst)
    statuses = [
        _call(app, "GET", "/v1/secret/data/x", client=("192.0.2.7", 1)).status
        for _ in range(budget + 5)
    ]
    assert statuses[0] == 403 and statuses[-1] == 429  # the caller's address, as named
    assert _call(app, "GET", "/v1/secret/data/x", client=("192.0.2.8", 1)).status == 403
    app.node.seal()
    sealed = _call(app, "GET", "/v1/secret/data/x", headers=[("X-Vault-Token", ROOT)])
    assert sealed.status == 503
