import numpy as np
import pytest

from mosi_keras.data import DataError, from_arrays, load_dataset, write_dataset


def test_modalities_with_different_sample_counts_are_named(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, text=np.ones((4, 3)), audio=np.ones((5, 2)), sentiment=np.zeros(4))
    with pytest.raises(DataError, match="'audio' has 5 samples"):
        load_dataset(path)


def test_lengths_longer_than_the_arrays_are_named(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, text=np.ones((2, 3, 4)), text_lengths=np.array([3, 9]), sentiment=np.zeros(2))
    with pytest.raises(DataError, match="'text_lengths' of sample 1 is 9"):
        load_dataset(path)


@pytest.mark.parametrize("value", [4.0, np.nan])
def test_bad_sentiment_values_are_named(tmp_path, value):
    path = tmp_path / "bad.npz"
    np.savez(path, text=np.ones((2, 3)), sentiment=np.array([0.5, value]))
    with pytest.raises(DataError, match="'sentiment' of sample 1"):
        load_dataset(path)


def test_empty_dataset_is_refused(tmp_path):
    path = tmp_path / "empty.npz"
    np.savez(path, text=np.ones((0, 3)), sentiment=np.zeros(0))
    with pytest.raises(DataError, match="empty"):
        load_dataset(path)


def test_requested_absent_modality_is_named(tmp_path, small):
    path = tmp_path / "data.npz"
    write_dataset(small, path)
    with pytest.raises(DataError, match="'visual'"):
        load_dataset(path, modalities=["text", "visual"])


def test_non_numeric_modality_is_refused():
    with pytest.raises(DataError, match="not real-valued numbers"):
        from_arrays({"text": np.array([["a"]])}, [0.0])
