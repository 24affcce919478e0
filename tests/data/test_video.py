"""The video-level view: grouping, order, padding, batches."""

import numpy as np
import pytest

from mosi_keras.data import DataError
from mosi_keras.data.video import UTTERANCE_MASK, VideoBatches, video_view


def rows(n=11, steps=6, seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, steps + 1, size=n)
    mask = (np.arange(steps)[None, :] < lengths[:, None]).astype("int32")
    text = rng.normal(size=(n, steps, 3)).astype("float32") * mask[:, :, None]
    return {"text": text, "text_mask": mask}


def test_video_view_holds_every_row_once_in_segment_order_with_padding_masked():
    x = rows()
    videos = np.array(list("abcab" "caab" "bc"))
    index = np.array([3, 1, 2, 1, 2, 1, 2, 4, 3, 5, 3])  # positions within each video, shuffled
    labels = np.array([1, 0, 1, -1, 1, 0, 0, 1, 1, 0, 1])
    view = video_view(x, videos, index, labels)
    valid = view.rows >= 0
    assert sorted(view.rows[valid].tolist()) == list(range(11))
    for video, places in zip(view.video_ids, view.rows):
        members = places[places >= 0]
        assert set(videos[members]) == {video}
        assert np.all(np.diff(index[members]) > 0)  # segment_index order
    np.testing.assert_array_equal(view.inputs[UTTERANCE_MASK], valid.astype("int32"))
    assert np.all(view.labels[~valid] == -1) and np.all(view.inputs["text_mask"][~valid] == 0)
    assert np.all(view.inputs["text"][~valid] == 0)
    np.testing.assert_array_equal(view.labels[valid], labels[view.rows[valid]])
    np.testing.assert_array_equal(view.inputs["text"][valid], x["text"][view.rows[valid]])
    per_row = view.to_rows(view.inputs["text"][..., 0, 0])  # any per-utterance output, back to rows
    np.testing.assert_array_equal(per_row, x["text"][:, 0, 0])


def test_video_view_of_some_rows_maps_outputs_back_to_those_rows_in_their_order():
    x = rows()
    videos = np.array(list("abcabcaabbc"))
    chosen = np.array([7, 2, 0, 9])
    view = video_view(x, videos, rows=chosen)
    assert sorted(view.rows[view.rows >= 0].tolist()) == sorted(chosen.tolist())
    np.testing.assert_array_equal(view.to_rows(view.rows), chosen)


def test_video_view_refuses_two_segments_at_one_position_of_a_video():
    with pytest.raises(DataError, match="video 'a'.*segment_index"):
        video_view(rows(3), np.array(["a", "a", "b"]), np.array([1, 1, 1]))


def test_video_batches_serve_every_video_once_and_cut_only_padding():
    x = rows(40, steps=12)
    videos = np.repeat(np.arange(9), [1, 7, 3, 5, 2, 8, 4, 6, 4])
    view = video_view(x, videos.astype(str))
    batches = VideoBatches(view, videos_per_batch=3, seed=0)
    for epoch in range(2):
        served = []
        for index in range(len(batches)):
            x_batch, y_batch = batches[index]
            present = x_batch[UTTERANCE_MASK].sum()
            videos_here = batches.batches[index]
            served += list(videos_here)
            assert present == view.inputs[UTTERANCE_MASK][videos_here].sum()  # no utterance cut
            assert x_batch["text_mask"].sum() == view.inputs["text_mask"][videos_here].sum()  # no step cut
            assert x_batch["text"].shape[1] <= view.rows.shape[1] and y_batch.shape == x_batch[UTTERANCE_MASK].shape
        assert sorted(served) == list(range(9))
        batches.on_epoch_end()
    again = VideoBatches(view, videos_per_batch=3, seed=0)
    assert [list(b) for b in again.batches] == [list(b) for b in VideoBatches(view, videos_per_batch=3, seed=0).batches]
