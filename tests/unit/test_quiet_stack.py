"""`make run` at rest: the autoreloader watches the app's source only; the stream driver backs off."""
import itertools
import os

import pytest

from tools.api_server import SourceFileWatcher, source_files
from tools.stream_driver import Consumers, idle_pauses


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


class _Consumer:
    def __init__(self, handled=0, error=None, retry=None):
        self.polls, self._handled, self._error, self._retry = 0, handled, error, retry

    def poll_once(self):
        self.polls += 1
        if self._error:
            raise self._error
        return self._handled

    def seconds_to_next_retry(self):
        return self._retry


def test_both_stream_consumers_are_polled_even_when_the_first_fails():
    failing, working = _Consumer(error=ConnectionError("emulator restarting")), _Consumer(handled=2)
    with pytest.raises(ConnectionError):
        Consumers([failing, working]).poll_once()
    assert working.polls == 1


def test_the_consumers_wait_for_the_earliest_retry_of_either():
    assert Consumers([_Consumer(retry=None), _Consumer(retry=0.5), _Consumer(retry=2.0)]).seconds_to_next_retry() == 0.5
    assert Consumers([_Consumer(), _Consumer()]).seconds_to_next_retry() is None
    assert Consumers([_Consumer(handled=1), _Consumer(handled=3)]).poll_once() == 4


def test_the_local_api_takes_webhook_receivers_on_loopback_as_the_stack_s_other_processes_do(monkeypatch):
    """Catches the API under `make run` refusing http://127.0.0.1 receivers on the inbox's Webhooks page while
    `make webhook-add` and the delivery driver (tools/resources.local_environment) take them."""
    from tools.api_server import _with_local_api_url
    from tools.resources import local_environment

    monkeypatch.delenv("LOCAL_SETTINGS", raising=False)
    monkeypatch.setenv("LOCAL_API_URL", "http://127.0.0.1:8123")
    loaded = _with_local_api_url(lambda self, env, *args, **kwargs: env)(None, {"APPOINTMENTS_TABLE": "t"})
    assert loaded == {"APPOINTMENTS_TABLE": "t", "WEBHOOK_LOOPBACK": "on", "PUBLIC_BASE_URL": "http://127.0.0.1:8123"}
    assert local_environment("dev", {})["WEBHOOK_LOOPBACK"] == "on"
    monkeypatch.setenv("LOCAL_SETTINGS", '{"WEBHOOK_LOOPBACK": "off"}')  # a test that wants AWS's rule
    assert _with_local_api_url(lambda self, env: env)(None, {})["WEBHOOK_LOOPBACK"] == "off"
