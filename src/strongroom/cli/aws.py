"""``strongroom aws-credentials …``: the access keys boto3, the AWS CLI and the AWS SDKs sign
requests to the AWS-compatible API with (docs/compat-aws.md)."""

from __future__ import annotations

import click

from strongroom.cli.output import (
    CliContext,
    emit,
    emit_table,
    format_option,
    pass_cli,
    translate_errors,
)

__all__ = [
    "aws_credentials",
    "aws_credentials_create",
    "aws_credentials_list",
    "aws_credentials_revoke",
]


@click.group(name="aws-credentials")
def aws_credentials() -> None:
    """Issue, list and revoke AWS access keys bound to strongroom policies (sudo)."""


@aws_credentials.command(name="create")
@click.option(
    "--policy",
    "policies",
    multiple=True,
    required=True,
    help="A strongroom policy the key carries (repeatable).",
)
@click.option(
    "--display-name",
    default="",
    help="The key's IAM user name (1-64 of letters, digits and +=,.@_-): shown in audit entries; "
    "resource and key policies name the key arn:aws:iam::ACCOUNT:user/NAME.",
)
@format_option
@pass_cli
def aws_credentials_create(ctx: CliContext, policies: tuple[str, ...], display_name: str) -> None:
    """Issue an access key. The secret is shown once: keep it like a password.

    \b
    Example:
      strongroom aws-credentials create --policy app-kms --display-name billing
      export AWS_ACCESS_KEY_ID=AKSR… AWS_SECRET_ACCESS_KEY=… AWS_ENDPOINT_URL=$STRONGROOM_ADDR
      aws kms list-keys --region eu-west-1
    """
    with translate_errors(), ctx.client() as client:
        key = client.create_aws_credentials(policies, display_name)
    emit(
        ctx,
        key,
        f"AWS_ACCESS_KEY_ID={key['access_key_id']}\n"
        f"AWS_SECRET_ACCESS_KEY={key['secret_access_key']}\n"
        "(the secret is not shown again)",
    )


@aws_credentials.command(name="list")
@format_option
@pass_cli
def aws_credentials_list(ctx: CliContext) -> None:
    """The keys issued, with their policies (never their secrets).

    \b
    Example:
      strongroom aws-credentials list --format json
    """
    with translate_errors(), ctx.client() as client:
        keys = client.list_aws_credentials()
    rows = [[k["access_key_id"], ",".join(k["policies"]), k["display_name"]] for k in keys]
    emit_table(ctx, {"keys": keys}, ["ACCESS KEY ID", "POLICIES", "NAME"], rows)


@aws_credentials.command(name="revoke")
@click.argument("access_key_id")
@format_option
@pass_cli
def aws_credentials_revoke(ctx: CliContext, access_key_id: str) -> None:
    """Revoke a key: requests it signs are refused at once (within a second on other nodes).

    \b
    Example:
      strongroom aws-credentials revoke AKSRABCDEFGHIJKLMNOP
    """
    with translate_errors(), ctx.client() as client:
        client.revoke_aws_credentials(access_key_id)
    emit(ctx, {"revoked": access_key_id}, f"revoked {access_key_id}")
