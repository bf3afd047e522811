"""Access control as users meet it: the CLI against a real server, TLS, and `strongroom run`."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from strongroom.cli.main import cli
from strongroom.client import Client
from strongroom.errors import ServerUnreachable
from tests.helpers import StrongroomServer, free_port


def _cli(
    server: StrongroomServer, tmp_path: Path, token: str | None = None
) -> Callable[..., Result]:
    runner = CliRunner()
    env = {
        "STRONGROOM_ADDR": server.addr,
        "STRONGROOM_TOKEN": token if token is not None else server.root_token or "",
        "STRONGROOM_TOKEN_FILE": str(tmp_path / "token"),
    }

    def invoke(
        *args: str, input: str | None = None, env_extra: dict[str, str] | None = None
    ) -> Result:
        return runner.invoke(
            cli, list(args), env={**env, **(env_extra or {})}, input=input, catch_exceptions=False
        )

    return invoke


def test_policy_token_login_userpass_approle_audit(
    live_server: StrongroomServer, tmp_path: Path
) -> None:
    run = _cli(live_server, tmp_path)
    policy = 'path "secret/+/team/*" { capabilities = ["read", "list"] }\n'
    assert run("policy", "write", "team", "-", input=policy).exit_code == 0
    assert run("policy", "read", "team").output.strip() == policy.strip()
    run("kv", "put", "secret/team/db", "password=team-pw")
    run("kv", "put", "secret/ops/db", "password=ops-pw")
    created = json.loads(
        run("token", "create", "--policy", "team", "--ttl", "1h", "--format", "json").output
    )
    # login --method token saves it 0600; later commands use it without STRONGROOM_TOKEN.
    user = _cli(live_server, tmp_path, token="")
    result = user("login", input=created["token"] + "\n")
    assert result.exit_code == 0, result.output
    assert oct((tmp_path / "token").stat().st_mode & 0o777) == "0o600"
    assert user("kv", "get", "--field", "password", "secret/team/db").output == "team-pw\n"
    denied = user("kv", "get", "secret/ops/db")
    assert denied.exit_code == 3 and "permission denied" in denied.output
    caps = json.loads(
        user(
            "token", "capabilities", "secret/data/team/x", "secret/data/ops/x", "--format", "json"
        ).output
    )
    assert caps == {"secret/data/team/x": ["list", "read"], "secret/data/ops/x": ["deny"]}
    assert user("token", "revoke", "--self").exit_code == 0
    assert user("kv", "get", "secret/team/db").exit_code == 3
    # userpass
    assert (
        run(
            "userpass",
            "write",
            "dana",
            "--policy",
            "team",
            "--password-stdin",
            input="pw-of-dana\n",
        ).exit_code
        == 0
    )
    assert (
        user("login", "--method", "userpass", "--username", "Dana", input="pw-of-dana\n").exit_code
        == 0
    )
    assert user("kv", "get", "--field", "password", "secret/team/db").output == "team-pw\n"
    # approle
    assert run("approle", "write", "ci", "--policy", "team").exit_code == 0
    # an update changes only the options given: the policy stays
    assert run("approle", "write", "ci", "--secret-id-num-uses", "5").exit_code == 0
    role = json.loads(run("approle", "read", "ci", "--format", "json").output)
    assert role["token_policies"] == ["team"] and role["secret_id_num_uses"] == 5
    role_id = run("approle", "role-id", "ci").output.strip()
    secret = json.loads(run("approle", "secret-id", "ci", "--format", "json").output)
    (tmp_path / "sid").write_text(secret["secret_id"])
    logged = user(
        "login",
        "--method",
        "approle",
        "--role-id",
        role_id,
        "--secret-id-file",
        str(tmp_path / "sid"),
    )
    assert logged.exit_code == 0, logged.output
    assert user("kv", "get", "--field", "password", "secret/team/db").output == "team-pw\n"
    # audit: the dev server writes data-dir/audit.log; verify and hash
    verify = json.loads(run("audit", "verify", "file", "--format", "json").output)
    assert verify["ok"] is True and verify["entries"] > 10
    listed = run("audit", "list").output
    assert "file" in listed and "audit.log" in listed
    assert run("operator", "status").output.startswith("seal type:   kms")


def test_run_injects_secrets_and_passes_the_exit_code(
    live_server: StrongroomServer, tmp_path: Path
) -> None:
    with Client(live_server.addr, live_server.root_token) as admin:
        admin.put("secret", "runapp/prod", {"DB_PASSWORD": "run-pw", "PORT": 8080})
        admin.put("secret", "runapp/extra/smtp", {"SMTP_HOST": "mail.example"})
    template = tmp_path / "config.tmpl"
    template.write_text("password = {{ secret/runapp/prod#DB_PASSWORD }}\n")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")},
        "STRONGROOM_ADDR": live_server.addr,
        "STRONGROOM_TOKEN": live_server.root_token or "",
    }
    probe = (
        "import os,sys; e = os.environ; print(e['DB_PASSWORD'], e['PORT'], e['SMTP_HOST'],"
        " 'STRONGROOM_TOKEN' in e, open(e['APP_CONFIG']).read().strip()); sys.exit(7)"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "strongroom",
            "run",
            "--env",
            "secret/runapp/prod",
            "--prefix",
            "secret/runapp/extra/",
            "--template",
            f"{template}=APP_CONFIG",
            "--",
            sys.executable,
            "-c",
            probe,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 7, done.stderr
    assert done.stdout.split() == [
        "run-pw",
        "8080",
        "mail.example",
        "False",
        "password",
        "=",
        "run-pw",
    ]
    assert not any(
        "run-pw" in p.read_text(errors="ignore")
        for p in tmp_path.iterdir()
        if p.is_file() and p != template
    )


def _run(
    live_server: StrongroomServer, *args: str, **extra: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")},
        "STRONGROOM_ADDR": live_server.addr,
        "STRONGROOM_TOKEN": live_server.root_token or "",
        **extra,
    }
    return subprocess.run(
        [sys.executable, "-m", "strongroom", "run", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("name", ["PATH", "LD_PRELOAD", "BASH_ENV", "PYTHONPATH", "HTTPS_PROXY"])
def test_run_refuses_variables_that_change_how_programs_run(
    live_server: StrongroomServer, name: str
) -> None:
    """Issue 9, finding 11: whoever may write a secret must not get code execution."""
    with Client(live_server.addr, live_server.root_token) as admin:
        admin.put("secret", f"runbad/{name}", {name: "/tmp/evil", "OK_VALUE": "1"})
    probe = [sys.executable, "-c", "import os; print(os.environ.get('OK_VALUE'))"]
    refused = _run(live_server, "--env", f"secret/runbad/{name}", "--", *probe)
    assert refused.returncode == 2 and f"--allow-env {name}" in refused.stderr
    assert "1" not in refused.stdout
    allowed = _run(live_server, "--env", f"secret/runbad/{name}", "--allow-env", name, "--", *probe)
    assert allowed.returncode == 0 and allowed.stdout.strip() == "1", allowed.stderr


def test_run_never_replaces_the_parents_variables_or_hands_over_the_token_file(
    live_server: StrongroomServer, tmp_path: Path
) -> None:
    with Client(live_server.addr, live_server.root_token) as admin:
        admin.put("secret", "runclash/app", {"APP_MODE": "from-secret"})
    probe = [sys.executable, "-c", "import os; print(os.environ['STRONGROOM_TOKEN_FILE'])"]
    clash = _run(live_server, "--env", "secret/runclash/app", "--", *probe, APP_MODE="parent")
    assert clash.returncode == 2 and "already sets" in clash.stderr
    saved = tmp_path / "token"
    saved.write_text(live_server.root_token or "")
    child = _run(
        live_server, "--env", "secret/runclash/app", "--", *probe, STRONGROOM_TOKEN_FILE=str(saved)
    )
    assert child.returncode == 0 and child.stdout.strip() == os.devnull


def test_run_refuses_a_template_placeholder_without_a_key(
    live_server: StrongroomServer, tmp_path: Path
) -> None:
    template = tmp_path / "bad.tmpl"
    template.write_text("password = {{ secret/run/a }}\n")
    done = _run(live_server, "--template", f"{template}=CONF", "--", "true")
    assert done.returncode == 2 and "namespace/path#key" in done.stderr


def _certificate(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "strongroom test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_tls_server_and_verifying_clients(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    port = free_port()
    addr = f"https://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    log = (tmp_path / "tls.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "strongroom",
            "server",
            "--dev",
            "--data-dir",
            str(tmp_path / "d"),
            "--port",
            str(port),
            "--root-token",
            "tls-root",
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    trust = ssl.create_default_context(cafile=str(cert))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{addr}/healthz", verify=trust, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        with Client(addr, "tls-root", verify=str(cert)) as client:
            client.put("secret", "tls/x", {"v": "1"})
        with Client(addr, "tls-root") as untrusting, pytest.raises(ServerUnreachable) as caught:
            untrusting.get("secret", "tls/x")
        assert "not trusted" in caught.value.message
        result = CliRunner().invoke(
            cli,
            ["--ca-cert", str(cert), "kv", "get", "--field", "v", "secret/tls/x"],
            env={"STRONGROOM_ADDR": addr, "STRONGROOM_TOKEN": "tls-root"},
        )
        assert result.output == "1\n"
        # Issue 9, finding 29: a name the certificate does not list is said to be that.
        other_name = f"https://localhost:{port}"
        wrong_name = Client(other_name, "tls-root", verify=str(cert))
        with wrong_name, pytest.raises(ServerUnreachable, match="another name"):
            wrong_name.get("secret", "tls/x")
        # TLS 1.2 offers AEAD suites only: a CBC-only client gets no handshake.
        for suite, works in (
            ("ECDHE-ECDSA-AES128-SHA", False),
            ("ECDHE-ECDSA-AES128-GCM-SHA256", True),
        ):
            tls12 = ssl.create_default_context(cafile=str(cert))
            tls12.maximum_version = ssl.TLSVersion.TLSv1_2
            tls12.set_ciphers(suite)
            try:
                raw = socket.create_connection(("127.0.0.1", port), timeout=5)
                with raw, tls12.wrap_socket(raw, server_hostname="127.0.0.1") as wrapped:
                    assert wrapped.cipher() is not None
                    handshake = True
            except ssl.SSLError:
                handshake = False
            assert handshake is works, suite
        answer = httpx.get(
            f"{addr}/api/v1/secrets/secret/tls/x",
            verify=trust,
            headers={"Authorization": "Bearer tls-root"},
        )
        assert answer.headers["cache-control"] == "no-store"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_a_token_over_plain_http_to_another_host_is_warned_about() -> None:
    from strongroom.client import InsecureTransportWarning

    with pytest.warns(InsecureTransportWarning, match="plain http"):
        Client("http://192.0.2.10:8200", "srs.some-token").close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Client("http://127.0.0.5:8200", "srs.some-token").close()  # loopback: no warning
        Client("http://[::1]:8200", "srs.some-token").close()


def test_non_loopback_without_tls_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["server", "--dev", "--data-dir", str(tmp_path), "--host", "0.0.0.0"]
    )
    assert result.exit_code == 2 and "--tls-cert" in result.output
