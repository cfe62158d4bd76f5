"""The running stack, started exactly as `make run` starts it, on free loopback ports."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tools.resources import ROOT, stage_environment
from tools.stack import HOST, local_aws_env

OUTPUT = ROOT / "test-output"
STACK_LOG = OUTPUT / "stack.log"
STAFF_INBOX = OUTPUT / "staff-inbox.txt"


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


def start_stack(log_path, inbox_path, env=None, timeout=60):
    """Start the stack as `make run` does, on free ports; a RunningStack once it answers."""
    aws_port, api_port = free_port(), free_port()
    log = open(log_path, "wb")
    inbox_path.write_text("")
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.stack", "--aws-port", str(aws_port), "--api-port", str(api_port),
         "--inbox-file", str(inbox_path)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=None if env is None else {**os.environ, **env},
    )
    running = RunningStack(aws_port, api_port, process)
    running.log = log
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
    running = start_stack(STACK_LOG, STAFF_INBOX)
    yield running
    stop_stack(running)


def stack_log_lines():
    return STACK_LOG.read_text(errors="replace").splitlines() if STACK_LOG.exists() else []
