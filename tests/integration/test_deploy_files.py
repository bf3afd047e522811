"""The deployment files in deploy/ (issue 21, 4 and 5): the systemd unit passes systemd's own
check with its sandboxing; the example configuration names only flags the server has; the
container file is multi-stage and shell-free; the Kubernetes manifests validate against
Kubernetes' schemas and run the server non-root and read-only."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from strongroom.cli.server import server
from strongroom.cli.server_config import flags_of

DEPLOY = Path(__file__).parents[2] / "deploy"


def test_the_systemd_unit_passes_systemd_analyze(tmp_path: Path) -> None:
    assert shutil.which("systemd-analyze"), "systemd-analyze ships with systemd"
    unit = (DEPLOY / "strongroom.service").read_text()
    for setting in ("NoNewPrivileges=true", "ProtectSystem=strict", "CapabilityBoundingSet="):
        assert setting in unit
    command = str(Path(sys.executable).parent / "strongroom")
    local = tmp_path / "strongroom.service"
    local.write_text(unit.replace("/opt/strongroom/.venv/bin/strongroom", command))
    done = subprocess.run(
        ["systemd-analyze", "verify", str(local)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


def test_the_example_configuration_names_only_server_flags() -> None:
    doc = tomllib.loads((DEPLOY / "strongroom.toml").read_text())
    known = flags_of(server)
    assert doc and [key for key in doc if key not in known] == []


def test_the_container_file_is_multi_stage_non_root_and_shell_free() -> None:
    """Checked with Docker's own parser (the images cannot be pulled here to build it): two
    stages, the last one distroless (no shell), a numeric non-root user, an exec-form entry
    point that runs the server from the example configuration, nothing run in the last stage."""
    import dockerfile

    commands = dockerfile.parse_file(str(DEPLOY / "Containerfile"))
    stages: list[list[dockerfile.Command]] = []
    for command in commands:
        if command.cmd == "FROM":
            stages.append([])
        stages[-1].append(command)
    assert len(stages) == 2
    final = stages[-1]
    assert "distroless" in final[0].value[0] and final[0].value[0].endswith(":nonroot")
    assert not [c for c in final if c.cmd in ("RUN", "SHELL")]
    users = [c.value[0] for c in final if c.cmd == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    (entry,) = [c for c in final if c.cmd == "ENTRYPOINT"]
    assert entry.json and entry.value[:4] == ("python3", "-m", "strongroom", "server")
    config = entry.value[entry.value.index("--config") + 1]
    copied = [c.value for c in final if c.cmd == "COPY"]
    assert any(value[-1] == config for value in copied)
    assert "-c constraints.txt" in " ".join(stages[0][-1].value)  # the tested versions


def _manifests() -> list[dict[str, Any]]:
    import yaml

    found = []
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        found += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def test_the_kubernetes_manifests_validate_against_kubernetes_schemas() -> None:
    """Each manifest against Kubernetes' own schemas (strict: no unknown field), offline."""
    import kubernetes_validate

    manifests = _manifests()
    assert {m["kind"] for m in manifests} >= {"Deployment", "Service", "ConfigMap"}
    for manifest in manifests:
        kubernetes_validate.validate(manifest, "1.37.0", strict=True)


def test_the_deployment_runs_non_root_read_only_with_a_health_probe() -> None:
    by_kind = {m["kind"]: m for m in _manifests()}
    pod = by_kind["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/v1/sys/health"
    config = tomllib.loads(by_kind["ConfigMap"]["data"]["strongroom.toml"])
    known = flags_of(server)
    assert [key for key in config if key not in known] == []
    args = container["args"]
    assert args[args.index("--config") + 1].endswith("/strongroom.toml")


def test_the_kms_plugin_static_pod_and_encryption_configuration() -> None:
    """The plugin's static pod validates against Kubernetes' schemas; it serves the socket the
    EncryptionConfiguration names, with the plugin's own flags; the configuration is KMS v2."""
    import kubernetes_validate
    import yaml

    folder = DEPLOY / "kubernetes" / "kms-plugin"
    pod = yaml.safe_load((folder / "kms-plugin.yaml").read_text())
    kubernetes_validate.validate(pod, "1.37.0", strict=True)
    (container,) = pod["spec"]["containers"]
    args = container["args"]
    assert args[args.index("kms-plugin") :][:1] == ["kms-plugin"]
    socket = args[args.index("--socket") + 1]
    from strongroom.cli.kms_plugin import kms_plugin

    known = {f"--{p.name.replace('_', '-')}" for p in kms_plugin.params} | {"--socket"}
    plugin_flags = [a for a in args[args.index("kms-plugin") + 1 :] if a.startswith("--")]
    assert set(plugin_flags) <= known
    config = yaml.safe_load((folder / "encryption-configuration.yaml").read_text())
    assert config["kind"] == "EncryptionConfiguration"
    (kms,) = [p["kms"] for r in config["resources"] for p in r["providers"] if "kms" in p]
    assert kms["apiVersion"] == "v2"
    assert kms["endpoint"] == f"unix://{socket}"
    mounted = {m["mountPath"] for m in container["volumeMounts"]}
    assert str(Path(socket).parent) in mounted
