"""The suite itself: collecting it runs nothing; the shared reproduce runs on one worker."""

from types import SimpleNamespace

import pytest


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


def test_the_shared_reproduces_tests_are_grouped_on_one_worker(request):
    """Under `--dist loadgroup` (the default options) xdist sends a group's
    tests to one worker; a test of the shared `reproduced` left out of the
    group would train the reproduce again on another worker."""
    if not getattr(request.config.option, "loadgroup", False):  # set by xdist in its workers
        pytest.skip("not run by an xdist worker under --dist loadgroup")
    shared = [item.nodeid for item in request.session.items if "reproduced" in item.fixturenames]
    if not shared:
        pytest.skip("no test of the shared reproduce selected")
    assert all(nodeid.endswith("@reproduced") for nodeid in shared), shared
