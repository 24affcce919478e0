import os

import numpy as np
import pytest

import keras
from keras import ops

from applications import (
    MultimodalBackbone,
    MultimodalDecoder,
    SemiSupervisedDEC,
    SentimentClassifier,
    SentimentRegressor,
)
from mosi_keras.data import Preprocessor, load_dataset, make_synthetic_mosi
from tests.applications.conftest import DIMS, MAX_LEN, SMALL, make_backbone, make_backbone_decoder
from tests.conftest import FIXTURES, save_and_reload

V0_1 = os.path.join(FIXTURES, "v0_1")


def test_backbone_config_holds_its_hyperparameters_and_rebuilds_it(tiny):
    x, _, _ = tiny
    backbone = make_backbone(num_blocks=1)
    config = backbone.get_config()
    assert {k: config[k] for k in ("feature_dims", "max_len", "hidden_dim", "num_blocks")} == {
        "feature_dims": DIMS, "max_len": MAX_LEN, "hidden_dim": 8, "num_blocks": 1}
    twin = backbone.clone()
    assert twin.get_config() == config and twin is not backbone
    np.testing.assert_allclose(ops.convert_to_numpy(twin(x)), ops.convert_to_numpy(backbone(x)), atol=1e-6)
    twin.weights[0].assign(twin.weights[0] + 1.0)  # a clone's weights are its own
    assert not np.allclose(ops.convert_to_numpy(twin.weights[0]), ops.convert_to_numpy(backbone.weights[0]))


def test_classifier_default_size_is_within_five_percent_of_the_paper():
    model = SentimentClassifier(MultimodalBackbone({"text": 300, "audio": 74, "visual": 35}))
    assert abs(model.count_params() - 851_713) / 851_713 < 0.05


def test_classifier_compiles_with_the_papers_defaults():
    model = SentimentClassifier(make_backbone())
    model.compile()
    assert float(ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(4e-5)
    assert model.optimizer.weight_decay == pytest.approx(1e-2)
    assert isinstance(model.loss, keras.losses.BinaryCrossentropy) and model.loss.from_logits


@pytest.mark.backend_agnostic
@pytest.mark.parametrize("task,target", [(SentimentClassifier, "labels"), (SentimentRegressor, "scores")])
def test_task_outputs_one_value_per_row_and_learns(tiny, task, target):
    x, labels, _ = tiny
    y = labels.astype("float32") if target == "labels" else (labels * 4.0 - 2.0).astype("float32")
    model = task(make_backbone())
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    assert tuple(model(x).shape) == (48, 1)
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_regressor_trains_with_the_l1_loss():
    model = SentimentRegressor(make_backbone())
    model.compile()
    assert isinstance(model.loss, keras.losses.MeanAbsoluteError)
    assert SentimentRegressor.PREDICTS_SCORE and not SentimentClassifier.PREDICTS_SCORE


def test_task_built_on_a_backbone_trains_that_backbone(tiny):
    x, labels, _ = tiny
    backbone = make_backbone()
    before = [w.copy() for w in backbone.get_weights()]
    model = SentimentClassifier(backbone)
    assert model.backbone is backbone
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(x, labels.astype("float32"), epochs=1, batch_size=48, verbose=0)
    assert any(not np.allclose(a, b) for a, b in zip(before, backbone.get_weights()))


@pytest.mark.backend_agnostic
@pytest.mark.parametrize("task", [SentimentClassifier, SentimentRegressor])
def test_task_file_carries_its_hyperparameters_and_preprocessing(tiny, tmp_path, task):
    x, labels, _ = tiny
    data = make_synthetic_mosi(n_videos=2, segments_per_video=(3, 3), max_len=MAX_LEN, feature_dims=DIMS)
    preprocessor = Preprocessor(MAX_LEN).fit(data)
    model = task(make_backbone(), head_units=(8, 4), head_dropout=0.2, preprocessor=preprocessor)
    model.compile()
    model.fit(x, labels.astype("float32"), epochs=1, batch_size=48, verbose=0)
    reloaded = save_and_reload(model, tmp_path)
    assert type(reloaded) is task
    assert (reloaded.head_units, reloaded.head_dropout) == ((8, 4), 0.2)
    assert reloaded.backbone.get_config() == model.backbone.get_config()
    np.testing.assert_allclose(reloaded.preprocessor.transform(data)["text"],
                               preprocessor.transform(data)["text"], atol=1e-6)
    np.testing.assert_allclose(
        ops.convert_to_numpy(reloaded.predict(x, verbose=0)), ops.convert_to_numpy(model.predict(x, verbose=0)),
        atol=1e-5,
    )


def test_classifier_file_from_0_1_still_loads_and_predicts_the_same():
    model = keras.saving.load_model(os.path.join(V0_1, "classifier.keras"), safe_mode=True)
    preprocessor = Preprocessor.load(os.path.join(V0_1, "classifier_preprocessor.json"))
    x = preprocessor.transform(load_dataset(os.path.join(V0_1, "data.npz")))
    np.testing.assert_allclose(ops.convert_to_numpy(model.predict(x, verbose=0)),
                               np.load(os.path.join(V0_1, "classifier_logits.npy")), atol=1e-5)


def test_dec_file_from_0_1_fails_with_how_to_rebuild_it():
    with pytest.raises(ValueError, match="saved by mosi_keras 0.1.*reconstruction_weight=<alpha>"):
        keras.saving.load_model(os.path.join(V0_1, "dec.keras"), safe_mode=True)


def test_dec_refuses_the_old_argument_names_and_names_the_new_ones():
    backbone, decoder = make_backbone_decoder()
    with pytest.raises(TypeError, match="`beta` is now `supervised_weight`.*`gamma` is now `disentangle_weight`"):
        SemiSupervisedDEC(backbone, decoder, beta=0.5, gamma=0.0)


def test_decoder_emits_the_masks_length_and_rebuilds_from_its_config(tiny):
    x, _, _ = tiny
    backbone, decoder = make_backbone_decoder()
    masks = {f"{name}_mask": ops.convert_to_tensor(x[f"{name}_mask"]) for name in DIMS}
    outputs = decoder({"z": backbone(x), **masks})
    for name, dim in DIMS.items():
        assert tuple(outputs[name].shape) == (48, MAX_LEN, dim)
    short = decoder({"z": backbone(x), **{k: v[:, :3] for k, v in masks.items()}})
    for name in DIMS:  # as many steps as the masks, each step the same as in the longer batch
        np.testing.assert_allclose(ops.convert_to_numpy(short[name]),
                                   ops.convert_to_numpy(outputs[name])[:, :3], atol=1e-6)
    twin = MultimodalDecoder.from_config(decoder.get_config())
    assert twin.count_params() == decoder.count_params()
    assert decoder.latent_dim == 3 * SMALL["hidden_dim"]


@pytest.mark.backend_agnostic
def test_backbone_dropouts_are_off_at_inference_and_saved_with_it(tiny, tmp_path):
    x, _, _ = tiny
    plain = make_backbone(dropout=0.0)
    noisy = make_backbone(dropout=0.0, word_dropout=0.5, modality_dropout=0.5)
    noisy.set_weights(plain.get_weights())  # the dropouts add no weights
    np.testing.assert_allclose(ops.convert_to_numpy(noisy(x)), ops.convert_to_numpy(plain(x)), atol=1e-6)
    assert ops.convert_to_numpy(noisy(x, training=True)).tolist() != ops.convert_to_numpy(noisy(x)).tolist()
    reloaded = save_and_reload(noisy, tmp_path)
    assert (reloaded.word_dropout, reloaded.modality_dropout) == (0.5, 0.5)
    np.testing.assert_allclose(ops.convert_to_numpy(reloaded(x)), ops.convert_to_numpy(noisy(x)), atol=1e-6)


def test_modality_dropout_zeroes_whole_embeddings_of_a_row(tiny):
    x, _, _ = tiny
    backbone = make_backbone(dropout=0.0, modality_dropout=0.5)
    z = ops.convert_to_numpy(backbone(x, training=True)).reshape(len(x["text"]), len(DIMS), -1)
    zeroed = np.all(z == 0.0, axis=2)  # (rows, modalities)
    assert 0.3 < zeroed.mean() < 0.7
    kept = ops.convert_to_numpy(backbone(x)).reshape(z.shape)
    np.testing.assert_allclose(z[~zeroed], 2.0 * kept[~zeroed], rtol=1e-5, atol=1e-6)  # kept ones scaled by 1/(1-p)
