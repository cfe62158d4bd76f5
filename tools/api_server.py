"""`chalice local` without client IP addresses in its access log.

The spec allows no IP address in any log line. Chalice's local server (Python's
BaseHTTPRequestHandler) starts every access line with the client's address; this runs the
same `chalice local` with that field blanked.

    python tools/api_server.py local --host 127.0.0.1 --port 8000 --stage dev
"""
import os
import sys

from chalice.cli import cli
from chalice.cli.factory import CLIFactory
from chalice.local import ChaliceRequestHandler

# tools/resources.py names it too; this script runs as a file, outside the tools package.
LOCAL_API_URL = "LOCAL_API_URL"
ChaliceRequestHandler.address_string = lambda self: "-"


def _with_local_api_url(load_chalice_app):
    """Chalice sets the stage's variables as it loads the app; the stack's own address wins."""

    def load(self, environment_variables=None, *args, **kwargs):
        if environment_variables is not None and os.environ.get(LOCAL_API_URL):
            environment_variables = {**environment_variables, "PUBLIC_BASE_URL": os.environ[LOCAL_API_URL]}
        return load_chalice_app(self, environment_variables, *args, **kwargs)

    return load


CLIFactory.load_chalice_app = _with_local_api_url(CLIFactory.load_chalice_app)


def main():
    import faults  # tools/faults.py: this script's folder comes first on sys.path

    faults.install_from_env("api")  # only when APPOINTMENTS_FAULTS asks for it (the fault test)
    args = sys.argv[1:]
    # --autoreload restarts the server by running sys.argv again: make that this script.
    sys.argv = [sys.executable, os.path.abspath(__file__), *args]
    return cli.main(args=args, obj={}, prog_name="chalice")


if __name__ == "__main__":
    sys.exit(main())
