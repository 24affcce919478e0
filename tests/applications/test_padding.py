"""Masks make a batch's results independent of how far it is padded."""

import keras
import numpy as np
import pytest
from keras import ops

from applications import MultimodalBackbone, MultimodalDecoder, SemiSupervisedDEC, SentimentClassifier
from mosi_keras.data import Preprocessor, make_synthetic_mosi
from tests.applications.conftest import SMALL

pytestmark = pytest.mark.backend_agnostic

DIMS = {"text": 6, "audio": 4}
MAX_LEN = 12


@pytest.fixture(scope="module")
def batch():
    """One batch padded to MAX_LEN, and the same batch cut to its own longest row (7 steps)."""
    data = make_synthetic_mosi(n_videos=4, segments_per_video=(4, 4), max_len=7, feature_dims=DIMS,
                               signal=(1.0, 1.0), seed=3)
    full = Preprocessor(MAX_LEN).fit(data).transform(data)
    own = {name: value[:, :7] for name, value in full.items()}
    return full, own, (data.sentiment >= 0).astype("float32")


def one_step(model, x, y):
    """(loss, outputs before the step, weight change / learning rate: the gradient's negative)."""
    before = [ops.convert_to_numpy(w).copy() for w in model.trainable_weights]
    outputs = keras.tree.map_structure(ops.convert_to_numpy, model(x, training=False))
    loss = model.train_on_batch(x, y)
    after = [ops.convert_to_numpy(w) for w in model.trainable_weights]
    return np.asarray(loss), outputs, [(a - b) / 0.1 for a, b in zip(after, before)]


def build(kind):
    keras.utils.set_random_seed(1)
    backbone = MultimodalBackbone(DIMS, MAX_LEN, **SMALL)
    if kind == "classifier":
        model = SentimentClassifier(backbone, head_units=(8,), head_dropout=0.0)
        model.compile(optimizer=keras.optimizers.SGD(0.1))
    else:
        model = SemiSupervisedDEC(backbone, MultimodalDecoder.for_backbone(backbone, hidden_dim=8),
                                  reconstruction_weight=1.0, supervised_weight=0.5, disentangle_weight=0.01)
        model.compile(optimizer=keras.optimizers.SGD(0.1))
    return model


@pytest.mark.parametrize("kind", ["classifier", "dec"])
def test_loss_predictions_and_gradients_do_not_depend_on_the_padding(batch, kind):
    full, own, labels = batch
    y = labels if kind == "classifier" else labels.astype("int32")
    loss_full, out_full, grads_full = one_step(build(kind), full, y)
    loss_own, out_own, grads_own = one_step(build(kind), own, y)
    np.testing.assert_allclose(loss_own, loss_full, atol=1e-5)
    if kind == "dec":
        out_full = {k: out_full[k] for k in ("z", "q")}
        out_own = {k: out_own[k] for k in ("z", "q")}
    keras.tree.map_structure(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-5), out_own, out_full)
    for a, b in zip(grads_own, grads_full):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert any(np.abs(g).max() > 1e-3 for g in grads_full)  # the step did move the weights


def test_a_text_encoders_tokens_cut_per_batch_give_the_same_loss_predictions_and_gradients(tiny_bert_preset,
                                                                                         eager_functions):
    """Tokens padded to the file's longest transcript, and the same rows cut
    to their own longest (what `LengthBucketedBatches` serves a fine-tuned
    text encoder): the same step, to float tolerance."""
    from mosi_keras.data import LengthBucketedBatches
    from mosi_keras.transcript_tokenizer import TranscriptTokenizer
    from tests.text_encoder_testing import tiny_bert, with_transcripts

    data = with_transcripts(make_synthetic_mosi(n_videos=4, segments_per_video=(4, 4), max_len=7,
                                                feature_dims={"audio": 4}, signal=(1.0,), seed=3))
    tokenizer = TranscriptTokenizer.from_preset(tiny_bert_preset, max_words=MAX_LEN)
    full = Preprocessor(MAX_LEN, tokenizer).fit(data).transform(data)
    full = {name: np.pad(value, ((0, 0), (0, 6)), constant_values=-1 if name == "text_word_index" else 0)
            if name.startswith("text_") else value for name, value in full.items()}  # a longer transcript's width
    batches = LengthBucketedBatches(full, np.arange(len(data)), batch_size=4, shuffle=False)
    assert min(x["text_token_ids"].shape[1] for x, _ in batches) < full["text_token_ids"].shape[1] - 6

    def build_model():
        keras.utils.set_random_seed(1)
        encoder = tiny_bert(tiny_bert_preset)
        for layer in encoder._flatten_layers():  # no dropout: a training step is then the same on any padding
            if isinstance(layer, keras.layers.Dropout):
                layer.rate = 0.0
        backbone = MultimodalBackbone({"audio": 4}, MAX_LEN, text_encoder=encoder, **SMALL)
        model = SentimentClassifier(backbone, head_units=(8,), head_dropout=0.0)
        model.compile(optimizer=keras.optimizers.SGD(0.1))
        return model

    labels = (data.sentiment >= 0).astype("float32")
    for x, rows in (batches[0], batches[len(batches) - 1]):  # the narrowest bucket and the widest
        loss_cut, out_cut, grads_cut = one_step(build_model(), x, labels[rows])
        loss_full, out_full, grads_full = one_step(build_model(), {k: v[rows] for k, v in full.items()}, labels[rows])
        np.testing.assert_allclose(loss_cut, loss_full, atol=1e-5)
        np.testing.assert_allclose(out_cut, out_full, atol=1e-5)
        for a, b in zip(grads_cut, grads_full):
            np.testing.assert_allclose(a, b, atol=1e-4)
