"""keras-tuner hyper-models for the classifier and for DEC pre-training + fine-tuning, and the search."""

import dataclasses
import os
import socket

import keras_tuner
import numpy as np

from applications.experiments.config import ConfigError, LABEL_FRACTION, TrainingConfig, check_dec_text_encoder
from applications.experiments.dec_pretraining import pretrain_dec, transfer_modality_encoders
from applications.experiments.files import write_json_atomically
from applications.experiments.folder_lock import FolderLock
from applications.experiments.folds import kept_epochs, mean_metrics, take, video_folds
from applications.experiments.text_states import read_word_states
from applications.experiments.training import build_task, train_task

OBJECTIVE = keras_tuner.Objective("val_accuracy", direction="max")


def sample_config(hp, base, dec=False):
    """A `TrainingConfig` whose searched fields come from `hp`.

    Hyper-parameter names are `TrainingConfig`'s (the backbone's at the top
    level, as `TrainingConfig.replace` takes them), so the best values can
    be written as JSON and read back by `--hyperparameters`.
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
            dec_reconstruction_weight=hp.Float("dec_reconstruction_weight", 0.01, 1.0, sampling="log"),
            dec_supervised_weight=hp.Float("dec_supervised_weight", 0.1, 2.0, sampling="log"),
            dec_disentangle_weight=hp.Choice("dec_disentangle_weight", [0.0, 1e-4, 1e-3]),
        )
    return base.replace(**values)


class SentimentClassifierHyperModel(keras_tuner.HyperModel):
    """Searches the §3.2 classifier: widths, heads, blocks, dropout, learning rate.

    The tuner calls `fit(x, y, validation_data=...)` as usual and a trial
    is trained as a run trains its task (`training.train_task`: early
    stopping or a fixed budget, the rate schedule, EMA). Its objective is
    `val_accuracy` of the weights the run would keep (see `fit`): on the
    validation data passed, or, with `base_config.folds = k` and the
    training rows' `video_ids`, the mean over k video-grouped folds of the
    training rows (each fold model scored on its held fold), so that no
    validation video takes part in the search.

    Args:
        feature_dims: dict modality → feature width.
        max_len: sequence length.
        base_config: the `TrainingConfig` whose other fields are kept.
        video_ids: `(N,)` video of each training row, for `folds`.
        seed: the seed of the folds' shuffle of videos.
    """

    def __init__(self, feature_dims, max_len, base_config=None, video_ids=None, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.feature_dims = dict(feature_dims)
        self.max_len = max_len
        self.base_config = base_config or TrainingConfig()
        self.video_ids = None if video_ids is None else np.asarray(video_ids)
        self.seed = seed
        self.trials_run = 0  # trials this process trained (a distributed worker reports it)

    def config(self, hp):
        return sample_config(hp, self.base_config)

    def build(self, hp):
        """The classifier of `hp`, not compiled yet: `fit` compiles it once
        it knows the steps its rate schedule spans."""
        return build_task("classifier", self.config(hp), self.feature_dims, self.max_len)

    def start(self, hp, model):
        """What a trial's `model` starts from before training: as built
        (`DECHyperModel`: the pre-trained backbone)."""
        return model

    def fit(self, hp, model, x, y, validation_data=None, batch_size=None, callbacks=None, epochs=None,
            verbose=0, initial_epoch=0, **kwargs):
        """Trains `model` (`training.train_task`) and returns the validation
        metrics of the weights it keeps (`{"val_accuracy", "val_loss"}`: of
        the epoch early stopping kept, or of the last epoch of a fixed
        budget, read from the history), so a trial is scored on the model
        a run would keep, not on its luckiest epoch (what keras-tuner takes
        from a `History`). With `folds`, the mean of the fold models'."""
        self.trials_run += 1
        config = dataclasses.replace(self.config(hp), batch_size=batch_size or self.base_config.batch_size,
                                     epochs=epochs or self.base_config.epochs)
        common = dict(callbacks=list(callbacks or []), verbose=verbose)
        if not config.folds:
            return self.score(config, self.start(hp, model), (x, y), validation_data, initial_epoch=initial_epoch,
                              **common)
        if self.video_ids is None:
            raise ValueError("a search on folds needs the training rows' video_ids.")
        if initial_epoch:
            raise ConfigError("a search on folds trains new fold models each trial: Hyperband cannot resume them.")
        return mean_metrics([
            self.score(config, self.start(hp, self.build(hp)), take((x, y), fit), take((x, y), held), **common)
            for fit, held in video_folds(self.video_ids, config.folds, self.seed)])

    def score(self, config, model, train, validation, **kwargs):
        model, history = train_task("classifier", train, validation, config, self.feature_dims, self.max_len,
                                    model=model, **kwargs)
        if validation is None:
            return history
        kept = kept_epochs(history, config) - 1
        return {name: float(values[kept]) for name, values in history.history.items() if name.startswith("val_")}


class DECHyperModel(SentimentClassifierHyperModel):
    """Searches DEC pre-training + fine-tuning, adding clusters and the loss weights.

    `fit` first pre-trains a `SemiSupervisedDEC` (stages 1-2, its custom
    loss computed inside `fit`) on `pretrain_x` / `pretrain_y` (every
    training row; `-1` marks unlabelled ones), then fine-tunes classifiers
    that start from the pre-trained backbone (`start`; the same
    architecture) on the labelled data the tuner passes. With a text
    encoder in `base_config`, stages 1-2 read its cached word states
    (`pretrain_x` holds them, `pretrain_dims` their width) and each
    classifier, built with the live encoder, starts from the pre-trained
    modality encoders (`dec_pretraining.transfer_modality_encoders`), as a
    `reproduce --experiments dec --text-encoder` run does.

    Args:
        pretrain_x, pretrain_y: inputs and semi-supervised labels of all
            training rows.
        pretrain_validation: `(inputs, labels)` of the validation videos.
        pretrain_dims: dict modality → width of `pretrain_x`'s features;
            defaults to `feature_dims`.
    """

    def __init__(self, feature_dims, max_len, pretrain_x, pretrain_y, pretrain_validation,
                 base_config=None, pretrain_dims=None, **kwargs):
        super().__init__(feature_dims, max_len, base_config, **kwargs)
        self.pretrain_x = pretrain_x
        self.pretrain_y = pretrain_y
        self.pretrain_validation = pretrain_validation
        self.pretrain_dims = dict(pretrain_dims or feature_dims)
        self.pretrained = None

    def config(self, hp):
        return sample_config(hp, self.base_config, dec=True)

    def start(self, hp, model):
        transfer_modality_encoders(self.pretrained, model.backbone)
        return model

    def fit(self, hp, model, *args, **kwargs):
        pre = pretrain_dec(
            self.pretrain_x, self.pretrain_y, self.pretrain_validation,
            self.config(hp), self.pretrain_dims, self.max_len,
        )
        self.pretrained = pre.backbone
        return super().fit(hp, model, *args, **kwargs)


TUNERS = {
    "random": keras_tuner.RandomSearch,
    "bayesian": keras_tuner.BayesianOptimization,
    "hyperband": keras_tuner.Hyperband,
}


def make_tuner(kind, hypermodel, directory, project_name, max_trials=10, max_epochs=50, seed=0):
    """A resumable tuner (`overwrite=False`): rerun with the same directory to continue."""
    if kind not in TUNERS:
        raise ConfigError(f"tuner must be one of {sorted(TUNERS)}, got {kind!r}.")
    common = dict(objective=OBJECTIVE, directory=directory, project_name=project_name,
                  overwrite=False, seed=seed)
    if kind == "hyperband":
        return keras_tuner.Hyperband(hypermodel, max_epochs=max_epochs, **common)
    return TUNERS[kind](hypermodel, max_trials=max_trials, **common)


def distributed_role(environ=None):
    """`"chief"`, `"worker"` or `None`, read from keras-tuner's own variables.

    keras-tuner spreads a search over processes with a chief oracle (a gRPC
    server) and workers that ask it for trials: every process runs the same
    search with `KERASTUNER_ORACLE_IP` / `KERASTUNER_ORACLE_PORT` (the
    chief's address) and its own `KERASTUNER_TUNER_ID`; the one whose id
    contains `"chief"` is the chief. Without `KERASTUNER_ORACLE_IP` the
    search runs in one process (`None`). `environ`: the variables to read
    (default `os.environ`).

    Raises:
        ValueError: the address is set without the other variables, or the
            port is not a number (keras-tuner would raise a bare
            `RuntimeError` deep in the tuner).
    """
    environ = os.environ if environ is None else environ
    if "KERASTUNER_ORACLE_IP" not in environ:
        return None
    missing = [name for name in ("KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID") if not environ.get(name)]
    if missing:
        raise ConfigError(f"a distributed search needs {' and '.join(missing)} beside KERASTUNER_ORACLE_IP "
                          "(or the flags --oracle HOST:PORT and --tuner-id ID).")
    if not environ["KERASTUNER_ORACLE_PORT"].isdigit():
        raise ConfigError(f"KERASTUNER_ORACLE_PORT must be a port number, got {environ['KERASTUNER_ORACLE_PORT']!r}.")
    return "chief" if "chief" in environ["KERASTUNER_TUNER_ID"] else "worker"


def check_port_free():
    """Raises a `ValueError` naming the address when the chief could not
    listen on it (gRPC would fail later with a bare `RuntimeError`)."""
    address = (os.environ["KERASTUNER_ORACLE_IP"], int(os.environ["KERASTUNER_ORACLE_PORT"]))
    try:
        with socket.create_server(address):
            pass
    except OSError as error:
        raise ConfigError(f"the chief cannot listen on {address[0]}:{address[1]}: {error.strerror or error}; "
                          "choose another port with --oracle HOST:PORT.") from None


def search(dataset, model="classifier", tuner="random", out_dir="runs/tune", max_trials=10, epochs=100,
           label_fraction=LABEL_FRACTION, seed=0, base_config=None, verbose=0):
    """A resumable search on one seed's split; writes and returns the best.

    The tuner trains on the labelled training videos and scores
    `val_accuracy` on the labelled validation videos, or, with
    `base_config.folds`, on folds of the labelled training videos alone
    (the validation videos are then not passed to the tuner at all).
    `model="dec"` also pre-trains on every training row first.

    On several processes or machines (`distributed_role`), each runs this
    same call: the chief serves the oracle until every trial has ended
    (it trains nothing), then writes the best; each worker runs the trials
    the chief hands it, writing their folders under `out_dir`, and returns
    when none is left. A worker killed mid-trial and started again with
    the same `KERASTUNER_TUNER_ID` is handed the same trial again; the
    trials that had ended are kept by the chief.

    Returns:
        `(path, summary)`: the JSON file written in `out_dir` and its
        content (`hyperparameters` as a whole `TrainingConfig`, the
        `searched` values, the best `val_accuracy`, `trials`). On a worker:
        `(None, {"role": "worker", "tuner_id", "trials"})`, `trials` being
        those this worker ran.

    One search at a time writes to `out_dir` (`FolderLock`): a second is
    refused with a message naming the first's process. In a distributed
    search the chief holds it; workers, which write only their own trials'
    folders, take no lock.
    """
    args = (dataset, model, tuner, out_dir, max_trials, epochs, label_fraction, seed, base_config, verbose)
    role = distributed_role()
    if role == "worker":
        return search_in(*args, role=role)
    if role == "chief":
        check_port_free()
    with FolderLock(out_dir, "mosi-keras tune" + (" (chief)" if role else "")):
        return search_in(*args, role=role)


def search_in(dataset, model, tuner, out_dir, max_trials, epochs, label_fraction, seed, base_config, verbose,
              role=None):
    """`search`, once `out_dir` is held (or, on a worker, not needed)."""
    from applications.experiments.preparation import prepare_experiment

    base = base_config or TrainingConfig()
    if model == "dec":
        check_dec_text_encoder(base, "a DEC search")
    prepared = prepare_experiment(dataset, label_fraction, seed, base.text_encoder)
    folds = dict(video_ids=dataset.video_ids[prepared.split.labelled_train], seed=seed)
    if base.folds:
        video_folds(folds["video_ids"], base.folds, seed)  # too few videos: a named error before any trial
    if model == "dec":
        read_word_states(prepared, base.text_encoder, out_dir)  # stages 1-2 read them, computed once
        hypermodel = DECHyperModel(prepared.feature_dims, prepared.max_len, *prepared.pretrain_train,
                                   prepared.pretrain_val, base_config=base, pretrain_dims=prepared.dec_feature_dims,
                                   **folds)
    else:
        hypermodel = SentimentClassifierHyperModel(prepared.feature_dims, prepared.max_len, base_config=base, **folds)
    searcher = make_tuner(tuner, hypermodel, out_dir, f"{model}_{tuner}", max_trials=max_trials,
                          max_epochs=epochs, seed=seed)
    (x, y), (x_val, y_val) = prepared.labelled_train, prepared.labelled_val
    validation = None if base.folds else (x_val, y_val.astype("float32"))  # folds: no validation video is read
    searcher.search(x, y.astype("float32"), validation_data=validation,
                    epochs=epochs, batch_size=base.batch_size, verbose=verbose)
    if role == "worker":  # the chief may already be gone: ask it nothing more
        return None, {"role": "worker", "tuner_id": searcher.tuner_id, "trials": hypermodel.trials_run}
    best = searcher.get_best_hyperparameters(1)[0]
    summary = {"hyperparameters": hypermodel.config(best).to_dict(), "searched": best.values,
               "val_accuracy": searcher.oracle.get_best_trials(1)[0].score,
               "scored_on": f"{base.folds} folds of the training videos" if base.folds else "the validation videos",
               "trials": len(searcher.oracle.trials)}
    path = os.path.join(out_dir, f"best_hyperparameters_{model}_{tuner}.json")
    write_json_atomically(summary, path)
    return path, summary
