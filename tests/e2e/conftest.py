"""The running stack, started exactly as `make run` starts it, on free loopback ports."""
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tools.mail_outbox import readable
from tools.resources import ROOT, stage_environment
from tools.stack import HOST, local_aws_env

OUTPUT = ROOT / "test-output"
STACK_LOG = OUTPUT / "stack.log"
STAFF_INBOX = OUTPUT / "staff-inbox.txt"
MAIL_OUTBOX = OUTPUT / "mail-outbox.jsonl"
# The README's screenshots are rewritten only when asked (`make screenshots`): a test run leaves
# the working tree as it found it.
SCREENSHOTS = ROOT / "docs" / "screenshots" if os.environ.get("UPDATE_SCREENSHOTS") else OUTPUT / "screenshots"


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class RunningStack:
    def __init__(self, aws_port, api_port, process):
        self.aws_port = aws_port
        self.api_port = api_port
        self.process = process
        self.base_url = f"http://{HOST}:{api_port}"
        self.aws_env = local_aws_env(aws_port)
        self.settings_env = stage_environment("dev")

    def client(self, service):
        import boto3

        env = self.aws_env
        return boto3.session.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name=env["AWS_DEFAULT_REGION"],
        ).client(service, endpoint_url=env["AWS_ENDPOINT_URL"])

    def add_staff(self, email, name, role="staff"):
        """A staff account in the running stack, made as `make staff-add` makes it."""
        import io

        from tools import staff_accounts

        staff_accounts.main(["add", "--email", email, "--name", name, "--role", role],
                            client=self.client("dynamodb"), out=io.StringIO())

    def sent_mail(self, to=None):
        """Every e-mail the emulator's SES accepted (SESv2 SendEmail requests), oldest first; a raw one (with an
        attachment) also as `Content.Simple`, its attachments under `Attachments` (tools.mail_outbox)."""
        outbox = self.outbox
        lines = outbox.read_text(encoding="utf-8").splitlines() if outbox.exists() else []
        mails = [readable(json.loads(line)) for line in lines if line.strip()]
        return [m for m in mails if to is None or to in m["Destination"]["ToAddresses"]]

    def sign_in_code(self, email, after=0, timeout=15.0):
        """The code in the newest sign-in mail to `email` past the first `after` mails to it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mails = self.sent_mail(email)[after:]
            if mails:
                text = mails[-1]["Content"]["Simple"]["Body"]["Text"]["Data"]
                return re.search(r"\b(\d{4}) (\d{4})\b", text).group(0).replace(" ", "")
            time.sleep(0.1)
        raise AssertionError(f"no sign-in mail reached {email} within {timeout:.0f} s")


def start_stack(log_path, inbox_path, env=None, timeout=60):
    """Start the stack as `make run` does, on free ports; a RunningStack once it answers."""
    aws_port, api_port = free_port(), free_port()
    log = open(log_path, "wb")
    inbox_path.write_text("")
    outbox = MAIL_OUTBOX if log_path == STACK_LOG else log_path.with_suffix(".mail.jsonl")
    outbox.write_text("")
    outbox.with_suffix(".sms.jsonl").write_text("")  # the texts' outbox (tools/aws_emulator.py)
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.stack", "--aws-port", str(aws_port), "--api-port", str(api_port),
         "--inbox-file", str(inbox_path), "--outbox-file", str(outbox)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=None if env is None else {**os.environ, **env},
    )
    running = RunningStack(aws_port, api_port, process)
    running.log = log
    running.outbox = outbox
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the stack exited with {process.returncode}; see {log_path}")
        try:
            urllib.request.urlopen(running.base_url + "/appointments", timeout=1)
        except urllib.error.HTTPError:
            return running  # it answers (405/403 for a GET): it is up
        except OSError:
            if time.monotonic() > deadline:
                process.terminate()
                raise RuntimeError(f"the stack did not come up; see {log_path}")
            time.sleep(0.2)


def stop_stack(running):
    running.process.terminate()
    try:
        running.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        running.process.kill()
    running.log.close()


@pytest.fixture(scope="session")
def stack():
    OUTPUT.mkdir(exist_ok=True)
    # As `make run` starts it, but running the scheduled functions every 3 s instead of 30, and the morning
    # digest only as the stack starts (no account yet): at DIGEST_HOUR it would mail the accounts tests make,
    # whose tests count their mail. tests/e2e/test_digest_e2e.py sends it as `make digest` does.
    running = start_stack(STACK_LOG, STAFF_INBOX, env={"LOCAL_SCHEDULE_SECONDS": "3", "LOCAL_DIGEST_SECONDS": "86400"})
    yield running
    stop_stack(running)


def stack_log_lines():
    return STACK_LOG.read_text(errors="replace").splitlines() if STACK_LOG.exists() else []
