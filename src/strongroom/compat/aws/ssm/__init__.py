"""AWS Systems Manager Parameter Store as a view of strongroom's secrets (the AWS surface's
``AmazonSSM``).

Where things live (per region; docs/compat-aws.md):

- a parameter ``/a/b/c`` (or ``name``) in region ``R`` is the KV v2 secret ``aws-ssm-R/a/b/c``
  (the leading slash is the surface's: ``/a`` and ``a`` are one name here, and the second one
  made is refused as existing). Each version's data holds what Parameter Store keeps per
  version: ``Value``, ``Type``, ``Description``, ``AllowedPattern``, ``Tier``, ``DataType`` and,
  for a ``SecureString``, ``KeyId``. Versions are strongroom's, numbered from 1 as in SSM.
- a ``SecureString``'s value is a KMS ``CiphertextBlob`` of strongroom's AWS KMS (the key named by
  ``KeyId``, by default ``alias/aws/ssm``, made on first use), bound to the parameter's ARN as
  AWS binds it (``{"PARAMETER_ARN": arn}``): reading it in clear needs ``decrypt`` on that key as
  well as ``read`` on the parameter.
- tags and labels are one record, ``aws-ssm-metadata`` ``R/<name>`` (compat/aws/
  resource_metadata.py), changed only by compare-and-set; a parameter written by a release that
  kept them apart (``aws-ssm-tags``, ``aws-ssm-labels``) moves into it at its next change.

Access is the KV v2 policy map of ``aws-ssm-R``, checked before any look-up.

The modules: ``models`` and ``errors``, ``core`` (names, values, labels read), ``parameters``
(the operations; it holds ``SsmService``, the whole backend), ``metadata`` (labels and tags),
``filters``, ``responses`` and ``routes`` (the wire)."""
