import numpy as np
import pytest

import keras
from keras import ops

from applications import build_multimodal_autoencoder, build_sentiment_classifier
from applications.training import TrainingConfig, compile_classifier, transfer_encoder
from tests.applications.conftest import DIMS, MAX_LEN, SMALL, make_encoder_decoder
from tests.conftest import save_and_reload



def test_classifier_default_size_is_within_five_percent_of_the_paper():
    model = build_sentiment_classifier({"text": 300, "audio": 74, "visual": 35})
    assert abs(model.count_params() - 851_713) / 851_713 < 0.05


@pytest.mark.backend_agnostic
def test_classifier_outputs_one_logit_and_learns(tiny):
    x, labels, _ = tiny
    model = build_sentiment_classifier(DIMS, MAX_LEN, **SMALL)
    compile_classifier(model, TrainingConfig(learning_rate=1e-2, weight_decay=0.0))
    assert tuple(model(x).shape) == (48, 1)
    history = model.fit(x, labels.astype("float32"), epochs=8, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_autoencoder_reconstructs_every_modality_with_the_given_encoder(tiny):
    x, _, _ = tiny
    encoder, _ = make_encoder_decoder()
    autoencoder, same_encoder, _ = build_multimodal_autoencoder(DIMS, MAX_LEN, encoder=encoder)
    assert same_encoder is encoder
    outputs = autoencoder(x)
    for name, dim in DIMS.items():
        assert tuple(outputs[name].shape) == (48, MAX_LEN, dim)
    assert tuple(outputs["z"].shape) == (48, 3 * SMALL["hidden_dim"])


@pytest.mark.backend_agnostic
def test_transfer_copies_exactly_the_encoder_weights_and_nothing_else(tiny):
    x, _, _ = tiny
    pretrained, _ = make_encoder_decoder()
    for variable in pretrained.weights:
        variable.assign(variable + 0.5)
    classifier = build_sentiment_classifier(DIMS, MAX_LEN, **SMALL)
    encoder = classifier.get_layer("multimodal_encoder")
    head_before = {
        v.path: ops.convert_to_numpy(v).copy() for v in classifier.weights
        if not any(v is w for w in encoder.weights)
    }
    transfer_encoder(pretrained, classifier)
    for source, target in zip(pretrained.weights, encoder.weights):
        np.testing.assert_array_equal(ops.convert_to_numpy(source), ops.convert_to_numpy(target))
    for v in classifier.weights:
        if v.path in head_before:
            np.testing.assert_array_equal(ops.convert_to_numpy(v), head_before[v.path])
    assert len(head_before) == len(classifier.weights) - len(encoder.weights) > 0


def test_transfer_refuses_a_different_architecture():
    pretrained, _ = make_encoder_decoder()
    classifier = build_sentiment_classifier(DIMS, MAX_LEN, hidden_dim=16, num_heads=2)
    with pytest.raises(ValueError, match="differ in architecture"):
        transfer_encoder(pretrained, classifier)


@pytest.mark.backend_agnostic
def test_classifier_survives_keras_save_and_safe_load(tiny, tmp_path):
    x, labels, _ = tiny
    model = build_sentiment_classifier(DIMS, MAX_LEN, **SMALL)
    compile_classifier(model, TrainingConfig())
    model.fit(x, labels.astype("float32"), epochs=1, batch_size=48, verbose=0)
    reloaded = save_and_reload(model, tmp_path)
    np.testing.assert_allclose(
        ops.convert_to_numpy(reloaded.predict(x, verbose=0)),
        ops.convert_to_numpy(model.predict(x, verbose=0)), atol=1e-5,
    )


def test_training_config_round_trips_and_rejects_unknown_names():
    config = TrainingConfig(hidden_dim=32, head_units=(8, 4))
    assert TrainingConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="hiddn_dim"):
        TrainingConfig.from_dict({"hiddn_dim": 3})
