import errno
import os

import pytest

from applications.experiments import folder_lock
from applications.experiments.folder_lock import FolderInUse, FolderLock


def test_a_held_folder_is_refused_naming_its_holder_and_free_again_after(tmp_path):
    with FolderLock(tmp_path, "first"):
        with pytest.raises(FolderInUse, match=rf"is being written by process {os.getpid()} .*\(first, since"):
            with FolderLock(tmp_path, "second"):
                pass
    with FolderLock(tmp_path, "second"):  # released
        pass


def test_a_folder_that_cannot_be_locked_says_why_not_that_it_is_in_use(tmp_path, monkeypatch):
    def no_locks(file, operation):
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(folder_lock.fcntl, "flock", no_locks)
    with pytest.raises(FolderInUse) as refused:
        with FolderLock(tmp_path, "train"):
            pass
    assert "cannot lock .mosi-keras.lock (No locks available)" in str(refused.value)
    assert "being written" not in str(refused.value)


def test_train_holds_its_folder(files, tmp_path, capsys):
    from applications.experiments.cli import main

    out = tmp_path / "run"
    with FolderLock(out, "mosi-keras reproduce"):
        assert main(["train", "--data", str(files / "train.npz"), "--out", str(out), "--quiet"]) == 2
    assert f"{out} is being written by process {os.getpid()}" in capsys.readouterr().err
    assert sorted(os.listdir(out)) == [".mosi-keras.lock"]  # the refused run wrote nothing

