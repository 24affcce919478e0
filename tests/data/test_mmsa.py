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
