import numpy as np
import pytest

import keras
from keras import ops

from applications import MultimodalDecoder, SemiSupervisedDEC, TargetRefresh
from mosi_keras.data import binary_labels
from mosi_keras.inputs import SAMPLE_INDEX, UNLABELLED
from tests.applications.conftest import make_backbone, make_backbone_decoder, make_dec, make_raw, with_index
from tests.task_testing import run_model_test, run_task_test

# The tests marked backend_agnostic also run on JAX and PyTorch (tests/test_backends.py);
# the rest exercise backend-independent logic and run on TensorFlow only, to keep CI short.
# The traced step: the first test here and test_callbacks' first; tests of what a step
# leaves (weights, terms, a saved file) run it eagerly (`eager_functions`).


@pytest.mark.backend_agnostic
def test_dec_fit_reports_every_term_and_lowers_the_total_loss(tiny):
    x, _, semi = tiny
    dec = make_dec(reconstruction_weight=0.1, supervised_weight=0.5, disentangle_weight=0.01)
    history = dec.fit(x, semi, epochs=12, batch_size=48, verbose=0)
    for name in ("loss", "cluster_loss", "reconstruction_loss", "supervised_loss", "disentangle_loss"):
        assert name in history.history
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < losses[0]


@pytest.mark.slow  # run with -m slow; in the default suite: the reconstruction-weight and unlabelled-rows tests
def test_dec_supervised_weight_zero_makes_labels_irrelevant(tiny):
    x, labels, _ = tiny
    dec = make_dec(supervised_weight=0.0)
    dec(x)
    start = [w.copy() for w in dec.get_weights()]
    dec.fit(x, labels, epochs=1, batch_size=48, shuffle=False, verbose=0)
    after_labels = dec.get_weights()
    dec.set_weights(start)
    dec.optimizer = keras.optimizers.Adam(1e-2)
    dec.compile(optimizer=dec.optimizer)
    dec.fit(x, 1 - labels, epochs=1, batch_size=48, shuffle=False, verbose=0)
    for a, b in zip(after_labels, dec.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.usefixtures("eager_functions")
@pytest.mark.backend_agnostic
def test_dec_reconstruction_weight_zero_leaves_the_decoder_untouched(tiny):
    x, _, semi = tiny
    dec = make_dec(reconstruction_weight=0.0)
    dec(x)
    decoder_before = [w.copy() for w in dec.decoder.get_weights()]
    backbone_before = [w.copy() for w in dec.backbone.get_weights()]
    dec.fit(x, semi, epochs=1, batch_size=48, verbose=0)
    for a, b in zip(decoder_before, dec.decoder.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert any(not np.allclose(a, b) for a, b in zip(backbone_before, dec.backbone.get_weights()))


@pytest.mark.usefixtures("eager_functions")
def test_the_autoencoder_stage_trains_on_inputs_alone_and_leaves_the_centroids(tiny):
    """Stage 1 (`SemiSupervisedDEC.autoencoder`): labels cannot matter, the
    centroids are not trained, `compile()` is Adam at stage 1's rate; the
    clustering stage built on the same backbone compiles at its own."""
    from applications.training_defaults import AE_LEARNING_RATE, DEC_LEARNING_RATE

    x, labels, _ = tiny
    backbone, decoder = make_backbone_decoder()
    autoencoder = SemiSupervisedDEC.autoencoder(backbone, decoder)
    autoencoder.compile()
    assert autoencoder.is_autoencoder and (autoencoder.cluster_weight, autoencoder.supervised_weight) == (0.0, 0.0)
    assert float(autoencoder.optimizer.learning_rate) == pytest.approx(AE_LEARNING_RATE)
    centroids = ops.convert_to_numpy(autoencoder.clustering.centroids).copy()
    backbone_before = [w.copy() for w in backbone.get_weights()]
    history = autoencoder.fit(x, labels, epochs=1, batch_size=48, verbose=0)
    assert history.history["supervised_loss"] == [0.0] and history.history["cluster_loss"] == [0.0]
    np.testing.assert_array_equal(ops.convert_to_numpy(autoencoder.clustering.centroids), centroids)
    assert any(not np.allclose(a, b) for a, b in zip(backbone_before, backbone.get_weights()))
    clustering = SemiSupervisedDEC(backbone, decoder)
    clustering.compile()
    assert not clustering.is_autoencoder
    assert float(clustering.optimizer.learning_rate) == pytest.approx(DEC_LEARNING_RATE)


@pytest.mark.usefixtures("eager_functions")
def test_dec_unlabelled_samples_do_not_change_the_supervised_term(tiny):
    x, _, semi = tiny
    dec = make_dec()
    labelled = semi >= 0
    all_rows = dec.evaluate(x, semi, batch_size=48, return_dict=True, verbose=0)
    only_labelled = dec.evaluate(
        {k: v[labelled] for k, v in x.items()}, semi[labelled], batch_size=48, return_dict=True, verbose=0
    )
    assert all_rows["supervised_loss"] == pytest.approx(only_labelled["supervised_loss"], rel=1e-5)
    unlabelled = dec.evaluate(x, np.full_like(semi, -1), batch_size=48, return_dict=True, verbose=0)
    assert unlabelled["supervised_loss"] == 0.0


@pytest.mark.backend_agnostic
def test_dec_in_step_target_equals_numpy_eq3(tiny, rng):
    dec = make_dec()
    q = rng.dirichlet(np.ones(2), size=10).astype("float32")
    weight = q**2 / q.sum(0)
    np.testing.assert_allclose(
        ops.convert_to_numpy(dec.target(q)), weight / weight.sum(1, keepdims=True), rtol=1e-5
    )
    frequency = np.array([30.0, 10.0], "float32")
    dec.cluster_frequency.assign(frequency)
    weight = q**2 / frequency
    np.testing.assert_allclose(
        ops.convert_to_numpy(dec.target(q)), weight / weight.sum(1, keepdims=True), rtol=1e-5
    )


@pytest.mark.backend_agnostic
def test_frozen_target_is_the_rows_refreshed_p_not_the_batchs(tiny, rng):
    x, _, semi = tiny
    dec = make_dec(target_rows=len(semi))
    q = rng.dirichlet(np.ones(2), size=6).astype("float32")
    index = np.array([5, 0, 7, 7, 2, 1])
    per_batch = ops.convert_to_numpy(dec.target(q))
    # Before the first refresh the table is empty: the batch's own P.
    np.testing.assert_allclose(ops.convert_to_numpy(dec.target(q, index)), per_batch, rtol=1e-6)
    table = rng.dirichlet(np.ones(2), size=len(semi)).astype("float32")
    dec.frozen_target.assign(table)
    np.testing.assert_allclose(ops.convert_to_numpy(dec.target(q, index)), table[index], rtol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(dec.target(q)), per_batch, rtol=1e-6)  # no index


@pytest.mark.usefixtures("eager_functions")  # the traced step: the first test's
@pytest.mark.backend_agnostic
def test_dec_passes_the_model_test_with_frozen_targets_and_unlabelled_rows(tiny, tmp_path):
    x, _, semi = tiny
    dec = make_dec(alpha=2.0, reconstruction_weight=0.3, supervised_weight=0.2, disentangle_weight=0.01,
                   target_rows=len(semi))
    refresh = TargetRefresh(x)
    refresh.set_model(dec)
    refresh.refresh()  # dataset-wide frequencies and every row's frozen target, as the first batch of stage 2
    assert np.any(ops.convert_to_numpy(dec.frozen_target) > 0)
    _, predicted = run_model_test(dec, with_index(x), semi, tmp_path,
                                  gradient_free=["self_attention_layer/key/bias"])  # softmax cancels a key bias
    assert set(predicted) == {"z", "q"} and predicted["q"].shape == (len(semi), 2)


@pytest.mark.usefixtures("eager_functions")
@pytest.mark.backend_agnostic
def test_dec_with_a_preprocessor_passes_the_task_test_on_raw_data_with_hidden_labels(tmp_path):
    data = make_raw()
    semi = binary_labels(data.sentiment)
    semi[::3] = UNLABELLED
    backbone = make_backbone()
    dec = run_task_test(SemiSupervisedDEC, backbone, data, tmp_path,
                        dict(decoder=MultimodalDecoder.for_backbone(backbone, hidden_dim=8), target_rows=len(data)),
                        gradient_free=["self_attention_layer/key/bias"], targets=semi)
    inputs, targets = dec.prepare(data, training=True)  # without labels: the dataset's own
    np.testing.assert_array_equal(targets, binary_labels(data.sentiment))
    np.testing.assert_array_equal(inputs[SAMPLE_INDEX], np.arange(len(data)))  # each row's frozen target
    assert SAMPLE_INDEX not in dec.prepare(data)[0]  # validation rows: their batch's own target
    dec.fit(data, semi, epochs=1, verbose=0, callbacks=[TargetRefresh(data, 1)])  # refreshed from the raw data
    np.testing.assert_allclose(ops.convert_to_numpy(dec.frozen_target).sum(axis=1), 1.0, rtol=1e-5)
