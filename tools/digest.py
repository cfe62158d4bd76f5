"""Send the morning digest now, whatever the hour (what `make digest` runs).

    python -m tools.digest [--stage dev] [--aws-port 5000]
    python -m tools.digest --aws [--stack appointments-STAGE]

By default against the local stack that `make run` started (or AWS_ENDPOINT_URL when that is set),
with the stage's settings. With --aws, against the deployed stack, with your usual AWS credentials
and the settings of its digest function (STACK-digest: its table, sender, configuration set and links).
Each active account that has not opted out gets one, unless it has had today's already: the same
once-a-day claim as the scheduled run, keyed with the same key (read from the deployment's secret,
DEDUPE_KEY_SECRET), so the morning's run then skips it. Prints how many were sent.
"""
import argparse
import os
import sys

from tools.staff_tokens import LOCAL_AWS_PORT


def client_factory(use_aws, aws_port=LOCAL_AWS_PORT):
    """service name -> a botocore client with the app's timeouts: the local stack's, or AWS's."""
    import botocore.session
    from botocore.config import Config

    from chalicelib.wiring import CLIENT_CONFIG
    from tools.stack import local_aws_env

    session = botocore.session.get_session()

    def client(service):
        config = Config(**{**CLIENT_CONFIG, "retries": dict(CLIENT_CONFIG["retries"])})
        if use_aws or os.environ.get("AWS_ENDPOINT_URL"):
            return session.create_client(service, config=config)
        env = local_aws_env(aws_port)
        return session.create_client(
            service, region_name=env["AWS_DEFAULT_REGION"], endpoint_url=env["AWS_ENDPOINT_URL"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            config=config)

    return client


def deployed_environment(lambda_client, stack):
    """The environment of the stack's digest function: the settings the scheduled run uses."""
    from botocore.exceptions import BotoCoreError, ClientError

    name = f"{stack}-digest"
    try:
        return lambda_client.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    except (ClientError, BotoCoreError) as error:
        raise SystemExit(f"Could not read the settings of the function {name} in AWS ({error}). "
                         "Is STAGE (or STACK) the deployed one, and are your AWS credentials set?") from None


def stack_settings(args, client_for):
    """The settings of the local stack, or with --aws of the deployed stack's digest function; a bad one ends the
    command with its message."""
    from chalicelib.core.config import Settings
    from chalicelib.core.errors import ConfigError
    from tools.resources import local_environment

    if args.aws:
        env = deployed_environment(client_for("lambda"), args.stack or f"appointments-{args.stage}")
    else:
        env = local_environment(args.stage, os.environ)
    try:
        return Settings.from_env(env)
    except ConfigError as error:
        raise SystemExit(str(error)) from None


def main(argv=None, client_for=None, out=sys.stdout):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--aws", action="store_true", help="the deployed stack (your credentials), not the local one")
    parser.add_argument("--stack", help="with --aws: the stack's name (appointments-STAGE)")
    parser.add_argument("--aws-port", type=int, default=LOCAL_AWS_PORT, help="the local stack's AWS port")
    args = parser.parse_args(argv)

    from chalicelib.core.errors import ConfigError, MailNotSent, StorageUnavailable
    from chalicelib.core.keys import purpose_key
    from chalicelib.core.mail import Mailer
    from chalicelib.core.secret_key import SecretKey
    from chalicelib.notify.digest import Digest
    from chalicelib.storage.accounts import AccountRepository
    from chalicelib.storage.digest_claims import DigestClaims
    from chalicelib.storage.digest_counts import DigestCounts

    client_for = client_for or client_factory(args.aws, args.aws_port)
    settings = stack_settings(args, client_for)
    where = "AWS" if args.aws else "the local stack (is `make run` running?)"
    try:  # the claims are keyed as the scheduled run keys them: from the deployment's secret key
        claims_key = purpose_key(SecretKey(client_for("secretsmanager"), settings.dedupe_key_secret)(), "digest claims")
    except ConfigError as error:
        raise SystemExit(str(error)) from None
    except StorageUnavailable:
        raise SystemExit(f"Could not reach the deployment's secret key (DEDUPE_KEY_SECRET) in {where}.") from None
    dynamodb, table = client_for("dynamodb"), settings.table_name
    digest = Digest(AccountRepository(dynamodb, table), DigestCounts(dynamodb, table),
                    DigestClaims(dynamodb, table, lambda: claims_key),
                    Mailer(client_for("sesv2"), settings.mail_from, settings.mail_configuration_set), settings)
    try:
        run = digest.run(force=True)
    except StorageUnavailable:
        raise SystemExit(f"Could not reach table {table} in {where}.") from None
    except MailNotSent as error:
        raise SystemExit(f"SES did not take a digest ({error.reason}); those not sent are not claimed: run it again "
                         "to send them.") from None
    already = f" ({run.already_sent} had today's already)" if run.already_sent else ""
    print(f"Sent the morning digest to {run.sent} staff account{'s' if run.sent != 1 else ''}{already}.", file=out)
    return run.sent


if __name__ == "__main__":
    main()
