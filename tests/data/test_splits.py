import numpy as np

from mosi_keras.data import semi_supervised_split


def test_split_keeps_every_video_in_one_part(data):
    split = semi_supervised_split(data.video_ids, 0.4, 0.2, seed=5)
    parts = [split.labelled_train, split.labelled_val, split.unlabelled_train, split.unlabelled_val]
    videos = [set(data.video_ids[p]) for p in parts]
    for i in range(4):
        for j in range(i + 1, 4):
            assert not videos[i] & videos[j]
    assert sorted(np.concatenate(parts).tolist()) == list(range(len(data)))
    assert 0.25 < len(np.concatenate(parts[:2])) / len(data) < 0.55


def test_split_is_reproducible_by_seed(data):
    a = semi_supervised_split(data.video_ids, seed=1)
    b = semi_supervised_split(data.video_ids, seed=1)
    c = semi_supervised_split(data.video_ids, seed=2)
    np.testing.assert_array_equal(a.labelled_train, b.labelled_train)
    assert not np.array_equal(np.sort(a.labelled_train), np.sort(c.labelled_train))


def test_all_labels_split_has_no_unlabelled_part(data):
    split = semi_supervised_split(data.video_ids, 1.0, 0.2, seed=0)
    assert len(split.unlabelled_train) == 0 and len(split.unlabelled_val) == 0


def test_a_seeds_training_and_validation_videos_do_not_depend_on_the_label_fraction(data):
    splits = [semi_supervised_split(data.video_ids, fraction, 0.2, seed=4) for fraction in (0.3, 0.4, 1.0)]
    for split in splits[1:]:
        np.testing.assert_array_equal(split.train, splits[0].train)
        np.testing.assert_array_equal(split.val, splits[0].val)
    forty = splits[1]
    assert 0.3 < len(forty.labelled_train) / len(forty.train) < 0.5  # labels kept in each part
    assert 0.2 < len(forty.labelled_val) / len(forty.val) < 0.6
    assert set(forty.labelled_train) <= set(splits[2].labelled_train)
