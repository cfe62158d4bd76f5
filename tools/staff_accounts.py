"""Add, list and disable staff accounts for the staff inbox (sign-in by e-mailed code).

    python -m tools.staff_accounts [--stage dev] [--aws] add --email EMAIL --name NAME [--role staff|admin]
                                                             [--digest on|off]
    python -m tools.staff_accounts [--stage dev] [--aws] list
    python -m tools.staff_accounts [--stage dev] [--aws] disable --email EMAIL

By default it talks to the local stack that `make run` started (or to AWS_ENDPOINT_URL when
that is set); with --aws, to the stage's table in real AWS, with your usual AWS credentials.
Adding an address again updates its name and role and makes it active. Disabling signs the
account out everywhere at once. Every account gets the morning digest unless added with
--digest off; adding again without --digest keeps the account's choice.
"""
import sys

from tools.resources import stage_environment
from tools.staff_tokens import command_line, dynamodb_client, one_line, print_table


def main(argv=None, client=None, out=sys.stdout):
    parser, commands = command_line(__doc__.splitlines()[0])
    add = commands.add_parser("add", help="add an account, or update its name and role")
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True, help="the staff member's name, as the inbox and the logs show it")
    add.add_argument("--role", default="staff", choices=("staff", "admin"))
    add.add_argument("--digest", choices=("on", "off"), help="the morning digest e-mail (new accounts: on; "
                                                             "left out: as it was)")
    commands.add_parser("list", help="every account: e-mail, name, role, active, digest")
    disable = commands.add_parser("disable", help="disable an account (its sessions end at once)")
    disable.add_argument("--email", required=True)
    args = parser.parse_args(argv)

    from chalicelib.core.errors import NotFound, StorageUnavailable, ValidationFailed
    from chalicelib.staff.accounts import AccountAdmin
    from chalicelib.storage.accounts import AccountRepository

    table = stage_environment(args.stage)["APPOINTMENTS_TABLE"]
    admin = AccountAdmin(AccountRepository(client or dynamodb_client(args.aws, args.aws_port), table))
    try:
        if args.command == "add":
            digest = None if args.digest is None else args.digest == "on"
            account = admin.add(args.email, args.name, args.role, digest=digest)
            print(f"Staff account {account.email}: {account.name}, {account.role}, active, morning digest "
                  f"{'on' if account.digest else 'off'} (table {table}).", file=out)
            print("They sign in at /staff/ with a code e-mailed to that address.", file=out)
        elif args.command == "list":
            _print_table(admin.list(), out)
        else:
            account = admin.disable(args.email)
            print(f"Disabled {account.email} ({account.name}); their sessions have ended.", file=out)
    except (ValidationFailed, NotFound, StorageUnavailable) as error:
        raise SystemExit(one_line(error, table, args.aws))


def _print_table(accounts, out):
    print_table(("EMAIL", "NAME", "ROLE", "ACTIVE", "DIGEST", "CREATED", "UPDATED"),
                [(a.email, a.name, a.role, "yes" if a.active else "no", "on" if a.digest else "off", a.created_at,
                  a.updated_at) for a in accounts],
                '(no accounts yet: make staff-add EMAIL=... NAME="..." ROLE=staff|admin)', out)


if __name__ == "__main__":
    main()
