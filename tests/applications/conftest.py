import numpy as np
import pytest

from applications import build_multimodal_decoder, build_multimodal_encoder
from mosi_keras.data import Preprocessor, binary_labels, make_synthetic_mosi

DIMS = {"text": 12, "audio": 6, "visual": 5}
MAX_LEN = 8
SMALL = dict(hidden_dim=8, num_heads=2, intermediate_dim=16, dropout=0.0)


@pytest.fixture(scope="module")
def tiny():
    """(inputs, binary labels, semi-supervised labels) of 48 generated segments."""
    data = make_synthetic_mosi(n_videos=6, segments_per_video=(8, 8), max_len=MAX_LEN,
                               feature_dims=DIMS, signal=(1.0, 1.0, 1.0), seed=0)
    x = Preprocessor(max_len=MAX_LEN).fit(data).transform(data)
    labels = binary_labels(data.sentiment)
    semi = labels.copy()
    semi[::3] = -1
    return x, labels, semi


def make_encoder_decoder():
    encoder = build_multimodal_encoder(DIMS, MAX_LEN, **SMALL)
    decoder = build_multimodal_decoder(encoder.output.shape[-1], DIMS, MAX_LEN, hidden_dim=8)
    return encoder, decoder
