import numpy as np
import pytest
from keras import ops

from tests.applications.conftest import DIMS, MAX_LEN, make_backbone
from tests.conftest import save_and_reload


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
