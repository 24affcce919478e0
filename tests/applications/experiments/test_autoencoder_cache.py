import numpy as np
import pytest

from applications.experiments.config import TrainingConfig
from tests.applications.conftest import DIMS, MAX_LEN, SMALL


@pytest.mark.slow  # run with -m slow; in the default suite: the shared reproduce's autoencoder_reused
def test_stage_one_is_read_back_by_a_run_that_shares_it_with_the_same_result(tmp_path, tiny):
    import keras

    from applications.experiments.dec_pretraining import pretrain_dec

    x, _, semi = tiny
    config = TrainingConfig(backbone=SMALL, decoder_hidden_dim=8, ae_epochs=2, dec_epochs=2, patience=5,
                            kmeans_n_init=1, batch_size=16, run_eagerly=True)

    def pretrain(y, cache):
        keras.utils.set_random_seed(0)
        return pretrain_dec(x, y, (x, y), config, DIMS, MAX_LEN, seed=0, autoencoder_cache=cache)

    trained = pretrain(semi, str(tmp_path))  # trains stage 1 and keeps it
    kept = sorted(path.name for path in tmp_path.iterdir())
    assert len(kept) == 2 and kept[0].endswith(".json") and kept[1].endswith(".weights.h5")
    read = pretrain(semi, str(tmp_path))  # the same run again: stage 1 read back, not trained
    assert read.autoencoder_reused and not trained.autoencoder_reused
    assert read.histories["autoencoder"] == trained.histories["autoencoder"]
    np.testing.assert_allclose(read.dec.predict(x, verbose=0)["q"], trained.dec.predict(x, verbose=0)["q"], atol=1e-6)


def test_stage_one_key_changes_with_what_stage_one_depends_on_only(tiny):
    from applications.experiments.autoencoder_cache import autoencoder_key

    x, _, _ = tiny
    config = TrainingConfig(backbone=SMALL)
    key = autoencoder_key(config, 0, x, x)
    # word_dropout: a backbone argument the key names nowhere (the whole backbone section is in it)
    for changed in ({"ae_learning_rate": 1e-2}, {"hidden_dim": 16}, {"word_dropout": 0.1}, {"ae_early_stopping": True}):
        assert autoencoder_key(config.replace(**changed), 0, x, x) != key
    assert autoencoder_key(config, 1, x, x) != key
    assert autoencoder_key(config, 0, {**x, "text": x["text"] + 1}, x) != key
    for unrelated in (dict(dec_learning_rate=1e-2), dict(dec_cluster_weight=0.0), dict(learning_rate=1e-3)):
        assert autoencoder_key(config.replace(**unrelated), 0, x, x) == key
