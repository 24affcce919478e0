"""Mixed precision end to end: the models train under `mixed_bfloat16` (the
CPU-friendly policy; `mixed_float16` is the same code path on GPUs) while the
clustering maths stays in float32."""

import numpy as np
import pytest

import keras

from applications import SemiSupervisedDEC, SentimentClassifier
from tests.applications.conftest import make_backbone, make_backbone_decoder


@pytest.fixture
def mixed_policy():
    keras.config.set_dtype_policy("mixed_bfloat16")
    yield
    keras.config.set_dtype_policy("float32")


def test_classifier_trains_under_mixed_precision_with_float32_logits(tiny, mixed_policy):
    x, labels, _ = tiny
    model = SentimentClassifier(make_backbone())
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    assert model.get_layer("head_dense_0").compute_dtype == "bfloat16"
    assert keras.backend.standardize_dtype(model(x).dtype) == "float32"
    history = model.fit(x, labels.astype("float32"), epochs=4, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.slow  # run with -m slow; in the default suite: the classifier under mixed precision
def test_dec_trains_under_mixed_precision_with_float32_clustering(tiny, mixed_policy):
    x, _, semi = tiny
    backbone, decoder = make_backbone_decoder()
    dec = SemiSupervisedDEC(backbone, decoder, reconstruction_weight=0.1, supervised_weight=0.5,
                            disentangle_weight=0.01)
    dec.compile(optimizer=keras.optimizers.Adam(1e-2))
    out = dec(x)
    assert keras.backend.standardize_dtype(out["z"].dtype) == "bfloat16"
    assert keras.backend.standardize_dtype(out["q"].dtype) == "float32"
    assert dec.clustering.compute_dtype == "float32"
    history = dec.fit(x, semi, epochs=4, batch_size=48, verbose=0)
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    assert history.history["loss"][-1] < history.history["loss"][0]
