"""`chalice local` without client IP addresses in its access log, reloading on source changes only.

The spec allows no IP address in any log line. Chalice's local server (Python's
BaseHTTPRequestHandler) starts every access line with the client's address; this runs the
same `chalice local` with that field blanked.

With --autoreload, chalice's own watcher stat()s every file under the project once a second,
`.venv/` and `node_modules/` included: about a third of a core on an idle laptop. This one
watches what the app is made of (app.py, chalicelib/, the stage config and policies).

    python tools/api_server.py local --host 127.0.0.1 --port 8000 --stage dev
"""
import json
import logging
import os
import sys

from chalice.cli import cli, reloader
from chalice.cli.factory import CLIFactory
from chalice.cli.filewatch.stat import StatFileWatcher, StatWorkerProcess
from chalice.local import ChaliceRequestHandler

# tools/resources.py names it too; this script runs as a file, outside the tools package.
LOCAL_API_URL = "LOCAL_API_URL"
ChaliceRequestHandler.address_string = lambda self: "-"
# `chalice local` logs everything at INFO to the terminal, botocore's "Found credentials in
# environment variables." and "Found endpoint for dynamodb via: environment_global." included,
# once per client: noise, and not a JSON line. botocore's warnings still show.
logging.getLogger("botocore").setLevel(logging.WARNING)


def source_files(project_dir):
    """The files a change to which changes the running app."""
    yield os.path.join(project_dir, "app.py")
    config = os.path.join(project_dir, ".chalice")
    if os.path.isdir(config):
        yield from (os.path.join(config, name) for name in sorted(os.listdir(config)) if name.endswith(".json"))
    for folder, subfolders, files in os.walk(os.path.join(project_dir, "chalicelib")):
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        yield from (os.path.join(folder, name) for name in files if not name.endswith(".pyc"))


class SourceFileWatcher(StatFileWatcher):
    def _recursive_walk_files(self, root_dir):
        return source_files(root_dir)

    def _seed_mtime_cache(self, root_dir):
        for path in source_files(root_dir):
            self._mtime_cache[path] = self._osutils.mtime(path)


class SourceWorkerProcess(StatWorkerProcess):
    def _start_file_watcher(self, project_dir):
        SourceFileWatcher().watch_for_file_changes(project_dir, self._on_file_change)


reloader.get_best_worker_process = lambda: SourceWorkerProcess


def _with_local_api_url(load_chalice_app):
    """Chalice sets the stage's variables as it loads the app; the stack's own address wins."""

    def load(self, environment_variables=None, *args, **kwargs):
        if environment_variables is not None:
            # As tools/resources.local_environment: webhook receivers on 127.0.0.1 over plain http:// (the inbox's
            # Webhooks page), the local stack's alone. tools/resources.local_overrides checked LOCAL_SETTINGS.
            environment_variables = {**environment_variables, "WEBHOOK_LOOPBACK": "on",
                                     **json.loads(os.environ.get("LOCAL_SETTINGS") or "{}")}
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
