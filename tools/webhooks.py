"""Add, list and disable webhook endpoints (what `make webhook-add`, `webhook-list` and `webhook-disable` run).

    python -m tools.webhooks [--stage dev] [--aws [--stack NAME]] add --url URL [--events TYPE,TYPE,...]
    python -m tools.webhooks [--stage dev] [--aws [--stack NAME]] list
    python -m tools.webhooks [--stage dev] [--aws [--stack NAME]] disable ID

By default against the local stack that `make run` started (or AWS_ENDPOINT_URL when that is set), with the
stage's settings: there a receiver on this computer may be plain http:// (http://127.0.0.1:9009/hook). With --aws,
against the deployed stack, with your usual AWS credentials and the settings of its digest function (its table
and the name of the deployment's secret key), as `make digest` reads them. Without --events (or with
--events all) an endpoint gets every event type. An endpoint's signing secret is derived from the deployment's
secret key (DEDUPE_KEY_SECRET), so `add` reads that key; the secret is printed once, alone on the last line.
Rotating, enabling and deleting are on the inbox's Webhooks page.
"""
import argparse
import sys

from tools.digest import client_factory, stack_settings
from tools.staff_tokens import LOCAL_AWS_PORT, one_line, print_table

ACTOR = "make webhook-*"  # who added or disabled it, as the inbox's pages and the log lines name them


def main(argv=None, client_for=None, out=sys.stdout):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--aws", action="store_true", help="the deployed stack (your credentials), not the local one")
    parser.add_argument("--stack", help="with --aws: the stack's name (appointments-STAGE)")
    parser.add_argument("--aws-port", type=int, default=LOCAL_AWS_PORT, help="the local stack's AWS port")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add an endpoint; its secret is printed once")
    add.add_argument("--url", required=True, help="the receiver's https:// URL")
    add.add_argument("--events", default="all", help="comma-separated event types (default: all of them)")
    commands.add_parser("list", help="every endpoint: id, URL, events, active, added")
    disable = commands.add_parser("disable", help="stop deliveries to an endpoint (the inbox enables it again)")
    disable.add_argument("id")
    args = parser.parse_args(argv)

    from chalicelib.core.errors import ConfigError, NotFound, StorageUnavailable, ValidationFailed
    from chalicelib.core.keys import purpose_key
    from chalicelib.core.secret_key import SecretKey
    from chalicelib.storage.webhooks import WebhookRepository
    from chalicelib.webhooks.endpoints import EVENT_TYPES, WebhookAdmin

    client_for = client_for or client_factory(args.aws, args.aws_port)
    settings = stack_settings(args, client_for)
    table = settings.table_name
    deployment_key = SecretKey(client_for("secretsmanager"), settings.dedupe_key_secret)  # read by `add` alone
    admin = WebhookAdmin(WebhookRepository(client_for("dynamodb"), table), settings,
                         lambda: purpose_key(deployment_key(), "webhook secrets"))
    where = "AWS" if args.aws else "the local stack (is `make run` running?)"
    try:
        if args.command == "add":
            endpoint, secret = admin.add(args.url, events_of(args.events, EVENT_TYPES), actor=ACTOR)
            print(f"Webhook endpoint {endpoint.id}: {endpoint.url}, {_events(endpoint.events, EVENT_TYPES)} "
                  f"(table {table}).", file=out)
            print("Its signing secret is shown only now: put it in the receiver's settings. "
                  "Each delivery is signed with it (Standard Webhooks).", file=out)
            print(secret, file=out)
        elif args.command == "list":
            _print_table(admin.list(), EVENT_TYPES, out)
        else:
            endpoint = admin.disable(args.id, actor=ACTOR)
            print(f"Disabled {endpoint.id} ({endpoint.url}): nothing more is sent to it. Enable it again on the "
                  "inbox's Webhooks page.", file=out)
    except ConfigError as error:
        raise SystemExit(str(error)) from None
    except NotFound:
        raise SystemExit(f"There is no webhook endpoint {args.id!r} in table {table} (see make webhook-list).") \
            from None
    except StorageUnavailable:
        raise SystemExit(f"Could not reach table {table} or the deployment's secret key (DEDUPE_KEY_SECRET) in "
                         f"{where}.") from None
    except ValidationFailed as error:
        raise SystemExit(one_line(error, table, args.aws)) from None


def events_of(text, every):
    """`--events`: "all" (or nothing) is every event type; else the comma-separated names, for the service to judge."""
    names = [name.strip() for name in (text or "").split(",") if name.strip()]
    return list(every) if names in ([], ["all"]) else names


def _events(events, every):
    return "every event" if set(events) == set(every) else ", ".join(events)


def _state(endpoint):
    if endpoint.active:
        return "yes"
    return "no (410 Gone)" if endpoint.disabled_reason == "gone" else "no"


def _print_table(endpoints, every, out):
    print_table(("ID", "URL", "EVENTS", "ACTIVE", "ADDED", "BY"),
                [(e.id, e.url, "all" if set(e.events) == set(every) else ",".join(e.events), _state(e),
                  e.created_at, e.created_by) for e in endpoints],
                "(no webhook endpoints yet: make webhook-add URL=https://... EVENTS=visit.booked,visit.cancelled)", out)


if __name__ == "__main__":
    main()
