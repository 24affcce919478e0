import numpy as np

from mosi_keras.data import binary_labels, make_synthetic_mosi


def test_synthetic_data_is_mosi_shaped_and_seeded():
    a = make_synthetic_mosi(n_videos=5, seed=7)
    b = make_synthetic_mosi(n_videos=5, seed=7)
    assert a.feature_dims == {"text": 300, "audio": 74, "visual": 35}
    assert a.modalities["text"].shape[1] == 30
    np.testing.assert_array_equal(a.modalities["audio"], b.modalities["audio"])
    assert len(np.unique(a.video_ids)) == 5
    assert a.lengths["text"].min() >= 3 and len(np.unique(a.lengths["text"])) > 1


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
