"""``sys/rotate`` and ``sys/key-status`` (service/encryption_key.py): a rotation starts a new term
in every namespace's keyring, new versions are sealed under it and older ones still open; the
server's term counts rotations; both need the caller's rights first."""

from __future__ import annotations

import pytest

from strongroom.auth import Identity
from strongroom.errors import AccessDenied
from strongroom.server.runtime import Runtime

ROOT = Identity.system("root")


@pytest.fixture
def runtime(dev_runtime: Runtime) -> Runtime:
    return dev_runtime


def _version_key(runtime: Runtime, namespace: str, path: str) -> str:
    _, version = runtime.store.read_version(namespace, path, None)
    assert version is not None
    return version.key_ref


def test_a_rotation_starts_a_new_term_in_every_keyring(runtime: Runtime) -> None:
    service = runtime.services.encryption_key
    runtime.namespaces.ensure("team")
    runtime.secrets.put(ROOT, "secret", "before", {"v": 1})
    before = service.status(ROOT)
    assert before.term == 1 and before.encryptions >= 1
    actives = {n: runtime.keyrings.get(n).active.number for n in runtime.keyrings.namespaces()}
    assert {"secret", "team"} <= set(actives)
    after = service.rotate(ROOT)
    assert after.term == 2 and after.encryptions == 0  # nothing sealed under the new terms yet
    for namespace, number in actives.items():
        assert runtime.keyrings.get(namespace).active.number == number + 1
    runtime.secrets.put(ROOT, "secret", "after", {"v": 2})
    assert _version_key(runtime, "secret", "after") != _version_key(runtime, "secret", "before")
    assert runtime.secrets.get(ROOT, "secret", "before").data == {"v": 1}
    assert service.status(ROOT).encryptions == 1


def test_rights_come_first(runtime: Runtime) -> None:
    service = runtime.services.encryption_key
    reader = Identity("reader", ("default",), runtime.policies.acl(("default",)))
    with pytest.raises(AccessDenied, match="sys/rotate"):
        service.rotate(reader)
    with pytest.raises(AccessDenied, match="sys/key-status"):
        service.status(reader)
    assert service.status(ROOT).term == 1  # the refused rotation changed nothing
