"""A version write and a metadata change that land at once both stay: the write names the
settings it read, and one that finds them changed reads again (store/sql.py), so custom
metadata, ``cas_required`` or ``max_versions`` set meanwhile are never written over."""

from __future__ import annotations

from typing import Any

import pytest

from strongroom.auth import Identity
from strongroom.server.runtime import Runtime

ROOT = Identity.system("root")


@pytest.fixture
def runtime(dev_runtime: Runtime) -> Runtime:
    return dev_runtime


def test_a_metadata_change_between_a_writes_read_and_its_commit_stays(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = runtime.secrets
    secrets.put(ROOT, "secret", "app", {"v": 1})
    store: Any = secrets._store
    real_get = store.get_secret
    reads: list[int] = []

    def get_secret(namespace: str, path: str) -> Any:
        found = real_get(namespace, path)
        reads.append(1)
        # the write's own read (root holds create and update: no look-up decides its right
        # first): another request changes the metadata now
        if len(reads) == 1:
            monkeypatch.setattr(store, "get_secret", real_get)
            secrets.write_metadata(ROOT, "secret", "app", custom_metadata={"owner": "team"})
            monkeypatch.setattr(store, "get_secret", get_secret)
        return found

    monkeypatch.setattr(store, "get_secret", get_secret)
    written = secrets.put(ROOT, "secret", "app", {"v": 2})
    monkeypatch.setattr(store, "get_secret", real_get)
    metadata = secrets.metadata(ROOT, "secret", "app")
    assert metadata.custom_metadata == {"owner": "team"}
    assert written.version == 2 and len(reads) == 2  # it read again after losing the race
    assert secrets.get(ROOT, "secret", "app").data == {"v": 2}


@pytest.mark.parametrize("existing", [True, False])
def test_a_version_written_while_metadata_is_written_is_never_rolled_back(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    """The metadata write used to put the row it had read back whole: a version committed in
    between stopped being the current one (or, for a new secret, lost its row)."""
    secrets = runtime.secrets
    if existing:
        secrets.put(ROOT, "secret", "app", {"v": 1})
    store: Any = secrets._store
    real_get = store.get_secret
    reads: list[int] = []

    def get_secret(namespace: str, path: str) -> Any:
        found = real_get(namespace, path)
        reads.append(1)
        if len(reads) == 1:  # the metadata write's own read: a new version lands now
            monkeypatch.setattr(store, "get_secret", real_get)
            secrets.put(ROOT, "secret", "app", {"v": "meanwhile"})
            monkeypatch.setattr(store, "get_secret", get_secret)
        return found

    monkeypatch.setattr(store, "get_secret", get_secret)
    secrets.write_metadata(ROOT, "secret", "app", custom_metadata={"owner": "team"})
    monkeypatch.setattr(store, "get_secret", real_get)
    metadata = secrets.metadata(ROOT, "secret", "app")
    assert metadata.current_version == (2 if existing else 1)
    assert secrets.get(ROOT, "secret", "app").data == {"v": "meanwhile"}
    assert metadata.custom_metadata == {"owner": "team"}
    assert len(reads) == 4  # its own read, the read again after losing the race, the answer's two
