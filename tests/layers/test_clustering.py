import numpy as np
import pytest

import keras
from keras import ops

from mosi_keras.layers import ClusteringLayer
from tests.layer_testing import run_layer_test

pytestmark = pytest.mark.backend_agnostic


def reference_q(z, centroids, alpha):
    distance = ((z[:, None, :] - centroids[None]) ** 2).sum(-1)
    kernel = (1 + distance / alpha) ** (-(alpha + 1) / 2)
    return kernel / kernel.sum(1, keepdims=True)


@pytest.mark.parametrize("alpha", [1.0, 0.5, 3.0])
def test_clustering_layer_matches_numpy_student_t(rng, alpha):
    z = rng.normal(size=(6, 4)).astype("float32")
    centroids = rng.normal(size=(3, 4)).astype("float32")
    layer = ClusteringLayer(3, alpha=alpha)
    layer.build((None, 4))
    layer.centroids.assign(centroids)
    q = ops.convert_to_numpy(layer(z))
    np.testing.assert_allclose(q, reference_q(z, centroids, alpha), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(q.sum(1), 1.0, rtol=1e-6)


def test_clustering_layer_has_named_centroid_weight(rng):
    layer = ClusteringLayer(5)
    layer(rng.normal(size=(2, 7)).astype("float32"))
    assert [w.path.split("/")[-1] for w in layer.weights] == ["centroids"]
    assert tuple(layer.centroids.shape) == (5, 7)
    assert layer.compute_output_shape((2, 7)) == (2, 5)


def test_clustering_layer_is_float32_under_mixed_precision(rng):
    keras.config.set_dtype_policy("mixed_bfloat16")
    layer = ClusteringLayer(2)
    q = layer(ops.cast(rng.normal(size=(4, 3)), "bfloat16"))
    assert keras.backend.standardize_dtype(q.dtype) == "float32"
    assert layer.compute_dtype == "float32"


def test_clustering_layer_does_not_underflow_for_far_points():
    layer = ClusteringLayer(2)
    layer.build((None, 2))
    layer.centroids.assign(np.array([[0.0, 0.0], [1.0, 0.0]], "float32"))
    q = ops.convert_to_numpy(layer(np.array([[1e19, 0.0]], "float32")))
    assert np.all(np.isfinite(q))
    np.testing.assert_allclose(q.sum(), 1.0, rtol=1e-6)


def test_clustering_layer_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_clusters"):
        ClusteringLayer(0)
    with pytest.raises(ValueError, match="alpha"):
        ClusteringLayer(2, alpha=0)


def test_clustering_layer_passes_the_shared_layer_checks(rng, tmp_path):
    run_layer_test(
        ClusteringLayer, {"n_clusters": 3, "alpha": 2.0}, rng.normal(size=(5, 4)).astype("float32"),
        expected_output_shape=(5, 3), expected_num_trainable_weights=1, expected_num_params=12,
        mixed_precision_output_dtype="float32", tmp_path=tmp_path,
    )
