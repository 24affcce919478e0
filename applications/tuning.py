"""keras-tuner hyper-models for the classifier and for DEC pre-training + fine-tuning."""

import dataclasses

import keras_tuner

from applications.training import (
    TrainingConfig,
    compile_classifier,
    early_stopping,
    pretrain_dec,
    transfer_encoder,
)
from applications.sentiment_classifier import build_sentiment_classifier

OBJECTIVE = keras_tuner.Objective("val_accuracy", direction="max")


def sample_config(hp, base, dec=False):
    """A `TrainingConfig` whose searched fields come from `hp`.

    Hyper-parameter names are `TrainingConfig` field names, so the best
    values can be written as JSON and read back by `--hyperparameters`.
    """
    num_heads = hp.Choice("num_heads", [2, 4])
    values = dict(
        hidden_dim=hp.Choice("hidden_dim", [32, 64, 128]),
        num_heads=num_heads,
        num_blocks=hp.Int("num_blocks", 1, 3),
        intermediate_dim=hp.Choice("intermediate_dim", [64, 128, 256]),
        dropout=hp.Float("dropout", 0.0, 0.3, step=0.1),
        head_dropout=hp.Float("head_dropout", 0.0, 0.5, step=0.1),
        learning_rate=hp.Float("learning_rate", 1e-5, 1e-3, sampling="log"),
    )
    if dec:
        values.update(
            n_clusters=hp.Choice("n_clusters", [2, 3, 4]),
            dec_learning_rate=hp.Float("dec_learning_rate", 1e-5, 1e-3, sampling="log"),
            dec_alpha=hp.Float("dec_alpha", 0.01, 1.0, sampling="log"),
            dec_beta=hp.Float("dec_beta", 0.1, 2.0, sampling="log"),
            dec_gamma=hp.Choice("dec_gamma", [0.0, 1e-4, 1e-3]),
        )
    return dataclasses.replace(base, **values)


class SentimentClassifierHyperModel(keras_tuner.HyperModel):
    """Searches the §3.2 classifier: widths, heads, blocks, dropout, learning rate.

    The tuner calls `fit(x, y, validation_data=...)` as usual; the objective
    is `val_accuracy` on the validation videos you pass.

    Args:
        feature_dims: dict modality → feature width.
        max_len: sequence length.
        base_config: the `TrainingConfig` whose other fields are kept.
    """

    def __init__(self, feature_dims, max_len, base_config=None, **kwargs):
        super().__init__(**kwargs)
        self.feature_dims = dict(feature_dims)
        self.max_len = max_len
        self.base_config = base_config or TrainingConfig()

    def config(self, hp):
        return sample_config(hp, self.base_config)

    def build(self, hp):
        config = self.config(hp)
        model = build_sentiment_classifier(
            self.feature_dims, self.max_len, head_units=config.head_units,
            head_dropout=config.head_dropout, **config.encoder_kwargs(),
        )
        return compile_classifier(model, config)

    def fit(self, hp, model, *args, callbacks=None, **kwargs):
        callbacks = list(callbacks or []) + [early_stopping(self.base_config.patience)]
        return model.fit(*args, callbacks=callbacks, **kwargs)


class DECHyperModel(SentimentClassifierHyperModel):
    """Searches DEC pre-training + fine-tuning, adding clusters and α, β, γ.

    `fit` first pre-trains a `SemiSupervisedDEC` (stages 1-2, its custom
    loss computed inside `fit`) on `pretrain_x` / `pretrain_y` (every
    training row; `-1` marks unlabelled ones), transfers the encoder into
    the built classifier, then fine-tunes it on the labelled data the tuner
    passes.

    Args:
        pretrain_x, pretrain_y: inputs and semi-supervised labels of all
            training rows.
        pretrain_validation: `(inputs, labels)` of the validation videos.
    """

    def __init__(self, feature_dims, max_len, pretrain_x, pretrain_y, pretrain_validation,
                 base_config=None, **kwargs):
        super().__init__(feature_dims, max_len, base_config, **kwargs)
        self.pretrain_x = pretrain_x
        self.pretrain_y = pretrain_y
        self.pretrain_validation = pretrain_validation

    def config(self, hp):
        return sample_config(hp, self.base_config, dec=True)

    def fit(self, hp, model, *args, **kwargs):
        config = self.config(hp)
        pre = pretrain_dec(
            self.pretrain_x, self.pretrain_y, self.pretrain_validation, config,
            self.feature_dims, self.max_len,
        )
        transfer_encoder(pre["encoder"], model)
        return super().fit(hp, model, *args, **kwargs)


TUNERS = {
    "random": keras_tuner.RandomSearch,
    "bayesian": keras_tuner.BayesianOptimization,
    "hyperband": keras_tuner.Hyperband,
}


def make_tuner(kind, hypermodel, directory, project_name, max_trials=10, max_epochs=50, seed=0):
    """A resumable tuner (`overwrite=False`): rerun with the same directory to continue."""
    if kind not in TUNERS:
        raise ValueError(f"tuner must be one of {sorted(TUNERS)}, got {kind!r}.")
    common = dict(objective=OBJECTIVE, directory=directory, project_name=project_name,
                  overwrite=False, seed=seed)
    if kind == "hyperband":
        return keras_tuner.Hyperband(hypermodel, max_epochs=max_epochs, **common)
    return TUNERS[kind](hypermodel, max_trials=max_trials, **common)
