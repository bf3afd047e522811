"""Settings, and the only place environment variables are read."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from strongroom.limits import DEFAULT_LIMITS, Limits

__all__ = [
    "DEFAULT_ADDR",
    "ClientSettings",
    "ServerSettings",
    "child_environment",
    "client_settings_from_env",
    "default_data_dir",
    "environment_secret",
    "store_url_from_env",
    "token_file",
]

DEFAULT_ADDR = "http://127.0.0.1:8200"


def default_data_dir() -> Path:
    """$STRONGROOM_DATA_DIR, else $XDG_DATA_HOME/strongroom, else ~/.local/share/strongroom."""
    explicit = os.environ.get("STRONGROOM_DATA_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "strongroom"


@dataclass(frozen=True)
class ServerSettings:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8200
    dev: bool = False
    store_url: str = ""  # default: sqlite in data_dir
    # The server process alone opens its SQLite file (``strongroom server`` sets it): it then
    # keeps reads between commits (store/sqlite.py). Embedders that share the file leave it off.
    exclusive_store: bool = False
    key_file: Path | None = None  # default: data_dir / "kms.key"
    root_key_name: str = "root"
    root_token: str | None = None
    default_namespace: str = "secret"
    rotate_after_encryptions: int = 2**30
    limits: Limits = field(default_factory=lambda: DEFAULT_LIMITS)
    access_log: bool = False
    seal: str = "kms"  # kms | file | shamir
    seal_key_file: Path | None = None  # the file seal's unseal key, kept apart from the store
    seal_provider: str = ""  # the kms seal's root key provider (URI); default: the local key file
    audit_file: Path | None = None  # a file audit sink from the server's own flags
    audit_dir: Path | None = None  # where API-enabled file sinks go; default data_dir/audit
    tls_cert: Path | None = None
    tls_key: Path | None = None
    login_attempts: int = 5  # failed logins per identity per 15 minutes
    unauthenticated_rate: float = 10.0  # requests per second per client address
    unauthenticated_burst: float = 50.0
    trusted_proxies: tuple[str, ...] = ()  # CIDRs whose X-Forwarded-For is believed
    egress_allow: tuple[str, ...] = ()  # non-public CIDRs that rotators may connect to
    key_providers: tuple[tuple[str, str], ...] = ()  # (name, URI) namespaces may be wrapped by
    node_name: str = ""  # names this node's audit chains when several nodes share a store
    scheduler_interval: float = 0.0  # seconds between scheduler ticks; 0: no scheduler
    rotate_keys_every: float = 0.0  # rotate keyring terms older than this (seconds); 0: never
    rotation_lease: float = 60.0  # a rotation run's lease; a killed run resumes after it
    # Scheduled backups go here: a directory or s3://BUCKET/PREFIX (the server's own flag only)
    backup_dir: Path | str | None = None
    backup_every: float = 0.0  # seconds between scheduled backups; 0: none
    backup_keep: int = 7  # the newest scheduled backups kept; older ones are deleted
    aws_account_id: str = "000000000000"  # the account in the AWS API's ARNs
    aws_dev_key: tuple[str, str] | None = None  # dev mode's fixed (access key id, secret key)

    @property
    def resolved_store_url(self) -> str:
        return self.store_url or f"sqlite://{self.data_dir / 'strongroom.db'}"

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.data_dir / "kms.key"

    @property
    def resolved_audit_dir(self) -> Path:
        return self.audit_dir or self.data_dir / "audit"


@dataclass(frozen=True)
class ClientSettings:
    addr: str
    token: str | None
    ca_cert: str | None = None


def token_file() -> Path:
    """Where ``strongroom login`` keeps the token (0600): $STRONGROOM_TOKEN_FILE, else
    $XDG_CONFIG_HOME/strongroom/token, else ~/.config/strongroom/token."""
    explicit = os.environ.get("STRONGROOM_TOKEN_FILE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "strongroom" / "token"


def _saved_token() -> str | None:
    try:
        return token_file().read_text("utf-8").strip() or None
    except OSError:
        return None


def client_settings_from_env(
    addr: str | None = None, token: str | None = None, ca_cert: str | None = None
) -> ClientSettings:
    """Explicit values first, then the environment, then the token saved by ``login``."""
    return ClientSettings(
        addr or os.environ.get("STRONGROOM_ADDR") or DEFAULT_ADDR,
        token or os.environ.get("STRONGROOM_TOKEN") or _saved_token(),
        ca_cert or os.environ.get("STRONGROOM_CACERT"),
    )


def environment_secret(name: str) -> str | None:
    """A secret a key provider's URI names by variable (``pin-source=env:NAME``): the URI holds
    the name, never the value."""
    return os.environ.get(name)


def store_url_from_env() -> str:
    return os.environ.get("STRONGROOM_STORE_URL", "")


def child_environment(*, keep_token: bool) -> dict[str, str]:
    """This process's environment for a child started by ``strongroom run``; without
    ``keep_token`` the child inherits neither STRONGROOM_TOKEN nor the saved token file (its
    STRONGROOM_TOKEN_FILE points at /dev/null, so a strongroom command in it has no token)."""
    env = dict(os.environ)
    if not keep_token:
        env.pop("STRONGROOM_TOKEN", None)
        env["STRONGROOM_TOKEN_FILE"] = os.devnull
    return env
