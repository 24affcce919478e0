import pytest

from mosi_keras.data import DataError, load_dataset


def test_missing_path_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.npz"):
        load_dataset(tmp_path / "nothing.npz")


def test_unknown_format_is_named(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("hello")
    with pytest.raises(DataError, match="unknown format"):
        load_dataset(path)
