import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
"""Files kept in the repository: `v0_1/` holds models saved by mosi_keras 0.1."""


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
