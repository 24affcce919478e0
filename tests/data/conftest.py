import pytest

from mosi_keras.data import make_synthetic_mosi


@pytest.fixture
def small():
    return make_synthetic_mosi(n_videos=4, segments_per_video=(2, 3), max_len=6,
                               feature_dims={"text": 5, "audio": 3}, seed=1)


@pytest.fixture(scope="module")
def data():
    return make_synthetic_mosi(n_videos=20, seed=3)
