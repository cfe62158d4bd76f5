"""moto in server mode, quietly: the local AWS of `make run` and the end-to-end tests.

    python -m tools.aws_emulator -H 127.0.0.1 -p 5000

Werkzeug's access log is off: the stream driver and staff inbox poll several times a second,
which would bury the service's own log lines (and it prints client IP addresses).
"""
import logging
import sys

from moto.server import main

if __name__ == "__main__":
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    sys.exit(main(sys.argv[1:]))
