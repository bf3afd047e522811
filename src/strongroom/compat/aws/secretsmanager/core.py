"""The shared core of the Secrets Manager backend: names and ARNs, the secret's record read and
changed with compare-and-set, and access (strongroom's policies with the secret's resource
policy). The operations are in the modules that extend ``SecretsCore``."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping

from strongroom.auth import Identity
from strongroom.auth.aws_keys import principal_arn
from strongroom.clock import Clock
from strongroom.compat.aws.secretsmanager.catalogue import OPERATIONS, ROTATION, Rule
from strongroom.compat.aws.secretsmanager.errors import MARKED, SecretsManagerError, not_found
from strongroom.compat.aws.secretsmanager.models import (
    CONDITION_KEYS,
    MAX_RESOURCE_POLICY,
    NAME,
    RECORD_KIND,
    Rotations,
    SmSecret,
    new_suffix,
    secrets_namespace,
)
from strongroom.errors import AccessDenied, BadRequest
from strongroom.paths import check_path
from strongroom.policy.aws_documents import (
    Decision,
    DocumentCache,
    PolicyDocument,
    PolicyDocumentError,
    PolicyRequest,
)
from strongroom.policy.grants import Grant, grant_if
from strongroom.policy.kv import kv_policy_path
from strongroom.service.records import Repository
from strongroom.service.secret_rows import SecretRows
from strongroom.service.secrets import SecretService

__all__ = ["NOT_ON_A_REPLICA", "REPLICA_ACTIONS", "SecretsCore"]

# What a replica answers in its own region: reads. Anything else is made through the primary.
REPLICA_ACTIONS = frozenset(
    {"GetSecretValue", "DescribeSecret", "ListSecretVersionIds", "StopReplicationToReplica"}
)
NOT_ON_A_REPLICA = (
    "Operation not permitted on a replica secret. Call must be made in primary secret's region."
)


class _Unread:
    """A record not read yet (``_load`` reads it)."""


_UNREAD = _Unread()


class SecretsCore:
    def __init__(
        self,
        rows: SecretRows,
        repository: Repository,
        secrets: SecretService,
        clock: Clock,
        account: Callable[[], str],
        ensure_namespace: Callable[[str], None],
        rotations: Callable[[], Rotations] | None = None,
        lambda_functions: Callable[[str], bool] = lambda name: False,
    ) -> None:
        self._rows = rows
        self._records = repository.of(RECORD_KIND, SmSecret.decode, SmSecret.encode)
        self._secrets = secrets
        self._clock = clock
        self._account = account
        self._ensure_namespace = ensure_namespace
        self._rotations = rotations
        self._lambda_functions = lambda_functions
        self._documents = DocumentCache(self.parse_policy)

    # -- names
    def _check_name(self, name: str) -> str:
        if not NAME.fullmatch(name):
            raise SecretsManagerError(
                "ValidationException",
                "Invalid name. Must be a valid name containing alphanumeric characters, or any "
                "of the following: -/_+=.@!",
            )
        try:
            check_path(name)
        except BadRequest:
            raise SecretsManagerError(
                "ValidationException",
                "Invalid name: strongroom keeps secret names canonical (no leading, trailing "
                "or doubled '/', no '.' or '..' segment; docs/compat-aws.md).",
            ) from None
        return name

    def _name_of(self, region: str, secret_id: str) -> str:
        """The secret's name from a name, a full ARN or a partial ARN (without the suffix)."""
        if not isinstance(secret_id, str) or not 1 <= len(secret_id) <= 2048:
            raise SecretsManagerError("ValidationException", "SecretId must be 1-2048 characters.")
        prefix = f"arn:aws:secretsmanager:{region}:{self._account()}:secret:"
        if not secret_id.startswith("arn:"):
            return self._existing_name(secret_id)
        if not secret_id.startswith(prefix):
            raise not_found()
        tail = secret_id[len(prefix) :]
        base, _, suffix = tail.rpartition("-")
        if base and len(suffix) == 6:
            found = self._records.get(f"{region}/{base}")
            if found is not None and found.suffix == suffix:
                return base
        return self._existing_name(tail)

    def _existing_name(self, name: str) -> str:
        """A name a secret could have: one no secret can have is not found (it was never
        created), as AWS answers a SecretId it does not know."""
        try:
            return self._check_name(name)
        except SecretsManagerError:
            raise not_found() from None

    def _path(self, region: str, area: str, name: str) -> str:
        return kv_policy_path(secrets_namespace(region), area, name)

    def _load(
        self,
        region: str,
        name: str,
        grant: Grant,
        *,
        deleted_ok: bool = False,
        record: SmSecret | _Unread | None = _UNREAD,
        before_write: Callable[[], None] = lambda: None,
    ) -> SmSecret:
        """The secret's record (``record``, when the caller read it already)."""
        if isinstance(record, _Unread):
            record = self._record(region, name)
        if record is None:
            if self._rows.exists(grant):
                before_write()
                return self._adopt(region, name, grant)
            raise not_found()
        found = record
        if found.deletion_date:
            if self._clock.now() >= found.deletion_date:
                before_write()
                self._purge(found, grant, due=True)
                raise not_found()
            if not deleted_ok:
                raise SecretsManagerError("InvalidRequestException", MARKED)
        return found

    def _adopt(self, region: str, name: str, grant: Grant) -> SmSecret:
        """A secret written through another surface, seen here first: it gets an ARN."""
        self._stored_record(region, name)  # a replica left behind makes way
        secret = self._rows.get(grant)
        created = secret.created_time if secret else self._clock.now()
        found = SmSecret(name, region, self._account(), new_suffix(), created, last_changed=created)
        self._records.create(f"{region}/{name}", found)  # or another request adopted it first
        return self._records.get(f"{region}/{name}") or found

    def _exists_elsewhere(self, grant: Grant) -> bool:
        """A secret with no record yet, written through another surface."""
        return self._rows.exists(grant)

    def _change(self, found: SmSecret, edit: Callable[[SmSecret], None]) -> None:
        """``edit`` made to the stored record with compare-and-set (made again to a fresh copy
        when another request changed the record first), and to ``found``, the caller's copy. An
        edit that raises writes nothing."""
        edit(found)

        def edited(current: SmSecret | None) -> SmSecret:
            if current is None:
                raise not_found()
            edit(current)
            return current

        self._records.change(f"{found.region}/{found.name}", edited)

    def _record(self, region: str, name: str) -> SmSecret | None:
        """The secret's record; a replica's is its primary's seen through it (replication.py),
        and none when the primary is gone or no longer lists it."""
        found = self._records.get(f"{region}/{name}")
        if found is None or not found.primary_region:
            return found
        primary = self._records.get(f"{found.primary_region}/{name}")
        if primary is None or found.region not in primary.replicas:
            return None  # a replica left behind: never a view of a secret made later
        return primary.as_replica(found)

    def _stored_record(self, region: str, name: str) -> SmSecret | None:
        """The record stored at ``region/name``, for a request about to make one there: a
        replica its primary no longer lists (left by a crash between replication's two writes)
        is no secret, and is removed."""
        stored = self._records.get(f"{region}/{name}")
        if stored is not None and stored.primary_region and self._record(region, name) is None:
            self._records.delete(f"{region}/{name}")
            return None
        return stored

    def _purge(self, found: SmSecret, grant: Grant, *, due: bool = False) -> None:
        """Remove the secret: now (``delete`` granted), or once its recovery window ended
        (``due``: the deletion DeleteSecret allowed, carried out by whichever request finds it
        due)."""
        if due:
            self._rows.purge(grant)
        else:
            self._rows.delete(grant)
        self._records.delete(f"{found.home_region}/{found.name}")
        for region in found.replicas:
            self._records.delete(f"{region}/{found.name}")

    # -- access: strongroom's policies, with the secret's resource policy
    def _authorized(
        self,
        identity: Identity,
        region: str,
        name: str,
        action: str,
        context: Mapping[str, str] | None = None,
        *,
        allowed: bool | None = None,
    ) -> tuple[SmSecret | None, Grant]:
        """The action's rule in the catalogue: strongroom's policies (its capability on its
        path, or ``allowed`` where an action's rule has more to it) combined with the secret's
        resource policy as the rule's mode says (policy/grants.py, policy/authorize.py).
        Returns the record it read, so the operation reads it once, and the grant the secret
        service takes for the secret's values. A refusal has the same words whether the secret
        exists or not, and whatever refused it; they name the action, never the secret's
        resolved name (a name resolved from an ARN's suffix would tell whether the suffix was
        right)."""
        rule = OPERATIONS[action]
        if allowed is None:
            allowed = identity.allows(rule.capability, self._rule_path(region, rule, name))
        found = self._record(region, name)
        verdict = Decision.NONE
        if found is not None and found.resource_policy:
            request = self._policy_request(identity, found, action, context or {})
            verdict = self._documents.get(found.resource_policy).decide(request)
        grant = grant_if(
            allowed,
            verdict,
            rule.mode,
            capability=rule.capability,
            namespace=secrets_namespace(found.home_region if found else region),
            path=name,
            action=f"secretsmanager:{action}",
        )
        if grant is None:
            raise AccessDenied(
                f"permission denied: secretsmanager:{action} on this secret "
                "(docs/compat-aws.md lists the capability each action needs)"
            )
        if found is not None and found.primary_region and action not in REPLICA_ACTIONS:
            raise SecretsManagerError("InvalidParameterException", NOT_ON_A_REPLICA)
        return found, grant

    def _policy_request(
        self, identity: Identity, found: SmSecret, action: str, context: Mapping[str, str]
    ) -> PolicyRequest:
        principal = principal_arn(identity, self._account())
        facts = {
            "aws:principalarn": (principal,),
            "aws:principalaccount": (found.account,),
            "secretsmanager:secretid": (found.arn,),
            **{f"secretsmanager:{k.lower()}": (v,) for k, v in context.items()},
        }
        for tag, value in found.tags.items():
            facts[f"aws:resourcetag/{tag.lower()}"] = (value,)
            facts[f"secretsmanager:resourcetag/{tag.lower()}"] = (value,)
        return PolicyRequest(principal, found.account, f"secretsmanager:{action}", found.arn, facts)

    @staticmethod
    def parse_policy(text: str) -> PolicyDocument:
        try:
            return PolicyDocument.parse(
                text,
                service="secretsmanager",
                max_chars=MAX_RESOURCE_POLICY,
                condition_keys=CONDITION_KEYS,
            )
        except PolicyDocumentError as exc:
            raise SecretsManagerError("MalformedPolicyDocumentException", exc.message) from None

    def _rule_path(self, region: str, rule: Rule, name: str) -> str:
        if rule.area == ROTATION:
            return f"sys/rotation/{secrets_namespace(region)}/{name}"
        return self._path(region, rule.area, name)

    @staticmethod
    def _token_or_new(token: str | None) -> str:
        """The request's ClientRequestToken (checked on the wire: fields.py), else a new one."""
        return token if token is not None else str(uuid.uuid4())
