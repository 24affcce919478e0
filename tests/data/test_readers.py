import os
import pickle

import h5py
import numpy as np
import pytest

from mosi_keras.data import DataError, from_arrays, load_dataset, make_synthetic_mosi, write_dataset

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED_MOSI = os.path.join(ROOT, "..", "shared", "data", "cmu_mosi", "cmu_mosi_utterances.npz")


@pytest.fixture
def small():
    return make_synthetic_mosi(n_videos=4, segments_per_video=(2, 3), max_len=6,
                               feature_dims={"text": 5, "audio": 3}, seed=1)


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


def write_csd(path, root, videos):
    with h5py.File(path, "w") as file:
        group = file.create_group(root)
        data = group.create_group("data")
        for video, (features, intervals) in videos.items():
            data.create_group(video)
            data[video].create_dataset("features", data=features)
            data[video].create_dataset("intervals", data=intervals)
        meta = group.create_group("metadata")
        meta.create_dataset("root name", data=root)


def test_csd_folder_aligns_feature_rows_inside_each_segment(tmp_path):
    write_csd(tmp_path / "CMU_MOSI_Opinion_Labels.csd", "labels", {
        "vidA": (np.array([[1.5], [-2.0]]), np.array([[0.0, 2.0], [2.0, 5.0]])),
        "vidB": (np.array([[0.4]]), np.array([[0.0, 1.0]])),
    })
    words = np.arange(12, dtype="float32").reshape(6, 2)
    write_csd(tmp_path / "CMU_MOSI_TimestampedWordVectors.csd", "glove", {
        "vidA": (words[:5], np.array([[0, .5], [.5, 1.5], [1.5, 2.0], [2.0, 3.0], [3.0, 4.9]])),
        "vidB": (words[5:], np.array([[0.1, 0.9]])),
    })
    write_csd(tmp_path / "CMU_MOSI_COVAREP.csd", "covarep", {
        "vidA": (np.ones((3, 4)), np.array([[0, 1.0], [1.0, 2.5], [2.5, 5.0]])),
        "vidB": (np.ones((1, 4)), np.array([[0, 1.0]])),
    })
    data = load_dataset(tmp_path)
    assert sorted(data.modality_names) == ["audio", "text"]
    assert data.lengths["text"].tolist() == [3, 2, 1]
    np.testing.assert_array_equal(data.modalities["text"][1, :2], words[3:5])
    # The COVAREP row (1.0, 2.5) straddles two segments and so falls in neither.
    assert data.lengths["audio"].tolist() == [1, 1, 1]
    np.testing.assert_allclose(data.sentiment, [1.5, -2.0, 0.4])
    assert data.video_ids.tolist() == ["vidA", "vidA", "vidB"]


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


class Payload:
    def __reduce__(self):
        return (print, ("this would run code",))


def test_mmsa_pickle_holding_code_is_refused(tmp_path, rng):
    path = tmp_path / "evil.pkl"
    split = mmsa_split(2, rng)
    split["extra"] = Payload()
    with open(path, "wb") as file:
        pickle.dump({"train": split}, file)
    with pytest.raises(DataError, match="builtins.print.*not plain data"):
        load_dataset(path)


def test_missing_path_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.npz"):
        load_dataset(tmp_path / "nothing.npz")


def test_unknown_format_is_named(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("hello")
    with pytest.raises(DataError, match="unknown format"):
        load_dataset(path)


def test_corrupt_hdf5_is_named(tmp_path):
    path = tmp_path / "broken.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 20)
    with pytest.raises(DataError, match="broken.h5.*HDF5"):
        load_dataset(path)


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
    with pytest.raises(DataError, match="not numeric"):
        from_arrays({"text": np.array([["a"]])}, [0.0])


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
