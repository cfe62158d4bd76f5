"""Make, list and revoke staff tokens for the staff API.

    python -m tools.staff_tokens [--stage dev] [--aws] create --email EMAIL
    python -m tools.staff_tokens [--stage dev] [--aws] create --name NAME [--role staff|admin]
    python -m tools.staff_tokens [--stage dev] [--aws] list
    python -m tools.staff_tokens [--stage dev] [--aws] revoke ID

By default it talks to the local stack that `make run` started (or to AWS_ENDPOINT_URL when
that is set); with --aws, to the stage's table in real AWS, with your usual AWS credentials.
A new token is printed once, alone on the last line; only its SHA-256 hash is stored.
Revocation counts from the next request. A token made with --email belongs to that staff
account: it acts with the account's name and role, and disabling the account ends it for good.
One made with --name (the older form, for a script of no one person) lasts until revoked.
"""
import argparse
import os
import sys

from tools.resources import stage_environment

LOCAL_AWS_PORT = 5000


def dynamodb_client(use_aws, aws_port=LOCAL_AWS_PORT):
    import botocore.session

    session = botocore.session.get_session()
    if use_aws or os.environ.get("AWS_ENDPOINT_URL"):
        return session.create_client("dynamodb")
    from tools.stack import local_aws_env

    env = local_aws_env(aws_port)
    return session.create_client(
        "dynamodb", region_name=env["AWS_DEFAULT_REGION"], endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def command_line(description):
    """The options every staff command shares (--stage, --aws, --aws-port), and its subcommands."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--aws", action="store_true", help="use real AWS (your credentials), not the local stack")
    parser.add_argument("--aws-port", type=int, default=LOCAL_AWS_PORT, help="the local stack's AWS port")
    return parser, parser.add_subparsers(dest="command", required=True)


def main(argv=None, client=None, out=sys.stdout):
    parser, commands = command_line(__doc__.splitlines()[0])
    create = commands.add_parser("create", help="make a token (shown once)")
    owner = create.add_mutually_exclusive_group(required=True)
    owner.add_argument("--email", help="the staff account the token belongs to (see make staff-list)")
    owner.add_argument("--name", help="a name for a token of no account, as the logs will show it")
    create.add_argument("--role", default="staff", choices=("staff", "admin"), help="with --name only")
    commands.add_parser("list", help="every token: id, name, role, made, last used, revoked")
    revoke = commands.add_parser("revoke", help="revoke a token by its id (from list)")
    revoke.add_argument("id")
    args = parser.parse_args(argv)

    from chalicelib.core.errors import NotFound, StorageUnavailable, ValidationFailed
    from chalicelib.staff.auth import TokenAdmin
    from chalicelib.storage.accounts import AccountRepository
    from chalicelib.storage.tokens import TokenRepository

    table = stage_environment(args.stage)["APPOINTMENTS_TABLE"]
    client = client or dynamodb_client(args.aws, args.aws_port)
    admin = TokenAdmin(TokenRepository(client, table), AccountRepository(client, table))
    try:
        if args.command == "create":
            token, record = admin.create_for(args.email) if args.email else admin.create(args.name, args.role)
            print(f"Made a {record.role} token for {record.name} (id {record.id}) in table {table}.", file=out)
            print("It is shown only now: keep it somewhere safe. Send it as: Authorization: Bearer TOKEN", file=out)
            print(token, file=out)
        elif args.command == "list":
            _print_table(admin.list(), out)
        else:
            record = admin.revoke(args.id)
            print(f"Revoked token {record.id} of {record.name} ({record.role}) at {record.revoked_at}.", file=out)
    except (ValidationFailed, NotFound, StorageUnavailable) as error:
        raise SystemExit(one_line(error, table, args.aws))


def one_line(error, table, use_aws):
    """A failed command as the one line a person reads."""
    from chalicelib.core.errors import ValidationFailed, StorageUnavailable

    if isinstance(error, ValidationFailed):
        return "; ".join(f"{name}: {text}" for name, text in error.fields.items())
    if isinstance(error, StorageUnavailable):
        where = "AWS" if use_aws else "the local stack (is `make run` running?)"
        return f"Could not reach table {table} in {where}."
    return error.message


def print_table(header, rows, empty, out):
    rows = [header] + rows
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip(), file=out)
    if len(rows) == 1:
        print(empty, file=out)


def _print_table(records, out):
    print_table(("ID", "NAME", "ROLE", "ACCOUNT", "CREATED", "LAST USED", "REVOKED"),
                [(r.id, r.name, r.role, r.email or "-", r.created_at, r.last_used_at or "-", r.revoked_at or "-")
                 for r in records],
                "(no tokens yet: make staff-token EMAIL=...)", out)


if __name__ == "__main__":
    main()
