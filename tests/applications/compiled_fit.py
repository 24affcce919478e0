"""Fits a classifier with a compiled step on word-level data of many lengths;
prints its step compilations and the batch shapes it was served, as JSON.

Run in a fresh process per backend (the backend is fixed at start-up):
  KERAS_BACKEND=jax python -m tests.applications.compiled_fit          # jax.jit (Keras's default there)
  KERAS_BACKEND=torch python -m tests.applications.compiled_fit        # torch.compile (jit_compile=True)

A compilation is counted where the framework makes one: on JAX, Python runs
a jitted step only while tracing it for a new shape (`CountedClassifier`
counts those runs); `torch.compile` counts its graphs (Dynamo's
`unique_graphs`; a counter in the step would itself make Dynamo recompile).
"""

import json

import keras
import numpy as np

from applications import MultimodalBackbone, SentimentClassifier
from mosi_keras.data import LengthBucketedBatches, Preprocessor, binary_labels, make_synthetic_mosi
from tests.applications.conftest import SMALL

MAX_LEN, BATCH = 30, 16
DIMS = {"text": 6, "audio": 4}


class CountedClassifier(SentimentClassifier):
    """A classifier that counts the Python runs of its steps (on JAX: its traces)."""

    runs = 0

    def train_step(self, *args, **kwargs):
        CountedClassifier.runs += 1
        return super().train_step(*args, **kwargs)

    def test_step(self, *args, **kwargs):
        CountedClassifier.runs += 1
        return super().test_step(*args, **kwargs)

    def predict_step(self, *args, **kwargs):
        CountedClassifier.runs += 1
        return super().predict_step(*args, **kwargs)


def compilations():
    if keras.backend.backend() == "torch":
        from torch._dynamo.utils import counters

        return int(counters["stats"]["unique_graphs"])
    return CountedClassifier.runs


def main():
    data = make_synthetic_mosi(n_videos=24, segments_per_video=(6, 10), max_len=MAX_LEN, feature_dims=DIMS,
                               seed=2)  # lengths 1-30: 8 widths of the old buckets of 4, 4 of the ladder
    x = Preprocessor(MAX_LEN).fit(data).transform(data)
    y = binary_labels(data.sentiment).astype("float32")
    train, val = np.arange(len(y)) % 5 != 0, np.arange(len(y)) % 5 == 0
    keras.utils.set_random_seed(0)
    task = SentimentClassifier if keras.backend.backend() == "torch" else CountedClassifier
    model = task(MultimodalBackbone(DIMS, MAX_LEN, **SMALL), head_units=(8,))
    model.compile(optimizer="adam", jit_compile=True)
    x_train, x_val = ({name: value[rows] for name, value in x.items()} for rows in (train, val))
    model.fit(x_train, y[train], batch_size=BATCH, epochs=3, validation_data=(x_val, y[val]), verbose=0)
    model.predict(x_val, batch_size=BATCH, verbose=0)
    train_batches, val_batches = (LengthBucketedBatches(inputs, batch_size=BATCH, shuffle=False)
                                  for inputs in (x_train, x_val))
    print(json.dumps(dict(
        compilations=compilations(), widths=train_batches.widths,
        # the train step: one shape per width and the short last batch; the test and predict steps: the
        # validation rows' shapes
        shapes=len(train_batches.widths) + 1 + 2 * len(val_batches.shapes),
        old_buckets=len(np.unique(np.ceil(train_batches.row_lengths / 4))),  # a bucket every 4 steps, before
    )))


if __name__ == "__main__":
    main()
