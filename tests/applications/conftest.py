import json

import pytest

from applications import MultimodalBackbone, MultimodalDecoder
from mosi_keras.data import Preprocessor, binary_labels, make_synthetic_mosi, write_dataset

DIMS = {"text": 12, "audio": 6, "visual": 5}
MAX_LEN = 8
SMALL = dict(hidden_dim=8, num_heads=2, intermediate_dim=16, dropout=0.0)


def make_tiny(n_videos=6):
    """(inputs, binary labels, semi-supervised labels) of 8 generated segments a
    video; every third label hidden (-1)."""
    data = make_synthetic_mosi(n_videos=n_videos, segments_per_video=(8, 8), max_len=MAX_LEN,
                               feature_dims=DIMS, signal=(1.0, 1.0, 1.0), seed=0)
    x = Preprocessor(max_len=MAX_LEN).fit(data).transform(data)
    labels = binary_labels(data.sentiment)
    semi = labels.copy()
    semi[::3] = -1
    return x, labels, semi


@pytest.fixture(scope="module")
def tiny():
    return make_tiny()


def make_backbone(**kwargs):
    return MultimodalBackbone(DIMS, MAX_LEN, **dict(SMALL, **kwargs))


def make_backbone_decoder():
    backbone = make_backbone()
    return backbone, MultimodalDecoder.for_backbone(backbone, hidden_dim=8)


# A schedule small enough for command-line smoke tests; eager, since tracing
# graphs would cost more than these few steps.
TINY = dict(
    hidden_dim=8, num_heads=2, intermediate_dim=16, head_units=[8, 4], decoder_hidden_dim=8,
    ae_epochs=1, dec_epochs=1, epochs=2, patience=1, kmeans_n_init=1, batch_size=64, run_eagerly=True,
)


@pytest.fixture
def files(tmp_path):
    """A generated training file (.npz), a held-out file (.h5) and TINY as JSON."""
    dims = {"text": 6, "audio": 4, "visual": 3}
    data = make_synthetic_mosi(n_videos=10, segments_per_video=(4, 5), max_len=5, feature_dims=dims, seed=0)
    test = make_synthetic_mosi(n_videos=3, segments_per_video=(4, 5), max_len=5, feature_dims=dims, seed=9)
    write_dataset(data, tmp_path / "train.npz")
    write_dataset(test, tmp_path / "test.h5")
    with open(tmp_path / "hp.json", "w") as file:
        json.dump(TINY, file)
    return tmp_path
