import h5py
import pytest

from mosi_keras.data import DataError, load_dataset, write_dataset
from tests.fuzzing import HUGE, small_dataset


def test_an_hdf5_dataset_declaring_more_than_its_file_can_hold_is_refused(tmp_path):
    path = tmp_path / "huge.h5"
    write_dataset(small_dataset(), path)
    with h5py.File(path, "a") as file:
        del file["sentiment"]
        file.create_dataset("sentiment", shape=(HUGE,), dtype="float32", chunks=(1024,))
    with pytest.raises(DataError, match=r"'sentiment' declares shape \(1000000000000,\) of float32"):
        load_dataset(path)
