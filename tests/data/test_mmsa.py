import pickle

import numpy as np
import pytest

from mosi_keras.data import DataError, load_dataset


def mmsa_split(n, rng):
    return {
        "text": rng.normal(size=(n, 5, 6)).astype("float32"),
        "audio": rng.normal(size=(n, 5, 3)).astype("float32"),
        "vision": rng.normal(size=(n, 5, 4)).astype("float32"),
        "id": np.array([f"vid{i // 2}$_${i % 2}" for i in range(n)]),
        "regression_labels": rng.uniform(-3, 3, size=n).astype("float32"),
    }


def test_mmsa_pickle_loads_with_its_folds(tmp_path, rng):
    path = tmp_path / "mosi.pkl"
    with open(path, "wb") as file:
        pickle.dump({"train": mmsa_split(6, rng), "valid": mmsa_split(2, rng), "test": mmsa_split(4, rng)}, file)
    data = load_dataset(path)
    assert data.feature_dims == {"text": 6, "audio": 3, "visual": 4}
    assert len(data) == 12
    assert data.folds.tolist().count("test") == 4
    assert data.video_ids[0] == "vid0"


def test_mmsa_pickle_holding_code_is_refused(tmp_path, rng):
    path = tmp_path / "evil.pkl"
    split = mmsa_split(2, rng)
    split["extra"] = Payload()
    with open(path, "wb") as file:
        pickle.dump({"train": split}, file)
    with pytest.raises(DataError, match="builtins.print.*not plain data"):
        load_dataset(path)


class Payload:
    def __reduce__(self):
        return (print, ("this would run code",))


def write_pickle(path, content):
    with open(path, "wb") as file:
        pickle.dump(content, file)
    return path


@pytest.mark.parametrize("change, named", [
    (lambda split: split.update(text=split["text"][:3]), r"split 'train' 'text' has shape \(3, 5, 6\); expected \(4,"),
    (lambda split: split.update(audio=np.float32(1.0)), r"'audio' has shape \(\); expected \(4, T, d\)"),
    (lambda split: split.update(id=np.array(["a"])), r"'id' has shape \(1,\) of <U1; expected 4 ids"),
    (lambda split: split.update(regression_labels=np.zeros((4, 2))), r"'regression_labels' has shape \(4, 2\)"),
    (lambda split: split.update(text_lengths=np.array([1.5, 2, 3, 4])), r"'text_lengths' has shape \(4,\) of float64"),
])
def test_mmsa_split_with_a_wrong_shape_is_named_by_a_check(tmp_path, rng, change, named):
    split = mmsa_split(4, rng)
    change(split)
    with pytest.raises(DataError, match=named) as caught:
        load_dataset(write_pickle(tmp_path / "mosi.pkl", {"train": split}))
    assert caught.value.__context__ is None  # a check of the reader's, not an error of NumPy's renamed


def test_mmsa_splits_of_other_widths_are_named(tmp_path, rng):
    test = mmsa_split(2, rng)
    test["audio"] = test["audio"][:, :, :2]
    with pytest.raises(DataError, match=r"'audio' has \{'train': 3, 'test': 2\} features per step"):
        load_dataset(write_pickle(tmp_path / "mosi.pkl", {"train": mmsa_split(4, rng), "test": test}))


def test_mmsa_ids_that_are_not_unicode_are_named(tmp_path, rng):
    split = mmsa_split(2, rng)
    split["id"] = np.array([0x110000, 0x61], "uint32").view("<U1")  # what a flipped byte leaves in a str array
    with pytest.raises(DataError, match="'id' holds characters that are not Unicode"):
        load_dataset(write_pickle(tmp_path / "mosi.pkl", {"train": split}))


def test_mmsa_splits_of_other_lengths_are_padded_to_the_longest(tmp_path, rng):
    test = mmsa_split(2, rng)
    test["text"] = test["text"][:, :3]
    data = load_dataset(write_pickle(tmp_path / "mosi.pkl", {"train": mmsa_split(4, rng), "test": test}))
    assert data.modalities["text"].shape == (6, 5, 6)
    assert data.lengths["text"].tolist() == [5, 5, 5, 5, 3, 3]
    np.testing.assert_array_equal(data.modalities["text"][4:, 3:], 0.0)
