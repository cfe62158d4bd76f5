"""`make run` at rest: the autoreloader watches the app's source only; the stream driver backs off."""
import itertools
import os

from tools.api_server import SourceFileWatcher, source_files
from tools.stream_driver import idle_pauses


def make_project(root):
    (root / "chalicelib" / "storage").mkdir(parents=True)
    (root / "chalicelib" / "__pycache__").mkdir()
    (root / ".chalice").mkdir()
    (root / ".venv" / "lib").mkdir(parents=True)
    (root / "node_modules" / "axe-core").mkdir(parents=True)
    for name in ("app.py", "chalicelib/__init__.py", "chalicelib/storage/dynamo.py", "chalicelib/static.css",
                 "chalicelib/__pycache__/web.cpython-313.pyc", ".chalice/config.json", ".venv/lib/site.py",
                 "node_modules/axe-core/axe.min.js", "README.md"):
        (root / name).write_text("x")
    return root


def test_the_reloader_watches_the_apps_source_and_config_only(tmp_path):
    project = make_project(tmp_path)
    watched = {os.path.relpath(path, project) for path in source_files(str(project))}
    assert watched == {"app.py", "chalicelib/__init__.py", "chalicelib/storage/dynamo.py", "chalicelib/static.css",
                       ".chalice/config.json"}


def test_a_changed_module_restarts_the_server(tmp_path):
    project = make_project(tmp_path)
    watcher, restarts = SourceFileWatcher(), []
    watcher._seed_mtime_cache(str(project))
    watcher._single_pass_poll(str(project), lambda: restarts.append("unchanged"))
    (project / ".venv" / "lib" / "site.py").write_text("y")
    watcher._single_pass_poll(str(project), lambda: restarts.append("venv"))
    module = project / "chalicelib" / "storage" / "dynamo.py"
    os.utime(module, (module.stat().st_atime, module.stat().st_mtime + 5))
    watcher._single_pass_poll(str(project), lambda: restarts.append("module"))
    assert restarts == ["module"]


class FakeDriver:
    def __init__(self, handled, retry_in=None):
        self._handled = iter(handled)
        self._retry_in = retry_in

    def poll_once(self):
        outcome = next(self._handled)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def seconds_to_next_retry(self):
        return self._retry_in


def test_the_stream_driver_backs_off_to_a_second_when_idle_and_drains_at_once_on_work():
    driver = FakeDriver([0, 0, 0, 0, 0, 0, 25, 3, 0, 0])
    pauses = list(itertools.islice(idle_pauses(driver, busy=0.1, idle=1.0), 10))
    assert pauses == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 0, 0, 0.1, 0.2]


def test_a_pending_retry_is_not_delayed_by_the_backoff():
    driver = FakeDriver([0, 0, 0, 0], retry_in=0.3)
    assert list(itertools.islice(idle_pauses(driver, busy=0.1, idle=1.0), 4)) == [0.1, 0.2, 0.3, 0.3]


def test_an_unreachable_emulator_is_retried_every_idle_interval():
    said = []
    driver = FakeDriver([ConnectionError(), 0])
    pauses = list(itertools.islice(idle_pauses(driver, busy=0.1, idle=1.0, say=lambda *a, **k: said.append(a)), 2))
    assert pauses == [1.0, 1.0]
    assert said == [("stream driver: ConnectionError; retrying",)]
