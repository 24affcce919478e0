"""The suite itself: collecting it runs nothing; the shared reproduce is trained once."""

import tempfile
import threading
import time
from types import SimpleNamespace

import pytest

from tests.session_files import once_per_session


def test_collect_only_starts_no_backend_run_and_a_run_starts_the_selected_ones(monkeypatch):
    """`tests/conftest.py`'s `pytest_collection_finish`, on a session whose
    items select the JAX kit run: `--collect-only` starts nothing, a run
    starts that pair (`start_backend_runs` recorded, not run)."""
    import tests.conftest as conftest
    import tests.test_backends as backends

    started = []
    monkeypatch.setattr(backends, "start_backend_runs", started.append)
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    item = SimpleNamespace(nodeid="tests/test_backends.py::test_backend_agnostic_suite_passes_on[jax-kit]",
                           callspec=SimpleNamespace(params={"backend": "jax", "scope": "kit"}))
    session = SimpleNamespace(items=[item], config=SimpleNamespace(option=SimpleNamespace(collectonly=True)))
    conftest.pytest_collection_finish(session)
    assert started == []
    session.config.option.collectonly = False
    conftest.pytest_collection_finish(session)
    assert started == [{("jax", "kit")}]


def test_work_shared_by_the_workers_is_done_once_whichever_asks_first(tmp_path, monkeypatch):
    """`once_per_session`, as the shared reproduce uses it: two workers
    (threads here, each with its own lock file handle) ask at once; one
    makes the folder, the other waits and reads it. Whatever xdist does
    with the tests' names (pytest 9 broke `--dist loadgroup` in xdist
    3.8), the reproduce is trained once."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", "session-under-test")
    made, seen = [], []

    def make(folder):
        made.append(folder)
        time.sleep(0.5)  # the other worker arrives meanwhile
        (folder / "result.txt").write_text("trained")

    def worker():
        folder = once_per_session("shared", make)
        seen.append((folder / "result.txt").read_text())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1 and seen == ["trained", "trained"]
    assert once_per_session("shared", make) == made[0] and len(made) == 1  # a later test reads it too


def test_work_that_failed_is_tried_again_by_the_next_worker(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", "session-under-test")

    def fail(folder):
        raise RuntimeError("the reproduce failed")

    with pytest.raises(RuntimeError, match="the reproduce failed"):
        once_per_session("shared", fail)
    with pytest.raises(RuntimeError, match="the reproduce failed"):  # not taken as done
        once_per_session("shared", fail)
