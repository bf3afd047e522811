from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from strongroom.errors import DecryptionError, NotFound
from strongroom.keyproviders import LocalKeyFile
from strongroom.testing import kms_conformance

CTX = {"purpose": "test"}


@pytest.mark.parametrize("check", kms_conformance.CHECKS, ids=lambda c: c.__name__)
def test_local_provider_passes_the_conformance_suite(
    tmp_path: Path, check: Callable[[kms_conformance.Factory], None]
) -> None:
    counter = iter(range(1000))
    check(lambda: LocalKeyFile(tmp_path / "kms.key").provider(f"k{next(counter)}"))


def test_key_file_is_private_and_survives_a_reload(tmp_path: Path) -> None:
    path = tmp_path / "kms.key"
    wrapped = LocalKeyFile(path).provider("root").wrap(b"k" * 32, context=CTX)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert LocalKeyFile(path).provider("root").unwrap(wrapped, context=CTX) == b"k" * 32


def test_rotation_adds_a_version_and_old_wraps_still_open(tmp_path: Path) -> None:
    keys = LocalKeyFile(tmp_path / "kms.key")
    provider = keys.provider("root")
    old = provider.wrap(b"a" * 32, context=CTX)
    assert keys.rotate("root") == 2
    new = provider.wrap(b"b" * 32, context=CTX)
    assert old[1:5] == (1).to_bytes(4, "big") and new[1:5] == (2).to_bytes(4, "big")
    reloaded = LocalKeyFile(tmp_path / "kms.key").provider("root")
    assert reloaded.unwrap(old, context=CTX) == b"a" * 32
    assert reloaded.unwrap(new, context=CTX) == b"b" * 32
    assert [v.version for v in keys.versions("root")] == [1, 2]


def test_unknown_key_or_version_is_the_opaque_error(tmp_path: Path) -> None:
    keys = LocalKeyFile(tmp_path / "kms.key")
    wrapped = bytearray(keys.provider("root").wrap(b"a" * 32, context=CTX))
    wrapped[1:5] = (9).to_bytes(4, "big")
    with pytest.raises(DecryptionError):
        keys.provider("root").unwrap(bytes(wrapped), context=CTX)
    with pytest.raises(NotFound):
        keys.rotate("missing")


def test_the_key_file_holds_no_wrapped_material(tmp_path: Path) -> None:
    keys = LocalKeyFile(tmp_path / "kms.key")
    keys.provider("root").wrap(b"Z" * 32, context=CTX)
    doc = json.loads((tmp_path / "kms.key").read_text())
    assert set(doc["keys"]) == {"root"}
    assert b"Z" * 32 not in (tmp_path / "kms.key").read_bytes()
