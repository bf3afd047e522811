"""Three real nodes on one PostgreSQL, as docs/operations.md sets them up (issue 20, 14, 15, 16
and 21): each node with its own audit file starts; nodes started before `operator init` follow
it; after a PostgreSQL restart every node serves again within seconds, having taken back its
audit-chain lock and its listeners, with one scheduler leader; /v1/sys/health answers at once
under load; and haproxy, configured as the docs say, retries a sealed node's 503 on another."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cluster import Node, haproxy_config, restart_postgres, wait_for
from tests.helpers import PostgresServer, audit_entries, free_port

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def postgres_of_its_own() -> Iterator[PostgresServer]:
    """Restarted by these tests: a server no other test shares."""
    server = PostgresServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def cluster(
    postgres_of_its_own: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[list[Node], str]]:
    work = tmp_path_factory.mktemp("cluster")
    url = postgres_of_its_own.fresh_database()
    key_file = work / "shared" / "kms.key"
    key_file.parent.mkdir(mode=0o700)
    nodes = [Node(work, f"n{i}", url, key_file) for i in (1, 2, 3)]
    try:
        nodes[0].start()
        nodes[1].start()  # before the init
        assert nodes[1].health() == 501
        init = httpx.put(
            f"{nodes[0].addr}/v1/sys/init", json={"secret_shares": 1, "secret_threshold": 1}
        )
        assert init.status_code == 200, init.text
        token = init.json()["root_token"]
        nodes[2].start()
        wait_for(lambda: all(n.health() == 200 for n in nodes), 10, "every node unsealed")
        httpx.post(  # each test of the module stands alone
            f"{nodes[0].addr}/v1/sys/mounts/secret",
            headers={"X-Vault-Token": token},
            json={"type": "kv", "options": {"version": "2"}},
        ).raise_for_status()
        yield nodes, token
    finally:
        for node in nodes:
            node.stop()


def _write(node: Node, token: str, path: str, value: str) -> int:
    try:
        answer = httpx.post(
            f"{node.addr}/v1/secret/data/{path}",
            headers={"X-Vault-Token": token},
            json={"data": {"v": value}},
            timeout=5,
        )
    except httpx.HTTPError:
        return 0
    return answer.status_code


def _read(node: Node, token: str, path: str) -> str | None:
    answer = httpx.get(
        f"{node.addr}/v1/secret/data/{path}", headers={"X-Vault-Token": token}, timeout=5
    )
    return str(answer.json()["data"]["data"]["v"]) if answer.status_code == 200 else None


def _leaders(nodes: list[Node]) -> list[bool]:
    return [bool(httpx.get(f"{n.addr}/v1/sys/leader", timeout=2).json()["is_self"]) for n in nodes]


def _ha_status(node: Node, token: str) -> list[str]:
    """The nodes sys/ha-status lists, once exactly one of them is the active node."""
    answer = httpx.get(f"{node.addr}/v1/sys/ha-status", headers={"X-Vault-Token": token})
    listed = answer.json()["nodes"]
    if sum(entry["active_node"] for entry in listed) != 1:
        return []
    return sorted(entry["hostname"] for entry in listed)


def test_every_node_starts_and_those_started_before_init_follow_it(
    cluster: tuple[list[Node], str],
) -> None:
    nodes, token = cluster
    wait_for(lambda: all(n.health() == 200 for n in nodes), 10, "every node unsealed")
    for i, node in enumerate(nodes):
        assert _write(node, token, f"from-{i}", str(i)) == 200
    for node in nodes:
        assert [_read(node, token, f"from-{i}") for i in range(3)] == ["0", "1", "2"]
    for node in nodes:  # each node's own chain, in its own file
        verified = httpx.post(
            f"{node.addr}/api/v1/sys/audit/file/verify",
            headers={"Authorization": f"Bearer {token}"},
        ).json()["data"]
        assert verified["ok"] is True and verified["entries"] > 0, verified
        last = (node.data_dir / "audit.log").read_text().splitlines()[-1]
        assert json.loads(last)["node"] == node.name  # entries name the node that answered


def test_every_node_serves_a_kv_version_1_mount_as_one(cluster: tuple[list[Node], str]) -> None:
    """A node that never saw a KV version 1 mount hands a version 2 path under it to version 1's
    route (reading the mount's kind from PostgreSQL on a thread, never on its event loop) and
    audits it as version 1's; an upgrade to version 2 made on one node reaches the others."""
    nodes, token = cluster
    headers = {"X-Vault-Token": token}
    made = httpx.post(f"{nodes[0].addr}/v1/sys/mounts/clusterkv1", headers=headers, json={})
    assert made.status_code == 400  # no type: Vault's 400
    httpx.post(
        f"{nodes[0].addr}/v1/sys/mounts/clusterkv1", headers=headers, json={"type": "kv"}
    ).raise_for_status()
    url = "/v1/clusterkv1/data/x"
    written = httpx.put(nodes[2].addr + url, headers=headers, json={"which": "data/x"})
    assert written.status_code == 204, written.text
    assert httpx.get(nodes[1].addr + url, headers=headers).json()["data"] == {"which": "data/x"}
    audited = {
        entry["operation"]
        for entry in audit_entries(nodes[2].data_dir / "audit.log")
        if entry["request"]["path"] == url
    }
    assert audited == {"kv1WritePut"}
    tuned = httpx.post(
        f"{nodes[0].addr}/v1/sys/mounts/clusterkv1/tune",
        headers=headers,
        json={"options": {"version": "2"}},
    )
    assert tuned.status_code in (200, 204), tuned.text

    def upgraded() -> bool:  # the secret "data/x", read by version 2's path on another node
        answer = httpx.get(f"{nodes[1].addr}/v1/clusterkv1/data/data/x", headers=headers)
        return answer.status_code == 200 and answer.json()["data"]["data"] == {"which": "data/x"}

    wait_for(upgraded, 5, "the upgrade seen by another node")


def test_after_a_postgres_restart_every_node_serves_again_with_one_leader(
    cluster: tuple[list[Node], str], postgres_of_its_own: PostgresServer, tmp_path: Path
) -> None:
    nodes, token = cluster
    wait_for(lambda: sum(_leaders(nodes)) == 1, 10, "one scheduler leader")
    acknowledged: list[str] = []
    for round_ in range(2):
        restart_postgres(postgres_of_its_own)
        tag = f"after-{round_}"
        took = wait_for(
            lambda: all(_write(n, token, f"{tag}-{n.name}", "x") == 200 for n in nodes),  # noqa: B023
            20,
            "every node writes again",
        )
        assert took < 20
        acknowledged += [f"{tag}-{n.name}" for n in nodes]
        assert all(n.process is not None and n.process.poll() is None for n in nodes)
        assert all(n.health() == 200 for n in nodes)  # none sealed itself
        wait_for(lambda: sum(_leaders(nodes)) == 1, 10, "one scheduler leader again")
        time.sleep(1.5)  # two scheduler rounds: still one leader
        assert sum(_leaders(nodes)) == 1
        wait_for(lambda: _ha_status(nodes[2], token) == ["n1", "n2", "n3"], 10, "every node listed")
    for path in acknowledged:
        assert _read(nodes[0], token, path) == "x", path
    # Each node took back its audit chain's lock: a node that would write n1's chain cannot
    # start while n1 lives.
    impostor = Node(tmp_path, "n1", "", Path())
    impostor.argv = [*nodes[0].argv]
    impostor.argv[impostor.argv.index("--port") + 1] = str(free_port())
    impostor.argv[impostor.argv.index("--audit-file") + 1] = str(tmp_path / "impostor.log")
    impostor.argv[impostor.argv.index("--data-dir") + 1] = str(tmp_path / "impostor")
    process = subprocess.run(impostor.argv, capture_output=True, timeout=60, check=False)
    assert process.returncode != 0
    output = process.stdout + process.stderr
    assert b"another node is writing audit chain" in output and b"Traceback" not in output
    for node in nodes:
        verified = httpx.post(
            f"{node.addr}/api/v1/sys/audit/file/verify",
            headers={"Authorization": f"Bearer {token}"},
        ).json()["data"]
        assert verified["ok"] is True, (node.name, verified)


def test_health_answers_at_once_under_load(cluster: tuple[list[Node], str]) -> None:
    nodes, token = cluster
    node = nodes[0]
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                client.post(
                    f"{node.addr}/v1/secret/data/load",
                    headers={"X-Vault-Token": token},
                    json={"data": {"v": "x" * 1000}},
                )

    workers = [threading.Thread(target=load) for _ in range(48)]
    for worker in workers:
        worker.start()
    try:
        time.sleep(1.0)
        slowest = 0.0
        for _ in range(20):
            started = time.monotonic()
            assert httpx.get(f"{node.addr}/v1/sys/health", timeout=5).status_code == 200
            assert httpx.get(f"{node.addr}/healthz", timeout=5).status_code == 200
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.05)
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    assert slowest < 1.0, slowest


def test_haproxy_as_documented_retries_a_sealed_node_on_another(
    cluster: tuple[list[Node], str], tmp_path: Path
) -> None:
    nodes, token = cluster
    port = free_port()
    assert shutil.which("haproxy"), "scripts/setup --dev installs haproxy"
    config = haproxy_config(nodes, port)
    path = tmp_path / "haproxy.cfg"
    path.write_text(config)
    proxy = subprocess.Popen(["haproxy", "-f", str(path), "-db"], stdout=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(base), 10, "haproxy up")
        assert _write(nodes[0], token, "behind-haproxy", "x") == 200
        sealed = httpx.put(f"{nodes[1].addr}/v1/sys/seal", headers={"X-Vault-Token": token})
        assert sealed.status_code == 204, sealed.text
        statuses = [
            httpx.get(
                f"{base}/v1/secret/data/behind-haproxy",
                headers={"X-Vault-Token": token},
                timeout=10,
            ).status_code
            for _ in range(30)
        ]
        assert statuses == [200] * 30, statuses
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
