import numpy as np
import pytest

from mosi_keras.data import (
    Preprocessor,
    binary_labels,
    from_arrays,
    make_synthetic_mosi,
    semi_supervised_split,
)


@pytest.fixture(scope="module")
def data():
    return make_synthetic_mosi(n_videos=20, seed=3)


def test_statistics_come_from_training_rows_only(data):
    split = semi_supervised_split(data.video_ids, seed=0)
    prep = Preprocessor().fit(data.subset(split.train))
    before = {k: v["mean"].copy() for k, v in prep.statistics.items()}
    shifted = data.subset(np.arange(len(data)))
    for array in shifted.modalities.values():
        array[split.val] += 100.0  # validation rows change; statistics must not
    refit = Preprocessor().fit(shifted.subset(split.train))
    for name in before:
        np.testing.assert_allclose(refit.statistics[name]["mean"], before[name])
    inputs = prep.transform(data.subset(split.train))
    valid = inputs["text_mask"].astype(bool)
    values = inputs["text"][valid]
    np.testing.assert_allclose(values.mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(values.std(0), 1.0, atol=1e-3)


def test_padding_is_zero_and_masks_follow_lengths(data):
    inputs = Preprocessor(max_len=12).fit(data).transform(data)
    assert inputs["audio"].shape == (len(data), 12, 74)
    np.testing.assert_array_equal(inputs["audio_mask"].sum(1), np.minimum(data.lengths["audio"], 12))
    assert inputs["audio_mask"].dtype == np.int32
    assert np.all(inputs["audio"][inputs["audio_mask"] == 0] == 0)


def test_non_finite_values_are_replaced_counted_and_warned():
    x = np.array([[1.0, 2.0], [3.0, -np.inf], [5.0, 6.0], [np.nan, 4.0]], "float32")
    data = from_arrays({"audio": x}, np.zeros(4))
    prep = Preprocessor(max_len=1).fit(data)
    with pytest.warns(UserWarning, match="replaced 2 non-finite value"):
        inputs = prep.transform(data)
    assert np.all(np.isfinite(inputs["audio"]))
    assert inputs["audio"][1, 0, 1] == pytest.approx(0.0, abs=1e-6)


def test_constant_features_do_not_divide_by_zero():
    data = from_arrays({"visual": np.ones((5, 3))}, np.zeros(5))
    inputs = Preprocessor(max_len=1).fit(data).transform(data)
    np.testing.assert_array_equal(inputs["visual"], 0.0)


def test_preprocessor_round_trips_through_json(tmp_path, data):
    prep = Preprocessor().fit(data)
    prep.save(tmp_path / "prep.json")
    loaded = Preprocessor.load(tmp_path / "prep.json")
    np.testing.assert_allclose(loaded.transform(data)["text"], prep.transform(data)["text"], atol=1e-6)


def test_binary_label_conventions():
    sentiment = np.array([-1.2, 0.0, 0.4, -0.2])
    assert binary_labels(sentiment).tolist() == [0, 1, 1, 0]


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


def test_synthetic_data_is_mosi_shaped_and_seeded():
    a = make_synthetic_mosi(n_videos=5, seed=7)
    b = make_synthetic_mosi(n_videos=5, seed=7)
    assert a.feature_dims == {"text": 300, "audio": 74, "visual": 35}
    assert a.modalities["text"].shape[1] == 30
    np.testing.assert_array_equal(a.modalities["audio"], b.modalities["audio"])
    assert len(np.unique(a.video_ids)) == 5
    assert a.lengths["text"].min() >= 3 and len(np.unique(a.lengths["text"])) > 1


def test_streaming_fit_over_chunks_equals_fit_on_all_rows(data):
    whole = Preprocessor().fit(data)
    chunks = [data.subset(np.arange(start, min(start + 37, len(data)))) for start in range(0, len(data), 37)]
    streamed = Preprocessor().fit_batches(chunks)
    for name, stats in whole.statistics.items():
        for key, value in stats.items():
            np.testing.assert_allclose(streamed.statistics[name][key], value, rtol=1e-9, atol=1e-12)


def test_a_seeds_training_and_validation_videos_do_not_depend_on_the_label_fraction(data):
    splits = [semi_supervised_split(data.video_ids, fraction, 0.2, seed=4) for fraction in (0.3, 0.4, 1.0)]
    for split in splits[1:]:
        np.testing.assert_array_equal(split.train, splits[0].train)
        np.testing.assert_array_equal(split.val, splits[0].val)
    forty = splits[1]
    assert 0.3 < len(forty.labelled_train) / len(forty.train) < 0.5  # labels kept in each part
    assert 0.2 < len(forty.labelled_val) / len(forty.val) < 0.6
    assert set(forty.labelled_train) <= set(splits[2].labelled_train)


def test_generated_data_clusters_by_class_so_unlabelled_rows_can_help():
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    from mosi_keras.evaluation import cluster_accuracy

    def kmeans_accuracy(**options):
        data = make_synthetic_mosi(n_videos=40, seed=0, **options)
        masks = data.masks()
        pooled = np.concatenate([(data.modalities[name] * masks[name][..., None]).sum(1) / masks[name].sum(1)[:, None]
                                 for name in data.modalities], axis=1)
        clusters = KMeans(2, n_init=5, random_state=0).fit_predict(StandardScaler().fit_transform(pooled))
        return cluster_accuracy(binary_labels(data.sentiment), clusters)

    assert kmeans_accuracy() > 0.85  # the two clusters are the two classes, up to the groups near zero
    assert kmeans_accuracy(separation=0.0, speaker=0.5) < 0.65  # groups at random: clusters are not classes
