"""The whole service on one laptop: moto in server mode as the local AWS, and `chalice local`.

    python -m tools.stack [--stage dev] [--aws-port 5000] [--api-port 8000]

Everything listens on 127.0.0.1 only. Ctrl-C (or SIGTERM) stops both cleanly.
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from chalicelib.core.config import Settings
from chalicelib.core.errors import ConfigError
from tools.resources import (
    LOCAL_API_URL, ROOT, create_dead_letter_queue, create_dedupe_key_secret, create_sign_in_queue, create_webhook_queues, create_mail_configuration_set,
    create_mail_identity, create_table, create_topic, local_environment,
)

HOST = "127.0.0.1"


def local_aws_env(aws_port):
    """What boto3 needs to talk to the emulator; no AWS account, no real credentials."""
    return {
        "AWS_ENDPOINT_URL": f"http://{HOST}:{aws_port}",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        # Current botocore sends DynamoDB Streams calls to an account-specific host that
        # moto does not serve; this keeps every call on the endpoint above.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }


def wait_until_listening(port, process, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited early with code {process.returncode}; see the output above.")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{what} did not start listening on {HOST}:{port} within {timeout:.0f} s.")


def port_is_free(port):
    with socket.socket() as sock:
        # As a server binds: a port left in TIME_WAIT by the last `make run` is free to use.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def create_resources(settings, env, stage):
    import boto3
    from botocore.exceptions import ClientError

    session = boto3.session.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )
    dynamodb = session.client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL"])
    sns = session.client("sns", endpoint_url=env["AWS_ENDPOINT_URL"])
    sqs = session.client("sqs", endpoint_url=env["AWS_ENDPOINT_URL"])
    sesv2 = session.client("sesv2", endpoint_url=env["AWS_ENDPOINT_URL"])
    try:
        create_table(dynamodb, settings.table_name)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
    create_topic(sns, settings.topic_arn)
    create_dead_letter_queue(sqs, stage)
    create_sign_in_queue(sqs, settings.sign_in_queue_url)
    create_webhook_queues(sqs, settings.webhook_queue_url)
    create_mail_identity(sesv2, settings.mail_from)
    create_mail_configuration_set(sesv2, settings.mail_configuration_set)
    create_dedupe_key_secret(session.client("secretsmanager", endpoint_url=env["AWS_ENDPOINT_URL"]),
                             settings.dedupe_key_secret)


class Stack:
    def __init__(self, stage="dev", aws_port=5000, api_port=8000, autoreload=False, inbox_file=None,
                 outbox_file=None):
        self.stage = stage
        self.inbox_file = inbox_file
        self.outbox_file = outbox_file
        self.aws_port = aws_port
        self.api_port = api_port
        self.autoreload = autoreload
        self.processes = []

    def start(self):
        api_url = f"http://{HOST}:{self.api_port}"
        stage_env = local_environment(self.stage, {**os.environ, LOCAL_API_URL: api_url})
        try:
            settings = Settings.from_env(stage_env)
        except ConfigError as error:
            raise SystemExit(f"Configuration error in .chalice/config.json, stage {self.stage!r}: {error}")
        for port, what in ((self.aws_port, "the local AWS emulator"), (self.api_port, "the API")):
            if not port_is_free(port):
                raise SystemExit(f"Port {HOST}:{port} for {what} is already in use. Is another `make run` running?")

        env = {**os.environ, **local_aws_env(self.aws_port), LOCAL_API_URL: api_url, "PYTHONUNBUFFERED": "1"}
        emulator = [sys.executable, "-m", "tools.aws_emulator", "-H", HOST, "-p", str(self.aws_port)]
        moto = self._spawn(emulator + (["--outbox-file", str(self.outbox_file)] if self.outbox_file else []), env)
        wait_until_listening(self.aws_port, moto, "moto")
        create_resources(settings, env, self.stage)

        server = str(ROOT / "tools" / "api_server.py")
        command = [sys.executable, server, "local", "--host", HOST, "--port", str(self.api_port), "--stage", self.stage]
        if not self.autoreload:
            command.append("--no-autoreload")
        api = self._spawn(command, env)
        wait_until_listening(self.api_port, api, "chalice local")
        self._spawn([sys.executable, "-m", "tools.stream_driver", "--stage", self.stage], env)
        inbox = [sys.executable, "-m", "tools.staff_inbox", "--stage", self.stage]
        self._spawn(inbox + (["--output", str(self.inbox_file)] if self.inbox_file else []), env)
        return settings

    def _spawn(self, command, env):
        process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
        self.processes.append(process)
        return process

    def stop(self):
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    def wait(self):
        """Block until Ctrl-C / SIGTERM or until a part of the stack dies."""
        while all(process.poll() is None for process in self.processes):
            time.sleep(0.5)
        dead = [p.args[0] for p in self.processes if p.poll() is not None]
        raise SystemExit(f"{', '.join(map(str, dead))} stopped unexpectedly; stopping the stack.")


def _interrupt(*_):
    raise KeyboardInterrupt


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--aws-port", type=int, default=5000)
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--autoreload", action="store_true", help="restart the API when code changes")
    parser.add_argument("--inbox-file", help="write staff alerts to this file instead of the terminal")
    parser.add_argument("--outbox-file", help="write every sent e-mail to this file (one JSON object a line) "
                                              "instead of the terminal")
    args = parser.parse_args(argv)

    stack = Stack(args.stage, args.aws_port, args.api_port, args.autoreload, args.inbox_file, args.outbox_file)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        settings = stack.start()
        print(
            f"\nAppointment requests, stage {args.stage!r}, running locally:\n"
            f"  API            http://{HOST}:{args.api_port}  (the form at /, POST /appointments)\n"
            f"  staff inbox    http://{HOST}:{args.api_port}/staff/  (add yourself: make staff-add)\n"
            f"  local AWS      http://{HOST}:{args.aws_port}  (moto: table {settings.table_name}, "
            f"topic {settings.topic_arn.rsplit(':', 1)[1]})\n"
            "  staff alerts   " + (f"written to {args.inbox_file}" if args.inbox_file else "printed below") + "\n"
            "  sent e-mail    " + (f"written to {args.outbox_file}" if args.outbox_file
                                  else "printed below (MAIL ...): sign-in codes and confirmations") + "\n"
            "  sent texts     " + (f"written to {Path(args.outbox_file).with_suffix('.sms.jsonl')}" if args.outbox_file
                                  else "printed below (SMS to ...): reminders") + "\n"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        stack.wait()
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
