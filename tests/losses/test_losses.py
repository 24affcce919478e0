"""NumPy references for eqs. 1 and 3-8 and the loss objects' plumbing."""

import numpy as np
import pytest

import keras
from keras import ops

from mosi_keras import losses
from tests.conftest import save_and_reload

pytestmark = pytest.mark.backend_agnostic

Q = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.1, 0.4]], "float32")


def numpy_target(q):
    weight = q**2 / q.sum(0)
    return weight / weight.sum(1, keepdims=True)


def to_numpy(x):
    return ops.convert_to_numpy(x)


def test_target_distribution_matches_eq3():
    np.testing.assert_allclose(to_numpy(losses.target_distribution(Q)), numpy_target(Q), rtol=1e-6)


def test_target_distribution_rows_sum_to_one():
    np.testing.assert_allclose(to_numpy(losses.target_distribution(Q)).sum(1), 1.0, rtol=1e-6)


def test_target_distribution_sharpens_confident_assignments():
    p = to_numpy(losses.target_distribution(Q))
    assert p[0, 0] > Q[0, 0] and p[1, 1] > Q[1, 1]


def test_target_distribution_uses_given_cluster_frequency():
    frequency = np.array([10.0, 1.0, 1.0], "float32")
    weight = Q**2 / frequency
    expected = weight / weight.sum(1, keepdims=True)
    np.testing.assert_allclose(
        to_numpy(losses.target_distribution(Q, cluster_frequency=frequency)), expected, rtol=1e-6
    )


def test_target_distribution_passes_no_gradient():
    assert keras.backend.backend() in ("tensorflow", "jax", "torch")
    q = keras.Variable(Q)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = ops.sum(losses.target_distribution(q) * ops.arange(3, dtype="float32"))
        assert tape.gradient(value, q.value) is None
    elif keras.backend.backend() == "jax":
        import jax

        grad = jax.grad(lambda v: ops.sum(losses.target_distribution(v) * ops.arange(3.0)))(Q)
        np.testing.assert_array_equal(np.asarray(grad), 0.0)
    else:
        import torch

        t = torch.tensor(Q, requires_grad=True)
        assert not losses.target_distribution(t).requires_grad


def test_clustering_kl_matches_eq1_batch_mean():
    p = numpy_target(Q)
    expected = np.mean(np.sum(p * np.log(p / Q), axis=1))
    np.testing.assert_allclose(to_numpy(losses.clustering_kl(p, Q)), expected, rtol=1e-5)
    np.testing.assert_allclose(
        to_numpy(losses.ClusteringKLDivergence()(p, Q)), expected, rtol=1e-5
    )


def test_clustering_kl_is_zero_for_identical_and_finite_for_zero_entries():
    np.testing.assert_allclose(to_numpy(losses.clustering_kl(Q, Q)), 0.0, atol=1e-6)
    p = np.array([[1.0, 0.0, 0.0]], "float32")
    value = to_numpy(losses.clustering_kl(p, np.array([[0.5, 0.5, 0.0]], "float32")))
    np.testing.assert_allclose(value, np.log(2.0), rtol=1e-5)


def test_masked_reconstruction_loss_matches_eq4_on_valid_steps(rng):
    x = rng.normal(size=(3, 4, 5)).astype("float32")
    x_hat = rng.normal(size=(3, 4, 5)).astype("float32")
    mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], bool)
    expected = ((x - x_hat) ** 2)[mask].mean()
    np.testing.assert_allclose(
        to_numpy(losses.masked_reconstruction_loss(x, x_hat, mask)), expected, rtol=1e-5
    )
    np.testing.assert_allclose(
        to_numpy(losses.masked_reconstruction_loss(x, x_hat)), ((x - x_hat) ** 2).mean(), rtol=1e-5
    )


def test_masked_reconstruction_loss_ignores_padded_steps(rng):
    x = rng.normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 0]], bool)
    x_hat = x.copy()
    x_hat[~mask] += 100.0
    assert float(to_numpy(losses.masked_reconstruction_loss(x, x_hat, mask))) == 0.0
    empty = np.zeros_like(mask)
    assert float(to_numpy(losses.masked_reconstruction_loss(x, x_hat, empty))) == 0.0


def test_masked_reconstruction_object_takes_mask_as_sample_weight(rng):
    x = rng.normal(size=(3, 4, 5)).astype("float32")
    x_hat = rng.normal(size=(3, 4, 5)).astype("float32")
    mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], "float32")
    np.testing.assert_allclose(
        to_numpy(losses.MaskedReconstructionLoss()(x, x_hat, sample_weight=mask)),
        to_numpy(losses.masked_reconstruction_loss(x, x_hat, mask)),
        rtol=1e-5,
    )


def test_disentanglement_loss_matches_eqs5_and_6(rng):
    z = rng.normal(size=(8, 4)).astype("float32")
    centred = z - z.mean(0)
    c = centred.T @ centred / len(z)
    expected = (c**2).sum() - (np.diag(c) ** 2).sum()
    np.testing.assert_allclose(to_numpy(losses.latent_covariance(z)), c, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_numpy(losses.disentanglement_loss(z)), expected, rtol=1e-5)
    np.testing.assert_allclose(to_numpy(losses.DisentanglementLoss()(z, z)), expected, rtol=1e-5)


def test_disentanglement_loss_is_zero_for_uncorrelated_dimensions():
    z = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], "float32") * [3.0, 0.5]
    assert float(to_numpy(losses.disentanglement_loss(z))) == pytest.approx(0.0, abs=1e-6)


def test_semi_supervised_crossentropy_counts_labelled_samples_only():
    labels = np.array([0, -1, 2, -1])
    expected = -(np.log(Q[0, 0]) + np.log(Q[2, 2])) / 2
    np.testing.assert_allclose(
        to_numpy(losses.semi_supervised_crossentropy(labels, Q)), expected, rtol=1e-5
    )
    np.testing.assert_allclose(
        to_numpy(losses.SemiSupervisedCrossentropy()(labels, Q)), expected, rtol=1e-5
    )


def test_semi_supervised_crossentropy_unlabelled_predictions_do_not_matter():
    labels = np.array([0, -1, 2, -1])
    changed = Q.copy()
    changed[[1, 3]] = [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    np.testing.assert_allclose(
        to_numpy(losses.semi_supervised_crossentropy(labels, changed)),
        to_numpy(losses.semi_supervised_crossentropy(labels, Q)),
    )


def test_semi_supervised_crossentropy_without_labels_is_zero_not_nan():
    value = to_numpy(losses.semi_supervised_crossentropy(np.full(4, losses.UNLABELLED), Q))
    assert float(value) == 0.0


def test_combined_dec_loss_is_eq8():
    assert losses.combined_dec_loss(1.0, 2.0, 3.0, 4.0, alpha=0.1, beta=0.5, gamma=0.01) == (
        pytest.approx(1.0 + 0.2 + 1.5 + 0.04)
    )
    assert losses.combined_dec_loss(
        5.0, 2.0, 3.0, 4.0, alpha=1, beta=0, gamma=0, cluster_weight=0
    ) == pytest.approx(2.0)


@pytest.mark.parametrize(
    "loss",
    [
        losses.ClusteringKLDivergence(),
        losses.MaskedReconstructionLoss(),
        losses.DisentanglementLoss(),
        losses.SemiSupervisedCrossentropy(),
    ],
    ids=lambda loss: type(loss).__name__,
)
def test_loss_objects_round_trip_through_keras_serialization(loss):
    config = keras.saving.serialize_keras_object(loss)
    clone = keras.saving.deserialize_keras_object(config, safe_mode=True)
    assert type(clone) is type(loss) and clone.get_config() == loss.get_config()


def test_losses_give_finite_gradients_through_a_model(rng):
    inputs = keras.Input((6,))
    z = keras.layers.Dense(4)(inputs)
    from mosi_keras.layers import ClusteringLayer

    q = ClusteringLayer(2)(z)
    model = keras.Model(inputs, {"z": z, "q": q})
    model.compile(
        optimizer="adam",
        loss={"z": losses.DisentanglementLoss(), "q": losses.SemiSupervisedCrossentropy()},
    )
    x = rng.normal(size=(16, 6)).astype("float32")
    labels = np.where(np.arange(16) % 3 == 0, -1, np.arange(16) % 2)
    history = model.fit(x, {"z": np.zeros((16, 4)), "q": labels}, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def test_model_compiled_with_loss_objects_survives_save(tmp_path, rng):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
    model.compile(optimizer="adam", loss=losses.SemiSupervisedCrossentropy())
    reloaded = save_and_reload(model, tmp_path)
    assert isinstance(reloaded.loss, losses.SemiSupervisedCrossentropy)
