"""`chalice local` without client IP addresses in its access log.

The spec allows no IP address in any log line. Chalice's local server (Python's
BaseHTTPRequestHandler) starts every access line with the client's address; this runs the
same `chalice local` with that field blanked.

    python tools/api_server.py local --host 127.0.0.1 --port 8000 --stage dev
"""
import os
import sys

from chalice.cli import cli
from chalice.local import ChaliceRequestHandler

ChaliceRequestHandler.address_string = lambda self: "-"


def main():
    import faults  # tools/faults.py: this script's folder comes first on sys.path

    faults.install_from_env("api")  # only when APPOINTMENTS_FAULTS asks for it (the fault test)
    args = sys.argv[1:]
    # --autoreload restarts the server by running sys.argv again: make that this script.
    sys.argv = [sys.executable, os.path.abspath(__file__), *args]
    return cli.main(args=args, obj={}, prog_name="chalice")


if __name__ == "__main__":
    sys.exit(main())
