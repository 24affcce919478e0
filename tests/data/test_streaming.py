import numpy as np
import pytest

import keras

from applications import MultimodalBackbone, SentimentClassifier
from mosi_keras.data import (
    HDF5Sequence,
    Preprocessor,
    iter_hdf5_chunks,
    load_dataset,
    make_synthetic_mosi,
    to_tf_dataset,
    write_dataset,
)


@pytest.fixture
def h5(tmp_path):
    data = make_synthetic_mosi(n_videos=6, max_len=20, feature_dims={"text": 5, "audio": 3}, seed=2)
    path = tmp_path / "data.h5"
    write_dataset(data, path)
    return path, data


def test_streamed_statistics_equal_in_memory_statistics(h5):
    path, data = h5
    rows = np.arange(0, len(data), 2)
    streamed = Preprocessor(20).fit_batches(iter_hdf5_chunks(path, rows, chunk_rows=5))
    in_memory = Preprocessor(20).fit(data.subset(rows))
    for name in in_memory.statistics:
        np.testing.assert_allclose(streamed.statistics[name]["mean"], in_memory.statistics[name]["mean"], atol=1e-9)
        np.testing.assert_allclose(streamed.statistics[name]["std"], in_memory.statistics[name]["std"], atol=1e-9)


def test_hdf5_sequence_serves_the_same_inputs_as_the_in_memory_path(h5):
    path, data = h5
    prep = Preprocessor(20).fit(data)
    rows = np.array([9, 2, 5, 0, 11])
    sequence = HDF5Sequence(path, prep, rows=rows, batch_size=3)
    assert len(sequence) == 2
    x, y = sequence[0]
    expected = prep.transform(load_dataset(path).subset(rows[:3]))
    length = x["text"].shape[1]
    assert length == min(20, -(-int(expected["text_mask"].sum(1).max()) // 4) * 4)  # own longest, rounded up
    for key in expected:
        np.testing.assert_allclose(x[key], expected[key][:, :length])
        assert not np.any(expected[key][:, length:])  # only padding was cut
    np.testing.assert_array_equal(y, (data.sentiment[rows[:3]] >= 0).astype("float32"))


def test_hdf5_sequence_feeds_fit_every_batch_and_the_model_learns(h5):
    path, data = h5
    prep = Preprocessor(20).fit_batches(iter_hdf5_chunks(path, chunk_rows=16))
    model = SentimentClassifier(MultimodalBackbone({"text": 5, "audio": 3}, 20, hidden_dim=8, num_blocks=1, num_heads=2,
                                                   intermediate_dim=8))
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    sequence = HDF5Sequence(path, prep, batch_size=16, shuffle=True)
    feed = dict(x=sequence)
    if keras.backend.backend() == "tensorflow":  # batches of several lengths: a free time axis
        feed = dict(x=to_tf_dataset(sequence), steps_per_epoch=len(sequence))
    seen = []
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    history = model.fit(**feed, epochs=4, verbose=0, callbacks=[counter])
    assert len(seen) == 4 * len(sequence)  # every batch of the file, every epoch
    assert history.history["loss"][-1] < history.history["loss"][0]
