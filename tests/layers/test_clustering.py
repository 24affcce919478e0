import numpy as np
import pytest

import keras
from keras import ops

from mosi_keras.layers import ClusteringLayer
from tests.conftest import save_and_reload

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


def test_clustering_layer_config_round_trip():
    layer = ClusteringLayer(4, alpha=2.0, centroids_initializer="zeros", name="c")
    clone = ClusteringLayer.from_config(layer.get_config())
    assert (clone.n_clusters, clone.alpha, clone.name) == (4, 2.0, "c")
    assert clone.get_config() == layer.get_config()


def test_clustering_layer_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_clusters"):
        ClusteringLayer(0)
    with pytest.raises(ValueError, match="alpha"):
        ClusteringLayer(2, alpha=0)


def test_clustering_layer_gradients_reach_centroids(rng):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, ClusteringLayer(2)(keras.layers.Dense(3)(inputs)))
    model.compile("adam", "categorical_crossentropy")
    before = model.layers[-1].get_weights()[0].copy()
    x = rng.normal(size=(8, 3)).astype("float32")
    history = model.fit(x, np.eye(2)[np.arange(8) % 2], epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert not np.allclose(before, model.layers[-1].get_weights()[0])


def test_clustering_layer_survives_keras_save_and_safe_load(tmp_path, rng):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, ClusteringLayer(3, alpha=2.0)(inputs))
    z = rng.normal(size=(5, 4)).astype("float32")
    reloaded = save_and_reload(model, tmp_path)
    np.testing.assert_allclose(
        ops.convert_to_numpy(reloaded(z)), ops.convert_to_numpy(model(z)), atol=1e-6
    )
