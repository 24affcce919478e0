import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402


def pytest_runtestloop(session):
    """Starts the JAX and PyTorch runs of the selected `tests/test_backends.py`
    tests as the tests start, so they run beside the TensorFlow suite;
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
    for process in getattr(backends, "RUNS", {}).values():
        if process.poll() is None:
            process.kill()


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


@pytest.fixture(scope="session")
def tiny_bert_preset(tmp_path_factory):
    """A tiny random BERT saved as a keras-hub preset folder (`tests.text_encoder_testing`)."""
    from tests.text_encoder_testing import save_tiny_bert_preset

    return save_tiny_bert_preset(tmp_path_factory.mktemp("tiny_bert"))
