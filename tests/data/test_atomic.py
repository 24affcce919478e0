import errno
import os

import pytest

from mosi_keras.data.atomic import write_atomically


def write_text(text):
    def write(partial):
        with open(partial, "w") as file:
            file.write(text)
    return write


def test_a_failed_write_leaves_the_previous_file_whole_and_no_partial_one(tmp_path):
    path = tmp_path / "results.json"
    write_atomically(path, write_text('{"runs": [1]}'))

    def half_written(partial):
        with open(partial, "w") as file:
            file.write('{"runs": [1, ')
        raise KeyboardInterrupt  # the user pressed Ctrl-C mid-write

    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, half_written)
    assert path.read_text() == '{"runs": [1]}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_a_failed_rename_leaves_no_partial_file(tmp_path, monkeypatch):
    def full_disk(source, destination):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(source))

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        write_atomically(tmp_path / "model.keras", write_text("weights"))
    assert list(tmp_path.iterdir()) == []


def test_the_temporary_name_keeps_the_ending_that_keras_reads(tmp_path):
    seen = []
    write_atomically(tmp_path / "stage.weights.h5", lambda partial: (seen.append(partial),
                                                                      open(partial, "w").close()),
                     ".weights.h5")
    assert seen[0].endswith("stage.partial.weights.h5") and (tmp_path / "stage.weights.h5").exists()
