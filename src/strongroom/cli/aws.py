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
    "aws_lambda",
    "aws_lambda_create",
    "aws_lambda_delete",
    "aws_lambda_list",
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


@click.group(name="aws-lambda")
def aws_lambda() -> None:
    """Webhooks that play rotation Lambda functions for RotateSecret (sudo)."""


@aws_lambda.command(name="create")
@click.argument("name")
@click.option("--url", required=True, help="Where each rotation step is POSTed (http or https).")
@click.option(
    "--signing-secret",
    required=True,
    help="ns/path of a secret whose 'key' field signs each request (X-Strongroom-Signature).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 30),
    default=10.0,
    show_default=True,
    help="Seconds to wait for each step's answer.",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 5),
    default=3,
    show_default=True,
    help="Retries of a step answered with 5xx or not at all.",
)
@format_option
@pass_cli
def aws_lambda_create(
    ctx: CliContext, name: str, url: str, signing_secret: str, timeout: float, retries: int
) -> None:
    """Register (or replace) the webhook that plays the Lambda function NAME: RotateSecret with
    RotationLambdaARN arn:aws:lambda:REGION:ACCOUNT:function:NAME sends it each step as the
    Lambda event {"Step", "SecretId", "ClientRequestToken"} (docs/compat-aws.md).

    \b
    Example:
      strongroom kv put ops/rotation-hmac key=$(openssl rand -hex 32)
      strongroom aws-lambda create rotate-db --url https://rotator.internal/hook \\
          --signing-secret ops/rotation-hmac
      aws secretsmanager rotate-secret --secret-id prod/db \\
          --rotation-lambda-arn arn:aws:lambda:eu-west-1:000000000000:function:rotate-db
    """
    with translate_errors(), ctx.client() as client:
        function = client.create_aws_lambda(name, url, signing_secret, timeout, retries)
    emit(ctx, function, f"registered {name}: {url}")


@aws_lambda.command(name="list")
@format_option
@pass_cli
def aws_lambda_list(ctx: CliContext) -> None:
    """The registered functions.

    \b
    Example:
      strongroom aws-lambda list --format json
    """
    with translate_errors(), ctx.client() as client:
        functions = client.list_aws_lambdas()
    rows = [[f["name"], f["url"], f["signing_secret"]] for f in functions]
    emit_table(ctx, {"functions": functions}, ["NAME", "URL", "SIGNING SECRET"], rows)


@aws_lambda.command(name="delete")
@click.argument("name")
@format_option
@pass_cli
def aws_lambda_delete(ctx: CliContext, name: str) -> None:
    """Unregister a function; rotations that name it fail until it is registered again.

    \b
    Example:
      strongroom aws-lambda delete rotate-db
    """
    with translate_errors(), ctx.client() as client:
        client.delete_aws_lambda(name)
    emit(ctx, {"deleted": name}, f"deleted {name}")
