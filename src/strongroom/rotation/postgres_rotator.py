"""The PostgreSQL role-password rotator.

Strategies:
- ``single``: one role; ``set`` changes its password. Clients holding the old password fail
  their next login until they read the new one, so use it where a brief gap is acceptable.
- ``alternating``: two roles with the same rights take turns. A rotation changes the password
  of the role that is *not* current, tests it, then promotes it; apps holding the current
  credentials keep working all the while. The old role's password is replaced at the next
  rotation, which is when ``previous`` stops working.

The password is sent as a SCRAM-SHA-256 verifier computed here, never as plain text, so it cannot
appear in the server's statement log. Parameters: ``admin`` (``ns/path`` of a secret with
``username`` and ``password`` of a role allowed to ALTER ROLE), ``host``, ``port``, ``dbname``,
``username`` (single) or ``usernames`` (alternating, two), ``policy`` (a password policy),
``require_auth`` (libpq's; default ``scram-sha-256``: no password is ever sent in clear text)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
from typing import Any

from strongroom.egress import EgressRefused
from strongroom.errors import BadRequest, RotationFailed
from strongroom.password_generation import PasswordPolicy, generate_password
from strongroom.rotation.rotators import RotationContext, Rotator

log = logging.getLogger("strongroom.rotation")

__all__ = ["PostgresRotator", "scram_verifier"]

_SCRAM_ITERATIONS = 4096
# Letters, digits and symbols that need no quoting in a libpq connection string.
_DEFAULT_POLICY = {"length": 32, "classes": ["lower", "upper", "digits"]}


def scram_verifier(password: str, salt: bytes | None = None) -> str:
    """PostgreSQL's stored form of a SCRAM-SHA-256 password (RFC 5802/7677)."""
    salt = salt or os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _SCRAM_ITERATIONS)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    b64 = base64.b64encode
    return (
        f"SCRAM-SHA-256${_SCRAM_ITERATIONS}:{b64(salt).decode()}"
        f"${b64(stored_key).decode()}:{b64(server_key).decode()}"
    )


class PostgresRotator(Rotator):
    name = "postgres"

    def validate(self, params: dict[str, Any]) -> None:
        strategy = params.get("strategy", "single")
        if strategy not in ("single", "alternating"):
            raise BadRequest("postgres rotator: strategy is 'single' or 'alternating'")
        if not isinstance(params.get("admin"), str) or "/" not in params["admin"]:
            raise BadRequest("postgres rotator: admin is the ns/path of the admin credentials")
        if strategy == "single" and not isinstance(params.get("username"), str):
            raise BadRequest("postgres rotator: single needs username")
        users = params.get("usernames")
        if strategy == "alternating" and not (
            isinstance(users, list) and len(users) == 2 and all(isinstance(u, str) for u in users)
        ):
            raise BadRequest("postgres rotator: alternating needs usernames: [two roles]")
        PasswordPolicy.from_json(params.get("policy", _DEFAULT_POLICY))
        for name, low, high in (("port", 1, 65535), ("connect_timeout", 1, 30)):
            value = params.get(name, low)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise BadRequest(
                    f"postgres rotator: {name} must be an integer from {low} to {high}"
                )
        if not isinstance(params.get("host", ""), str):
            raise BadRequest("postgres rotator: host must be a host name or address")
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise BadRequest(
                "the postgres rotator needs: pip install 'strongroom[postgres]'"
            ) from None

    def references(self, params: dict[str, Any]) -> list[str]:
        return [str(params["admin"])]

    def _connect(self, ctx: RotationContext, user: str, password: str) -> Any:
        import psycopg

        params = ctx.params
        try:  # only where the egress policy allows, and to the address it checked
            target = ctx.egress.resolve(
                str(params.get("host", "127.0.0.1")), int(params.get("port", 5432))
            )
        except EgressRefused as exc:
            log.warning("postgres rotator not connecting: %s", exc.message)
            raise RotationFailed("cannot reach PostgreSQL; the server log has the reason") from None
        return psycopg.connect(
            host=target.host,
            hostaddr=target.address,
            port=target.port,
            dbname=str(params.get("dbname", "postgres")),
            user=user,
            password=password,
            connect_timeout=min(int(params.get("connect_timeout", 10)), 30),
            # Never send a password to a server that asks for it in clear text (a spoofed host
            # would learn the admin password); "md5" here for servers that still use it.
            require_auth=str(params.get("require_auth", "scram-sha-256")),
            autocommit=True,
        )

    def create(self, ctx: RotationContext) -> dict[str, Any]:
        params = ctx.params
        policy = PasswordPolicy.from_json(params.get("policy", _DEFAULT_POLICY))
        if params.get("strategy", "single") == "alternating":
            first, second = params["usernames"]
            current_user = (ctx.current or {}).get("username", second)
            user = first if current_user == second else second
        else:
            user = params["username"]
        return {**(ctx.current or {}), "username": user, "password": generate_password(policy)}

    def _alter(self, ctx: RotationContext, value: dict[str, Any] | None) -> None:
        from psycopg import errors, sql

        if not value:
            raise RotationFailed("there is no value to set")
        admin = ctx.read_secret(str(ctx.params["admin"]))
        try:
            with self._connect(ctx, admin["username"], admin["password"]) as conn:
                statement = sql.SQL("ALTER ROLE {} WITH PASSWORD {}").format(
                    sql.Identifier(value["username"]),
                    sql.Literal(scram_verifier(value["password"])),
                )
                conn.execute(statement)
        except errors.UndefinedObject:
            raise RotationFailed(f"role {value['username']!r} does not exist") from None
        except errors.InsufficientPrivilege:
            raise RotationFailed("the admin role may not change this role's password") from None
        except KeyError:
            raise RotationFailed("the admin secret needs username and password") from None
        except Exception as exc:
            raise RotationFailed(f"cannot reach PostgreSQL ({type(exc).__name__})") from None

    def set(self, ctx: RotationContext) -> None:
        self._alter(ctx, ctx.pending)

    def test(self, ctx: RotationContext) -> None:
        pending = ctx.pending or {}
        try:
            with self._connect(ctx, pending["username"], pending["password"]) as conn:
                conn.execute("SELECT 1")
        except Exception as exc:
            raise RotationFailed(
                f"cannot log in with the new password ({type(exc).__name__})"
            ) from None

    def rollback(self, ctx: RotationContext) -> None:
        # Alternating never touched the current role; single must put the current password back.
        if ctx.params.get("strategy", "single") == "single" and ctx.current:
            self._alter(ctx, ctx.current)
