"""An audit sink's record is created only if absent. Two nodes that enable one sink name at once
used to both put it: the later key replaced the earlier, whose node went on chaining and HMACing
entries with a key the store no longer held, so its entries stopped verifying."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from strongroom.errors import Conflict
from strongroom.record_migration import audit_key_context
from strongroom.server.runtime import Runtime

_SINK_KIND = "audit-sink"


def _other_node_enables(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, name: str, sink_type: str
) -> dict[str, Any]:
    """Let another node store the sink ``name`` just before this node's own create; its doc."""
    store: Any = runtime.store
    real_replace = store.replace_record
    wrapped = runtime.provider.wrap(b"k" * 32, context=audit_key_context(name))
    theirs = {"type": sink_type, "wrapped_key": wrapped.hex()}

    def replace_record(kind: str, record: str, old: bytes | None, new: bytes) -> bool:
        if kind == _SINK_KIND and record == name:
            monkeypatch.setattr(store, "replace_record", real_replace)
            store.put_record(kind, record, json.dumps(theirs).encode())
        return bool(real_replace(kind, record, old, new))

    monkeypatch.setattr(store, "replace_record", replace_record)
    return theirs


def test_an_enable_that_loses_the_race_is_refused_and_keeps_the_other_key(
    dev_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs = _other_node_enables(dev_runtime, monkeypatch, "shared", "store")
    with pytest.raises(Conflict, match="already enabled"):
        dev_runtime.audit.enable("shared", "store")
    stored = dev_runtime.store.get_record(_SINK_KIND, "shared")
    assert stored is not None and json.loads(stored) == theirs
    assert "shared" not in [sink.name for sink in dev_runtime.audit.sinks()]


def test_a_nodes_own_file_sink_adopts_the_one_another_node_stored(
    dev_runtime: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    theirs = _other_node_enables(dev_runtime, monkeypatch, "node-file", "file")
    theirs["path"] = str(tmp_path / "elsewhere.log")
    dev_runtime.audit.ensure_file("node-file", tmp_path / "mine.log")
    stored = dev_runtime.store.get_record(_SINK_KIND, "node-file")
    assert stored is not None and json.loads(stored)["wrapped_key"] == theirs["wrapped_key"]
    (sink,) = [sink for sink in dev_runtime.audit.sinks() if sink.name == "node-file"]
    assert sink.key == b"k" * 32  # the stored key: its entries verify on every node
