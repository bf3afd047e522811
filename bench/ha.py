"""Three strongroom nodes on one PostgreSQL behind haproxy (docs/haproxy.cfg), written to through
haproxy while the nodes go through faults: a node killed with SIGKILL and started again, then a
PostgreSQL restart. Prints the failed requests, the acknowledged writes lost (must be 0) and how
long each fault kept writes from succeeding.

    .venv/bin/python -m bench.ha --duration 30 --writers 4     (needs haproxy and PostgreSQL)

Everything runs on 127.0.0.1 and stops by itself; the servers it starts it stops, by pid."""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from tests.cluster import Node, haproxy_config, wait_for
from tests.helpers import PostgresServer, free_port, stop_process


@dataclass
class Writes:
    acknowledged: dict[str, str] = field(default_factory=dict)
    failures: list[float] = field(default_factory=list)  # when each failed request ended
    successes: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _haproxy(work: Path, nodes: list[Node]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    path = work / "haproxy.cfg"
    path.write_text(haproxy_config(nodes, port))
    process = subprocess.Popen(
        ["haproxy", "-f", str(path), "-db"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return process, f"http://127.0.0.1:{port}"


def _writer(base: str, token: str, name: str, until: float, writes: Writes) -> None:
    with httpx.Client(base_url=base, headers={"X-Vault-Token": token}, timeout=10) as client:
        number = 0
        while time.monotonic() < until:
            number += 1
            key, value = f"{name}-{number}", str(number)
            try:
                ok = client.post(f"/v1/secret/data/{key}", json={"data": {"v": value}})
                acknowledged = ok.status_code == 200
            except httpx.HTTPError:
                acknowledged = False
            with writes.lock:
                if acknowledged:
                    writes.acknowledged[key] = value
                    writes.successes.append(time.monotonic())
                else:
                    writes.failures.append(time.monotonic())
            if not acknowledged:
                time.sleep(0.05)


def _outage(writes: Writes, start: float, end: float) -> float:
    """Seconds from ``start`` to the first success after the last failure before ``end``."""
    failed = [t for t in writes.failures if start <= t < end]
    if not failed:
        return 0.0
    after = [t for t in writes.successes if t > max(failed)]
    return (min(after) if after else end) - start


def run(duration: float, writers: int) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="strongroom-ha-"))
    postgres = PostgresServer()
    nodes: list[Node] = []
    proxy = None
    try:
        url = postgres.fresh_database()
        key_file = work / "shared" / "kms.key"
        key_file.parent.mkdir(mode=0o700)
        nodes = [Node(work, f"n{i}", url, key_file) for i in (1, 2, 3)]
        nodes[0].start()
        init = httpx.put(f"{nodes[0].addr}/v1/sys/init", json={"secret_shares": 1})
        token = init.json()["root_token"]
        for node in nodes[1:]:
            node.start()
        wait_for(lambda: all(n.health() == 200 for n in nodes), 20, "every node serving")
        httpx.post(
            f"{nodes[0].addr}/v1/sys/mounts/secret",
            headers={"X-Vault-Token": token},
            json={"type": "kv", "options": {"version": "2"}},
        ).raise_for_status()
        proxy, base = _haproxy(work, nodes)
        wait_for(lambda: _answers(base), 10, "haproxy")
        writes = Writes()
        started = time.monotonic()
        until = started + duration
        threads = [
            threading.Thread(target=_writer, args=(base, token, f"w{i}", until, writes))
            for i in range(writers)
        ]
        for thread in threads:
            thread.start()
        faults: list[tuple[str, float]] = []
        time.sleep(duration * 0.2)
        victim = nodes[1]
        assert victim.process is not None
        victim.process.send_signal(signal.SIGKILL)
        faults.append(("kill -9 of n2", time.monotonic()))
        time.sleep(duration * 0.15)
        victim.start()
        faults.append(("n2 started again", time.monotonic()))
        time.sleep(duration * 0.15)
        faults.append(("PostgreSQL restart", time.monotonic()))
        postgres.restart()
        for thread in threads:
            thread.join()
        ends = [at for _, at in faults[1:]] + [until]
        outages = {
            name: round(_outage(writes, at, end), 2)
            for (name, at), end in zip(faults, ends, strict=True)
        }
        lost = []
        with httpx.Client(base_url=nodes[0].addr, headers={"X-Vault-Token": token}) as reader:
            for key, value in writes.acknowledged.items():
                read = reader.get(f"/v1/secret/data/{key}")
                if read.status_code != 200 or read.json()["data"]["data"]["v"] != value:
                    lost.append(key)
        return {
            "acknowledged_writes": len(writes.acknowledged),
            "failed_requests": len(writes.failures),
            "lost_acknowledged_writes": len(lost),
            "seconds_without_a_write_after": outages,
            "duration_s": duration,
            "writers": writers,
        }
    finally:
        stop_process(proxy)
        for node in nodes:
            node.stop()
        postgres.stop()
        shutil.rmtree(work, ignore_errors=True)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--writers", type=int, default=4)
    args = parser.parse_args()
    if shutil.which("haproxy") is None:
        raise SystemExit("needs haproxy: apt-get install haproxy (scripts/setup --dev does)")
    print(json.dumps(run(args.duration, args.writers), indent=2))


if __name__ == "__main__":
    main()
