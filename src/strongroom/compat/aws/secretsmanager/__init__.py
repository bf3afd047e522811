"""AWS Secrets Manager as a view of strongroom's secrets.

Where things live (per region, as in AWS; docs/compat-aws.md):

- a secret named ``N`` in region ``R`` is the KV v2 secret ``aws-R/N``: every version a strongroom
  version, readable through the native and Vault APIs and the CLI too. Its data is
  ``{"SecretString": s}`` or ``{"SecretBinary": base64}``, so both round-trip byte for byte; a
  secret written elsewhere with other fields reads here as the JSON of its data.
- ``AWSCURRENT``, ``AWSPREVIOUS`` and ``AWSPENDING`` are strongroom's ``current``, ``previous``
  and ``pending`` labels (stages.py);
- what AWS adds (the ARN's suffix, description, tags, KMS key id, the scheduled deletion, the
  ClientRequestToken of each version) is the record ``aws-secret`` ``R/N`` (models.py), changed
  only by compare-and-set.

Access is the KV v2 policy map of the namespace ``aws-R``: GetSecretValue is ``read`` on
``aws-R/data/N``; CreateSecret and PutSecretValue ``create``/``update`` there; DescribeSecret and
ListSecretVersionIds ``read`` on ``aws-R/metadata/N``; UpdateSecret, tags and RestoreSecret
``update`` there; DeleteSecret ``delete`` there; ListSecrets shows what ``list``/``read`` on the
metadata (or ``read`` on the data) lets the caller see. A secret's resource policy is enforced on
top, as AWS combines it with IAM's (core.py); a refusal has the same words whether the
secret exists or not.

The modules: ``models`` and ``errors`` (the record and the words), ``core`` (names, the record,
access), ``values``, ``stages``, ``rotation`` and ``policies`` (the operations; ``values`` holds
``SecretsManagerService``, the whole backend), ``filters`` and ``responses`` (the wire)."""
