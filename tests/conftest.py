import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

# Keras's traceback filtering wraps every eager layer and op call; the
# suite's tiny models run eagerly, and without it they run about 20 % faster
# (a DEC run of the CLI tests: 35.2 s → 28.6 s). Tracebacks are then longer.
keras.config.disable_traceback_filtering()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Asks xdist (`--dist loadgroup`) to send every test of the session's
    shared reproduce (`reproduced`) to one worker, so that no other worker
    waits for it. Only a hint: the reproduce is trained once whatever xdist
    does (`once_per_session`), and xdist 3.8 under pytest 9 ignores it.
    First of the hooks: xdist's own reads the `xdist_group` marks (and
    renames the tests `<id>@<group>`) as soon as it is called."""
    for item in items:
        if "reproduced" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("reproduced"))


def pytest_collection_finish(session):
    """Starts the JAX and PyTorch runs of the selected `tests/test_backends.py`
    tests once the tests are collected (in every xdist worker: the first to
    ask starts them), so they run beside the TensorFlow suite;
    `--collect-only` runs nothing."""
    if session.config.option.collectonly:
        return
    if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow" and any(
            item.nodeid.startswith("tests/test_backends.py") for item in session.items):
        from tests.test_backends import selected_runs, start_backend_runs

        start_backend_runs(selected_runs(session.items))


def pytest_sessionfinish(session):
    """Stops backend runs still going (a session cut short, `-x`)."""
    import sys

    backends = sys.modules.get("tests.test_backends")
    if backends is not None:
        backends.stop_backend_runs()


@pytest.fixture(autouse=True)
def _seed_and_policy():
    keras.utils.set_random_seed(0)
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def save_and_reload(model, tmp_path):
    """Saves `model` as `.keras` and reloads it with `safe_mode=True`."""
    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    return keras.saving.load_model(path, safe_mode=True)


@pytest.fixture
def eager_functions():
    """Keras's compiled functions run eagerly during the test (TensorFlow: not
    traced), for tests of what a few training steps do rather than of the
    compiled step itself, which other tests trace: tracing a tiny model's
    steps costs more than the steps (the docs' examples: 93 s → 18 s)."""
    if keras.backend.backend() != "tensorflow":
        yield
        return
    import tensorflow as tf

    tf.config.run_functions_eagerly(True)
    try:
        yield
    finally:
        tf.config.run_functions_eagerly(False)


@pytest.fixture(scope="session")
def tiny_bert_preset(tmp_path_factory):
    """A tiny random BERT saved as a keras-hub preset folder (`tests.text_encoder_testing`)."""
    from tests.text_encoder_testing import save_tiny_bert_preset

    return save_tiny_bert_preset(tmp_path_factory.mktemp("tiny_bert"))
