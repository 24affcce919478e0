import os

import h5py
import numpy as np
import pytest

from mosi_keras.data import DataError, load_dataset, write_dataset
from tests.fuzzing import HUGE, huge_npz, small_dataset

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
    assert loaded.transcripts is None


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_transcripts_round_trip_and_follow_their_rows(tmp_path, small, suffix):
    import dataclasses

    said = dataclasses.replace(small, transcripts=np.array([f"segment {i} said é" for i in range(len(small))]))
    path = tmp_path / f"data{suffix}"
    write_dataset(said, path)
    loaded = load_dataset(path)
    np.testing.assert_array_equal(loaded.transcripts, said.transcripts)
    np.testing.assert_array_equal(loaded.subset([2, 0]).transcripts, said.transcripts[[2, 0]])


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


def test_a_npz_header_claiming_a_trillion_rows_is_refused_before_allocating(tmp_path):
    path = tmp_path / "huge.npz"
    write_dataset(small_dataset(), tmp_path / "seed.npz")
    with np.load(tmp_path / "seed.npz") as archive:
        huge_npz({key: archive[key] for key in archive.files}, "audio", path)
    with pytest.raises(DataError, match=rf"'audio' declares shape \({HUGE}, 6, 3\) of float32 .* but holds 576 bytes"):
        load_dataset(path)


def test_a_flipped_byte_in_a_kit_written_hdf5_file_fails_its_checksum(tmp_path):
    path = tmp_path / "data.h5"
    write_dataset(small_dataset(), path)
    with h5py.File(path, "r") as file:
        assert all(file[key].fletcher32 for key in file)
        offset = file["audio"].id.get_chunk_info(0).byte_offset
    raw = bytearray(path.read_bytes())
    raw[offset + 5] ^= 0x01
    path.write_bytes(raw)
    with pytest.raises(DataError, match=r"'audio' cannot be read .*checksum"):
        load_dataset(path)


def rename_an_array(file):
    file.move("video_id", "video_ie")  # what a flipped byte in a link name does


def rewrite_an_array(file):
    values = file["audio"][()]
    del file["audio"]
    file.create_dataset("audio", data=values + 1.0)  # new data with a checksum of its own


@pytest.mark.parametrize("spoil, message", [
    (rename_an_array, r"written with the arrays .*'video_id'.* but holds .*'video_ie'"),
    (rewrite_an_array, r"\['audio'\] hold other values than were written \(CRC-32\)"),
])
def test_a_kit_written_hdf5_file_changed_after_writing_is_named(tmp_path, spoil, message):
    path = tmp_path / "data.h5"
    write_dataset(small_dataset(), path)
    with h5py.File(path, "a") as file:
        spoil(file)
    with pytest.raises(DataError, match=message):
        load_dataset(path)


def test_unlabelled_segments_are_written_without_sentiment_and_read_back_unlabelled(tmp_path, small):
    import dataclasses

    unlabelled = dataclasses.replace(small, labelled=False, sentiment=np.full(len(small), np.nan, "float32"))
    write_dataset(unlabelled, tmp_path / "new.h5")
    loaded = load_dataset(tmp_path / "new.h5", require_sentiment=False)
    assert not loaded.labelled and len(loaded) == len(small)
