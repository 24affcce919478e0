import pytest

from mosi_keras.data import DataError, load_dataset, readers


def test_missing_path_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.npz"):
        load_dataset(tmp_path / "nothing.npz")


def test_unknown_format_is_named(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("hello")
    with pytest.raises(DataError, match="unknown format"):
        load_dataset(path)


def test_a_readers_own_bug_is_not_renamed_as_a_damaged_file(tmp_path, monkeypatch):
    def buggy_reader(path, require_sentiment=True):
        raise KeyError("a bug of the reader's")

    monkeypatch.setitem(readers.READERS, "npz", buggy_reader)
    path = tmp_path / "data.npz"
    path.write_bytes(b"PK")
    with pytest.raises(KeyError, match="a bug of the reader's"):  # a traceback, not "damaged file"
        load_dataset(path)
