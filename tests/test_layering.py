"""Architecture rules from design.md, checked: who may import what, and curated __all__."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import strongroom

SRC = Path(strongroom.__file__).parent


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_only_the_aead_module_touches_aes_gcm() -> None:
    for path in _modules():
        if path.name == "_aead.py":
            continue
        text = path.read_text()
        assert "AESGCM" not in text, f"{path} touches AES-GCM directly"
        # The password KDF is the one other primitive, and it lives in crypto/ too.
        # Named keys (Transit) sign and derive with pyca/cryptography's primitives there too, and
        # public_keys.py loads the keys of a JWT issuer, signing_keys.py those of identity tokens,
        # keyed_mac.py keeps an HMAC key's state for the audit log and the sealed store.
        primitives = (
            "password_hashing.py",
            "named_keys.py",
            "public_keys.py",
            "signing_keys.py",
            "keyed_mac.py",
        )
        if path.name not in primitives or path.parent.name != "crypto":
            assert "hazmat" not in text, f"{path} uses a cryptographic primitive directly"


def test_nonces_are_made_in_one_function() -> None:
    makers = [
        p for p in _modules() if "def new_nonce" in p.read_text() or "_POOL_BYTES)" in p.read_text()
    ]
    assert [p.name for p in makers] == ["_aead.py"]
    users = sorted(p.name for p in _modules() if "new_nonce()" in p.read_text())
    # pkcs11.py: the HSM encrypts with AES-GCM, and takes its IV from the same function.
    assert users == ["_aead.py", "pkcs11.py"]


def test_nonces_never_repeat_and_a_forked_child_draws_its_own() -> None:
    import os

    from strongroom.crypto._aead import new_nonce

    seen = {new_nonce() for _ in range(5000)}
    assert len(seen) == 5000
    import warnings

    read, write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads, on 3.12+
        pid = os.fork()
    if pid == 0:  # the child: report its next nonces, then leave at once
        os.write(write, b"".join(new_nonce() for _ in range(10)))
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 120)
    parent = b"".join(new_nonce() for _ in range(10))
    assert child != parent and len(child) == 120


def test_the_client_imports_only_errors_types_and_httpx() -> None:
    for path in (SRC / "client").rglob("*.py"):
        for name in _imports(path):
            if name.startswith("strongroom"):
                # paths: the client refuses a non-canonical path with the server's own rule.
                allowed = {"errors", "types", "results", "client", "paths", "limits"}
                assert name.split(".")[1] in allowed, f"{path.name} imports {name}"


def test_the_store_never_imports_crypto() -> None:
    for path in (SRC / "store").rglob("*.py"):
        assert not any(
            n.startswith(("strongroom.crypto", "strongroom.keyproviders", "cryptography"))
            for n in _imports(path)
        )


def test_environment_is_read_only_in_config() -> None:
    for path in _modules():
        if path.name != "config.py":
            assert "os.environ" not in path.read_text(), f"{path} reads the environment"


def test_the_core_imports_no_optional_dependency() -> None:
    core = [
        "errors",
        "types",
        "clock",
        "limits",
        "paths",
        "crypto",
        "keyproviders",
        "keys",
        "service",
        "apptokens",
    ]
    optional = {"starlette", "uvicorn", "httpx", "click", "psycopg", "sqlalchemy", "boto3"}
    optional |= {"botocore", "pkcs11", "google", "azure"}  # the key providers' SDKs
    # Modules that are an optional extra themselves, each imported only where it is chosen.
    extras = {"apptokens/sqlalchemy.py", "apptokens/sources.py", "service/s3_backups.py"}
    extras |= {
        f"keyproviders/{scheme}.py"
        for scheme in ("transit", "awskms", "pkcs11", "gcpkms", "azurekv")
    }
    for path in _modules():
        rel = path.relative_to(SRC).parts
        if rel[0].removesuffix(".py") in core and "/".join(rel) not in extras:
            bad = [n for n in _imports(path) if n.split(".")[0] in optional]
            assert not bad, f"{path} imports {bad}"


@pytest.mark.parametrize(
    "name",
    [
        m.name
        for m in pkgutil.walk_packages(strongroom.__path__, "strongroom.")
        if "__main__" not in m.name
    ],
)
def test_every_public_module_has_a_curated_all(name: str) -> None:
    module = importlib.import_module(name)
    if name.split(".")[-1].startswith("_") and not name.endswith("__init__"):
        return
    exported = getattr(module, "__all__", None)
    if exported is None:
        assert name.count(".") == 1 or (
            module.__file__ and module.__file__.endswith("__init__.py")
        ), f"{name} has no __all__"
        return
    for symbol in exported:
        assert hasattr(module, symbol), f"{name}.__all__ names missing {symbol}"


def _layer(path: Path) -> str:
    """A module's layer: its top-level package or module; ``server/<surface>`` for a surface."""
    parts = path.relative_to(SRC).parts
    if parts[0] == "server" and len(parts) > 2:
        return f"server/{parts[1]}"
    return parts[0].removesuffix(".py")


# design.md §1, import direction. Each layer names the strongroom layers it may import (itself
# always). The leaf modules (errors, types, clock, limits, paths, durations, jsondata, cursors,
# networks, egress) may be imported by anyone above the store.
_LEAVES = {
    "errors",
    "types",
    "results",
    "clock",
    "limits",
    "paths",
    "durations",
    "jsondata",
    "networks",
    "opened_cache",
    "__version__",
}
ALLOWED: dict[str, set[str]] = {
    "store": {"errors"},
    "crypto": {"errors"},
    "keyproviders": {"crypto", "errors", "config"},
    "seal": {"crypto", "errors", "keyproviders", "store", "clock"},
    "keys": {"crypto", "errors", "keyproviders", "store", "clock"},
    "sealed_store": {"crypto", "errors", "keyproviders", "store", "opened_cache"},
    "record_migration": {"errors", "keyproviders", "sealed_store"},
    "policy": {"errors", "store", "clock"},
    # crypto: the audit log's HMACs (crypto/keyed_mac.py)
    "audit": {"crypto", "errors", "store", "keyproviders", "clock", "types", "record_migration"},
    # egress: the JWT auth method fetches an issuer's keys through the egress policy
    "auth": {
        "crypto",
        "errors",
        "keyproviders",
        "policy",
        "store",
        *_LEAVES,
        "record_migration",
        "egress",
    },
    "service": {
        *_LEAVES,
        "policy",
        "auth",
        "audit",
        "keys",
        "keyproviders",
        "store",
        "crypto",
        "seal",
        "cursors",
    },
    "rotation": {
        *_LEAVES,
        "service",
        "store",
        "auth",
        "audit",
        "policy",
        "egress",
        "password_generation",
    },
    # The compatibility backends (design: "backends in the shape moto proved"): domain services,
    # never the store; the server's shared parts for their responses, as a surface has.
    "compat": {
        *_LEAVES,
        "server",
        "service",
        "auth",
        "policy",
        "crypto",
        "keys",
        "password_generation",
    },
    "server/native": {*_LEAVES, "server", "service", "auth", "policy", "password_generation"},
    "server/vault": {*_LEAVES, "server", "service", "compat", "auth", "policy"},
    "server/aws": {*_LEAVES, "server", "compat", "auth"},
    # The console's surface serves files; everything it does goes through the other surfaces.
    "server/console": {"errors", "server"},
    "client": {"errors", "types", "results", "paths", "limits"},
    "cli": {
        *_LEAVES,
        "client",
        "policy",
        "config",
        "rotation",
        "password_generation",
        "kmsplugin",
    },
    # The KMS v2 plugin is a client of the server's API, like the CLI: nothing of the server.
    "kmsplugin": set(),
    "apptokens": {"errors", "clock", "crypto", "keyproviders", "client"},
}
# The composition roots may import anything: server/ (app, node, runtime, front) and cli/server.py.
_COMPOSITION = {
    "server",
    "results",
    "__init__",
    "__main__",
    "command",
    "config",
    "testing",
    "egress",
    "cursors",
    "password_generation",
} | _LEAVES


def test_imports_follow_the_layers_of_the_design() -> None:
    wrong = []
    for path in _modules():
        layer = _layer(path)
        # cli/server.py and cli/restore.py open the store and the key provider themselves.
        if layer in _COMPOSITION or (layer == "cli" and path.name in ("server.py", "restore.py")):
            continue
        allowed = ALLOWED[layer] | {layer.split("/")[0] if layer.startswith("server/") else layer}
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] != "strongroom" or len(parts) < 2:
                continue
            target = parts[1]
            if (layer.startswith("server/") or layer == "compat") and target == "server":
                if len(parts) > 2 and parts[2] in ("node", "runtime", "app", "front"):
                    wrong.append(f"{path.relative_to(SRC)} imports {name}")
                continue
            if target not in allowed:
                wrong.append(f"{path.relative_to(SRC)} imports {name}")
    assert not wrong, "\n".join(wrong)


def _public_definitions(path: Path) -> set[str]:
    """Names a module defines at its top level without a leading underscore."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return {n for n in names if not n.startswith("_") and n != "log"}


def test_all_names_exactly_the_public_definitions() -> None:
    """``__all__`` of a module (not a package) is its public definitions: nothing public is
    left out, and nothing named is missing."""
    wrong = []
    for path in _modules():
        if path.name == "__init__.py" or path.name.startswith("_"):
            continue
        tree = ast.parse(path.read_text())
        declared = next(
            (
                ast.literal_eval(node.value)
                for node in tree.body
                if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
            ),
            None,
        )
        if declared is None:
            continue
        defined = _public_definitions(path)
        if not defined <= set(declared):
            rel = path.relative_to(SRC)
            wrong.append(f"{rel}: missing {sorted(defined - set(declared))}")
    assert not wrong, "\n".join(wrong)


def test_only_crypto_reaches_its_private_aead_module() -> None:
    for path in _modules():
        if path.parent.name != "crypto":
            assert not any("_aead" in name for name in _imports(path)), path


MAX_MODULE_LINES = 450


def test_no_module_is_over_450_lines() -> None:
    """Small modules with one responsibility: past this, a module is doing two jobs."""
    long = {
        str(path.relative_to(SRC)): lines
        for path in _modules()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, long


def test_compatibility_backends_never_reach_the_store() -> None:
    """compat/ uses the domain services (records through service/records.py, secret rows
    through service/secret_rows.py), never the store itself."""
    for path in (SRC / "compat").rglob("*.py"):
        reached = [n for n in _imports(path) if n.startswith("strongroom.store")]
        assert not reached, f"{path.relative_to(SRC)} imports {reached}"


_RAW_RECORD_CALLS = {"get_record", "put_record", "replace_record", "delete_record", "list_records"}
# Modules that move records of every kind as they are stored: the store and its sealing layer,
# the typed repository itself, record migration, backup and restore, and dev mode's reset.
_RAW_RECORD_MODULES = (
    "store/",
    "testing/",
    "sealed_store.py",
    "record_migration.py",
    "service/backup.py",
    "service/dev_reset.py",
)


def test_records_are_reached_through_the_typed_repository() -> None:
    """Every kind of record is read and written through ``Records`` (store/records.py: typed,
    compare-and-set in ``change``), not with the store's raw record calls."""
    raw = []
    for path in _modules():
        relative = str(path.relative_to(SRC))
        if relative.startswith(_RAW_RECORD_MODULES):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            if node.func.attr in _RAW_RECORD_CALLS:
                raw.append(f"{relative}:{node.lineno} {node.func.attr}")
    assert not raw, raw


def _module_names() -> dict[str, Path]:
    names = {}
    for path in _modules():
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def test_no_import_cycles() -> None:
    """No module imports, even lazily inside a function, a module that imports it back: a cycle
    is two modules that cannot be understood, tested or replaced apart. ``from package import
    module`` counts as importing that module (a package's ``__init__`` runs first either way)."""
    modules = _module_names()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                submodules = [f"{node.module}.{a.name}" for a in node.names]
                targets = [m for m in submodules if m in modules] or [node.module]
            graph[name].update(t for t in targets if t in modules and t != name)

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            current = todo.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                todo.extend(graph[current])
        return False

    cycles = sorted(f"{a} <-> {b}" for a in graph for b in graph[a] if a < b and reaches(b, a))
    assert not cycles, "\n".join(cycles)


# The top-level modules of server/, each with its role. The shared parts are what surfaces and
# backends build on; the front door serves every request; the node's parts keep the cluster's
# state; the composition roots put it all together.
SERVER_ROLES = {
    "shared": {
        "routes",
        "surface",
        "bodies",
        "openapi",
        "json_out",
        "services",
        "threads",
        "request_ids",
        "url_checks",
        "protocol",
        "proxies",
        "gauge",
    },
    "front door": {
        "front",
        "front_node",
        "front_audit",
        "audit_batch",
        "audit_sync",
        "auth_paths",
        "request_body",
        "direct",
    },
    "node parts": {"leadership", "roster", "writer", "heap"},
    "composition": {"__init__", "app", "node", "runtime", "scheduler", "metrics", "ops"},
}
_SURFACES = {"native", "vault", "aws", "console"}
# what each role must not import from server/ (a surface package by its name)
SERVER_FORBIDDEN = {
    "shared": SERVER_ROLES["front door"]
    | SERVER_ROLES["node parts"]
    | SERVER_ROLES["composition"]
    | _SURFACES,
    # what it needs of a node is front_node's protocol: no composition root
    "front door": {"app", "node", "runtime", "scheduler", "metrics", "ops"} | _SURFACES,
    "node parts": SERVER_ROLES["front door"] | SERVER_ROLES["composition"] | _SURFACES,
    "composition": set(),
}


def test_every_top_level_server_module_has_a_role() -> None:
    placed = set().union(*SERVER_ROLES.values())
    present = {path.stem for path in (SRC / "server").glob("*.py")}
    assert present == placed, f"unplaced: {present - placed}; gone: {placed - present}"


def test_the_server_modules_import_by_their_role() -> None:
    wrong = []
    for role, names in SERVER_ROLES.items():
        for name in names:
            path = SRC / "server" / f"{name}.py"
            for imported in _imports(path):
                parts = imported.split(".")
                inside = parts[:2] == ["strongroom", "server"] and len(parts) > 2
                if inside and parts[2] in SERVER_FORBIDDEN[role]:
                    wrong.append(f"server/{name}.py ({role}) imports {imported}")
    assert not wrong, "\n".join(wrong)


# No public signature of a service or backend takes or gives dict, Any or object (design:
# "typed seam": surfaces parse into typed values, services take and give them; 230 did when
# this test began). The Vault API checks rights before its handler (server/vault/catalogue.py)
# and the native API checks a body's shape before rights (docs/api.md), so their surfaces parse.
# An AWS backend's wire modules (``fields``, ``shapes``, ``responses``: moto's "responses") read
# the API's JSON and check what its model constrains before the backend runs, as AWS does; a
# value read back from the store or a request's filter list is a ``JsonValue``, narrowed where
# it is read. The wire modules, like the server's surfaces, are outside this test.
_WIRE_MODULES = frozenset({"fields.py", "shapes.py", "responses.py"})


_LOOSE_NAMES = frozenset({"Any", "dict", "Dict", "object"})


def _loose(annotation: ast.expr | None) -> bool:
    """Whether an annotation names ``Any``, ``dict`` or ``object`` anywhere in it (by name:
    ``Verdict`` is not ``dict``)."""
    if annotation is None:
        return False
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        annotation = ast.parse(annotation.value, mode="eval").body  # a quoted annotation
    return any(
        (isinstance(node, ast.Name) and node.id in _LOOSE_NAMES)
        or (isinstance(node, ast.Attribute) and node.attr in _LOOSE_NAMES)
        for node in ast.walk(annotation)
    )


def test_public_service_signatures_are_typed() -> None:
    loose = []
    for package in ("service", "compat"):
        for path in sorted((SRC / package).rglob("*.py")):
            if package == "compat" and path.name in _WIRE_MODULES:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                    continue
                arguments = [*node.args.args, *node.args.kwonlyargs]
                annotations = [a.annotation for a in arguments if a.arg not in ("self", "cls")]
                count = sum(_loose(a) for a in [*annotations, node.returns])
                loose += [f"{path.relative_to(SRC)}:{node.lineno} {node.name}"] * count
    assert not loose, "\n".join(loose)


def test_the_aws_wire_modules_import_first_without_the_whole_app() -> None:
    """``strongroom.server``'s package imported the app, so a module that needs only
    ``server.routes`` (the AWS wire modules) imported the app, which imported that module back
    half-made: 14 modules failed when they were the first one imported."""
    first = [
        "strongroom.compat.aws.fields",
        "strongroom.compat.aws.kms.routes",
        "strongroom.compat.aws.secretsmanager.routes",
        "strongroom.compat.aws.ssm.routes",
    ]
    for module in first:
        code = f"import sys, {module}; assert 'strongroom.server.app' not in sys.modules"
        ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert ran.returncode == 0, (module, ran.stderr)
    from strongroom.server import create_app  # still there, imported when asked for

    assert create_app.__module__ == "strongroom.server.app"
