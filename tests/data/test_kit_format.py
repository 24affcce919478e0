import os

import numpy as np
import pytest

from mosi_keras.data import DataError, load_dataset, write_dataset

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED_MOSI = os.path.join(ROOT, "..", "shared", "data", "cmu_mosi", "cmu_mosi_utterances.npz")


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_kit_layout_round_trips_through_npz_and_hdf5(tmp_path, small, suffix):
    path = tmp_path / f"data{suffix}"
    write_dataset(small, path)
    loaded = load_dataset(path)
    assert loaded.modality_names == small.modality_names
    for name in small.modalities:
        np.testing.assert_array_equal(loaded.modalities[name], small.modalities[name])
        np.testing.assert_array_equal(loaded.lengths[name], small.lengths[name])
    np.testing.assert_array_equal(loaded.sentiment, small.sentiment)
    np.testing.assert_array_equal(loaded.video_ids, small.video_ids)
    np.testing.assert_array_equal(loaded.ids, small.ids)


def test_two_dimensional_arrays_are_length_one_sequences(tmp_path):
    path = tmp_path / "utterances.npz"
    np.savez(path, text=np.ones((4, 7)), sentiment=np.zeros(4), video_id=np.array(list("aabb")))
    data = load_dataset(path)
    assert data.modalities["text"].shape == (4, 1, 7)
    assert data.lengths["text"].tolist() == [1, 1, 1, 1]


def test_shared_cmu_mosi_file_loads_with_documented_shapes():
    data = load_dataset(SHARED_MOSI)
    assert len(data) == 1447
    assert data.feature_dims == {"text": 100, "audio": 73, "visual": 100}
    assert data.modalities["audio"].shape == (1447, 1, 73)
    assert len(np.unique(data.video_ids)) == 62
    assert data.sentiment.min() >= -3 and data.sentiment.max() <= 3
    assert data.ids[0].startswith(data.video_ids[0])


def test_corrupt_hdf5_is_named(tmp_path):
    path = tmp_path / "broken.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 20)
    with pytest.raises(DataError, match="broken.h5.*HDF5"):
        load_dataset(path)


def test_random_bytes_named_npz_are_called_not_an_archive(tmp_path):
    path = tmp_path / "x.npz"
    path.write_bytes(np.random.default_rng(0).bytes(256))
    with pytest.raises(DataError, match=r"x.npz: not a .npz \(zip\) archive"):
        load_dataset(path)


def test_truncated_npz_is_called_damaged(tmp_path, small):
    path = tmp_path / "cut.npz"
    write_dataset(small, path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(DataError, match="cut.npz: a damaged or truncated .npz archive"):
        load_dataset(path)
