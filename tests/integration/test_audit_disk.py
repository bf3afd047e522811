"""The audit chain survives a full disk and log rotation (issue 9, finding 20), on a real server
process: a short write is cut back, so the chain stays whole; a rotated file starts with a link
to the chain, and verification reads the rotated copies too."""

from __future__ import annotations

import contextlib
import resource
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from strongroom.audit.sinks import FileSink
from tests.helpers import StrongroomServer, small_disk


@pytest.fixture
def server(fresh_server: StrongroomServer) -> StrongroomServer:
    return fresh_server


def _client(server: StrongroomServer) -> httpx.Client:
    headers = {"Authorization": f"Bearer {server.root_token}"}
    return httpx.Client(base_url=server.addr, headers=headers, timeout=30)


def test_a_full_disk_fails_closed_and_leaves_no_partial_line(server: StrongroomServer) -> None:
    audit = server.data_dir / "audit.log"
    assert server.process is not None
    with _client(server) as api:
        api.put("/api/v1/secrets/secret/full", json={"data": {"v": "1"}})
        size = audit.stat().st_size
        # The file may grow by 100 bytes more: an entry pair does not fit, a short write.
        resource.prlimit(
            server.process.pid, resource.RLIMIT_FSIZE, (size + 100, resource.RLIM_INFINITY)
        )
        try:
            refused = api.get("/api/v1/secrets/secret/full")
            assert refused.status_code == 503
            assert refused.json()["error"]["code"] == "audit_unavailable"
            assert audit.stat().st_size == size  # cut back: no partial line is left
        finally:
            limit = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
            resource.prlimit(server.process.pid, resource.RLIMIT_FSIZE, limit)
        assert api.get("/api/v1/secrets/secret/full").json()["data"] == {"v": "1"}
        verified = api.post("/api/v1/sys/audit/file/verify").json()["data"]
        assert verified["ok"] is True, verified


def test_a_rotated_log_keeps_verifying(server: StrongroomServer) -> None:
    audit = server.data_dir / "audit.log"
    with _client(server) as api:
        api.put("/api/v1/secrets/secret/rot", json={"data": {"v": "1"}})
        audit.rename(audit.with_name("audit.log.1"))  # what logrotate does
        time.sleep(FileSink.CHECK_SECONDS + 0.1)  # the sink looks at its path once a second
        assert api.get("/api/v1/secrets/secret/rot").status_code == 200
        first_line = audit.read_text().splitlines()[0]
        assert '"type":"audit_log_continued"' in first_line
        whole = api.post("/api/v1/sys/audit/file/verify").json()["data"]
        assert whole["ok"] is True and whole["first_entry"] == 1, whole
        audit.with_name("audit.log.1").unlink()  # the rotated copy expired
        rest = api.post("/api/v1/sys/audit/file/verify").json()["data"]
        assert rest["ok"] is True and rest["first_entry"] > 1, rest
        # A forged file start does not verify: the link is HMAC'd like every entry.
        lines = audit.read_bytes().splitlines(keepends=True)
        audit.write_bytes(
            lines[0].replace(b'"previous_entries":', b'"previous_entries":1') + b"".join(lines[1:])
        )
        forged = api.post("/api/v1/sys/audit/file/verify").json()["data"]
        assert forged["ok"] is False


def _verify(api: httpx.Client) -> dict[str, object]:
    result: dict[str, object] = api.post("/api/v1/sys/audit/file/verify").json()["data"]
    return result


def test_a_log_deleted_while_the_server_runs_does_not_verify(server: StrongroomServer) -> None:
    """Issue 20, 9: a deleted file is told from a rotated one (the old file is no longer
    linked), so the entries that went with it are reported missing."""
    audit = server.data_dir / "audit.log"
    with _client(server) as api:
        for i in range(3):
            api.put(f"/api/v1/secrets/secret/del{i}", json={"data": {"v": "1"}})
        audit.unlink()
        time.sleep(FileSink.CHECK_SECONDS + 0.1)
        assert api.get("/api/v1/secrets/secret/del0").status_code == 200
        assert '"previous_file":"missing"' in audit.read_text().splitlines()[0]
        result = _verify(api)
        assert result["ok"] is False and "missing" in str(result["problem"]), result


@pytest.mark.parametrize("damage", ["delete", "cut-start"])
def test_a_log_deleted_or_cut_while_the_server_is_stopped_does_not_verify(
    server: StrongroomServer, damage: str
) -> None:
    audit = server.data_dir / "audit.log"
    with _client(server) as api:
        for i in range(5):
            api.put(f"/api/v1/secrets/secret/stopped{i}", json={"data": {"v": "1"}})
    server.stop()
    if damage == "delete":
        audit.unlink()
    else:
        lines = audit.read_bytes().splitlines(keepends=True)
        audit.write_bytes(b"".join(lines[6:]))
    server.start()
    with _client(server) as api:
        api.get("/api/v1/secrets/secret/stopped0")
        result = _verify(api)
    assert result["ok"] is False, result


def test_a_log_rotated_while_the_server_is_stopped_keeps_verifying(
    server: StrongroomServer,
) -> None:
    audit = server.data_dir / "audit.log"
    with _client(server) as api:
        api.put("/api/v1/secrets/secret/offline-rot", json={"data": {"v": "1"}})
    server.stop()
    audit.rename(audit.with_name("audit.log.1"))
    server.start()
    with _client(server) as api:
        api.get("/api/v1/secrets/secret/offline-rot")
        assert '"previous_file":"rotated"' in audit.read_text().splitlines()[0]
        audit.with_name("audit.log.1").unlink()  # the rotated copy expired
        result = _verify(api)
    assert result["ok"] is True, result


@pytest.fixture
def small_audit_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs for the audit file alone (the database stays on the real disk)."""
    with small_disk(tmp_path / "audit-disk", "1m") as mount:
        yield mount


def test_a_write_whose_response_cannot_be_audited_is_not_called_refused(
    tmp_path: Path, small_audit_disk: Path
) -> None:
    """Issue 20, 19: the audit disk fills between a write's request entry and its response
    entry. The write ran, so the answer is 500 audit_incomplete ("may have been made"), never
    503 ("refused": a load balancer would retry it)."""
    audit = small_audit_disk / "audit.log"
    server = StrongroomServer(tmp_path / "data", extra=["--audit-file", str(audit)]).start()
    page = 4096
    try:
        with _client(server) as api:
            body = {"data": {"v": "same-length"}}
            # Write until the request entry fits in the audit file's last page, its response not.
            for _ in range(20):
                written = api.put("/api/v1/secrets/secret/half", json=body)
                assert written.status_code == 200
                version = written.json()["version"]
                request_line, response_line = audit.read_bytes().splitlines(keepends=True)[-2:]
                room = page - audit.stat().st_size % page
                if len(request_line) + 4 <= room <= len(request_line) + len(response_line) - 8:
                    break
            else:
                raise AssertionError("never lined up with a page")
            filler = small_audit_disk / "filler"
            with filler.open("wb", buffering=0) as handle, contextlib.suppress(OSError):
                while True:  # the rest of the disk, to the last page
                    handle.write(b"\0" * page)
            answer = api.put("/api/v1/secrets/secret/half", json=body)
            filler.unlink()
            assert answer.status_code == 500, answer.text
            assert answer.json()["error"]["code"] == "audit_incomplete"
            assert "may have been made" in answer.json()["error"]["message"]
            # it was made, and the chain still verifies (the cut entry was taken back)
            read = api.get("/api/v1/secrets/secret/half").json()
            assert read["metadata"]["version"] == version + 1
            verified = api.post("/api/v1/sys/audit/file/verify").json()["data"]
            assert verified["ok"] is True, verified
    finally:
        server.stop()
