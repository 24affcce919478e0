"""One run of an experiment: split, preprocess, train, evaluate, write files."""

import dataclasses
import os
import time

import keras
import numpy as np
from scipy.special import expit

from applications.callbacks import StageProgress
from applications.experiments.config import TrainingConfig, experiment as find_experiment
from applications.experiments.feeding import predict, predict_outputs
from applications.experiments.files import write_atomically, write_history_csv, write_json_atomically
from applications.experiments.folds import train_in_folds
from applications.experiments.schedule import build_backbone, epochs_run, pretrain_dec, train_task, weight_shift
from applications.sentiment_ensemble import average_outputs
from mosi_keras.data import DataError, Preprocessor, binary_labels, semi_supervised_split
from mosi_keras.data.video import video_view
from mosi_keras.evaluation import clustering_metrics, sentiment_metrics
from mosi_keras.losses import UNLABELLED

PAPER_MAX_LEN = 30
AUTOENCODER_DIR = "autoencoders"
"""The folder of `out_dir` where DEC runs keep stage 1 for the runs that share it."""


def evaluate_task(model, dataset, preprocessor=None):
    """`sentiment_metrics` of a sentiment task on `dataset`, prepared by
    `preprocessor` (default: the one the model carries)."""
    return evaluate_tasks([(model, preprocessor or model.preprocessor)], dataset)


def evaluate_tasks(tasks, dataset):
    """`sentiment_metrics` on `dataset` of one sentiment task or of the
    ensemble of several (`segment_outputs`); `tasks` are `(model,
    preprocessor)` pairs, as `load_task` returns them."""
    return sentiment_metrics(dataset.sentiment, segment_outputs(tasks, dataset), predicts_score=predicts_score(tasks))


def predicts_score(tasks):
    """Whether the `(model, preprocessor)` pairs predict scores (regressors)
    rather than logits; a mix of the two cannot be averaged."""
    kinds = {getattr(model, "PREDICTS_SCORE", False) for model, _ in tasks}
    if len(kinds) > 1:
        raise ValueError("an ensemble cannot mix classifiers (logits) and regressors (scores).")
    return kinds.pop()


def segment_outputs(tasks, dataset):
    """The output `(N,)` of each segment of `dataset`: of one task, or the
    mean of several (`average_outputs`: probabilities for classifiers,
    scores for regressors), each task preparing the data with its own
    preprocessor, so models of different splits (seeds) average too.
    Video-level models read the segments grouped by video, in
    `segment_index` order."""
    outputs = [predict_outputs(model, preprocessor.transform(dataset), video_ids=dataset.video_ids,
                               segment_index=dataset.segment_index) for model, preprocessor in tasks]
    if len(outputs) == 1:
        return outputs[0]
    return keras.ops.convert_to_numpy(average_outputs(np.stack(outputs), predicts_score(tasks)))


def predict_segments(tasks, dataset):
    """The prediction of one sentiment task, or of the ensemble of several,
    for each segment of `dataset` (labels not needed).

    Args:
        tasks: `(model, preprocessor)` pairs, as `load_task` returns them.
        dataset: the segments; the file's modalities must be each model's,
            with the widths it was trained on (a `DataError` names the ones
            that differ).

    Returns:
        dict of columns: `segment_id`, `video_id`, then `probability` (of
        positive sentiment, a classifier) or `score` (a regressor), and
        `predicted_class` (1: positive, sentiment ≥ 0; 0: negative).
    """
    given = dataset.feature_dims
    for _, preprocessor in tasks:
        trained = {name: len(stats["min"]) for name, stats in preprocessor.statistics.items()}
        if set(given) != set(trained):
            raise DataError(
                f"{dataset.source}: modalities {sorted(given)} differ from the model's {sorted(trained)}"
                + "".join(f"; {label} {names}" for label, names in (
                    ("missing", sorted(set(trained) - set(given))),
                    ("not in the model", sorted(set(given) - set(trained)))) if names) + "."
            )
    outputs = segment_outputs(tasks, dataset)
    if predicts_score(tasks):
        column, value = "score", outputs
    else:
        column, value = "probability", expit(outputs)  # the logistic function, without overflow
    return {"segment_id": dataset.ids, "video_id": dataset.video_ids, column: value,
            "predicted_class": (outputs >= 0).astype(int)}


def run_name(experiment, label_fraction, seed):
    return f"{experiment}_labels{int(round(label_fraction * 100)):03d}_seed{seed}"


@dataclasses.dataclass
class PreparedExperiment:
    """The split, the fitted preprocessing and the model inputs of one seed."""

    split: object
    preprocessor: Preprocessor
    inputs: dict
    sentiment: np.ndarray
    max_len: int
    video_ids: np.ndarray = None
    segment_index: np.ndarray = None

    @property
    def labels(self):
        """Binary labels of every row (`binary_labels`)."""
        return binary_labels(self.sentiment)

    def rows(self, indices):
        return {k: v[indices] for k, v in self.inputs.items()}

    def labelled(self, part, scores=False):
        """`(inputs, targets)` of the labelled `"train"` or `"val"` rows;
        targets are binary labels, or sentiment scores with `scores=True`."""
        indices = {"train": self.split.labelled_train, "val": self.split.labelled_val}[part]
        return self.rows(indices), (self.sentiment if scores else self.labels)[indices]

    @property
    def labelled_train(self):
        return self.labelled("train")

    @property
    def labelled_val(self):
        return self.labelled("val")

    def semi_supervised_labels(self):
        """Binary labels of the labelled rows, `UNLABELLED` elsewhere."""
        semi = np.full(len(self.sentiment), UNLABELLED)
        for part in (self.split.labelled_train, self.split.labelled_val):
            semi[part] = self.labels[part]
        return semi

    def videos(self, rows, labels=True):
        """A `VideoView` of `rows` (video-level models), with their binary labels."""
        return video_view(self.inputs, self.video_ids, self.segment_index,
                          self.labels if labels else None, rows=rows)

    @property
    def pretrain_train(self):
        return self.rows(self.split.train), self.semi_supervised_labels()[self.split.train]

    @property
    def pretrain_val(self):
        return self.rows(self.split.val), self.semi_supervised_labels()[self.split.val]


def prepare_experiment(dataset, label_fraction=0.4, seed=0):
    """Splits by video, fits the preprocessing on the training rows only and
    transforms every row; the same for every experiment of a seed."""
    split = semi_supervised_split(dataset.video_ids, label_fraction, 0.2, seed)
    # Pad/truncate to the paper's 30 steps, or fewer when the data is shorter
    # (utterance-level features stay at length 1).
    longest = max(array.shape[1] for array in dataset.modalities.values())
    max_len = min(PAPER_MAX_LEN, longest)
    preprocessor = Preprocessor(max_len).fit(dataset.subset(split.train))
    return PreparedExperiment(split, preprocessor, preprocessor.transform(dataset), dataset.sentiment, max_len,
                              dataset.video_ids, dataset.segment_index)


@dataclasses.dataclass
class RunRecord:
    """What `results.json` holds for one run (`to_dict`, `from_dict`)."""

    experiment: str
    label_fraction: float
    seed: int
    params: int
    epochs: dict
    n_train_labelled: int
    n_train_unlabelled: int
    n_val: int
    val: dict
    test: dict = None
    seconds: float = 0.0
    val_all: dict = None  # every validation video, labelled or not (no label of theirs is trained on)
    val_unlabelled: dict = None  # the unlabelled validation videos alone: no training or selection saw their labels
    cv: dict = None  # with folds: the fold models on their held folds of the training videos, averaged
    backbone_shift: float = None  # ‖Δw‖/‖w‖ of the backbone during the task's training
    clustering_val: dict = None  # DEC runs: clusters of the labelled validation rows after stage 2
    clusters: dict = None  # DEC runs: `schedule.cluster_diagnostics` at the start and end of stage 2
    autoencoder_reused: bool = None  # DEC runs: stage 1 read from another run of the seed, not trained

    def to_dict(self):
        """The JSON form: fields that do not apply to this run (None) are left out."""
        return {key: value for key, value in dataclasses.asdict(self).items()
                if value is not None or key == "test"}

    @classmethod
    def from_dict(cls, values):
        return cls(**values)


@dataclasses.dataclass
class RunResult:
    """One finished run: its record and what it trained, in memory.

    Attributes:
        record: the `RunRecord` written to JSON.
        model: the trained sentiment task (it carries its preprocessing).
        dec: the stage-2 `SemiSupervisedDEC` of a DEC run, else `None`.
        prepared: the seed's `PreparedExperiment`.
        histories: Keras histories per stage (`autoencoder`, `clustering`,
            then `classifier` or `regressor`).
    """

    record: RunRecord
    model: keras.Model
    dec: keras.Model
    prepared: PreparedExperiment
    histories: dict


def run_experiment(
    dataset, experiment, label_fraction=0.4, seed=0, config=None, test_dataset=None, out_dir=None, verbose=0,
    log=None, figures=False,
):
    """Trains and evaluates one model under the paper's protocol.

    Whole videos are split into labelled / unlabelled (`label_fraction`),
    then train / validation (80 / 20) within each (`semi_supervised_split`).
    The preprocessing is fitted on the training rows only. The experiment
    (`config.EXPERIMENTS`) names the task (classifier or regressor) and
    whether its backbone is first pre-trained by semi-supervised DEC on every
    training row (labels of the unlabelled part hidden); the task is then
    trained on the labelled training rows, early-stopped on the labelled
    validation videos. It is measured on those (`val`), on every validation
    video (`val_all`: the unlabelled part's validation videos too, whose
    labels are used for nothing else), and on `test_dataset` when given.

    With `log` (a function of one line, e.g. `print`), each stage reports
    its progress there (`callbacks.StageProgress`); `verbose` is `fit`'s.

    Returns:
        A `RunResult`; with `out_dir`, also writes `<run>.keras` (with its
        preprocessing), `<run>_history_<stage>.csv`, with `figures` the
        loss curves and t-SNE plots (`save_figures`), and, last,
        `<run>.json` (its presence marks the run as finished); each file
        through a temporary one renamed into place (`files`).
    """
    setup = find_experiment(experiment)
    config = setup.config(config or TrainingConfig())
    keras.utils.set_random_seed(seed)
    started = time.time()
    prepared = prepare_experiment(dataset, label_fraction, seed)
    split, max_len = prepared.split, prepared.max_len
    scores = setup.task == "regressor"
    contextual = setup.task == "contextual_classifier"  # whole videos: views of the same rows, by video
    if contextual:
        train, validation = prepared.videos(split.labelled_train), prepared.videos(split.labelled_val)
    else:
        train, validation = prepared.labelled("train", scores), prepared.labelled("val", scores)
    histories, epochs = {}, {}
    name = run_name(experiment, label_fraction, seed)

    def progress(stage, stage_epochs):
        return [StageProgress(name, stage, stage_epochs, log)] if log else []

    every_val = prepared.rows(split.val), prepared.labels[split.val]  # measured on, never trained on
    # What the task predicts on: its rows' inputs, or views of their videos.
    val_inputs, val_all_inputs = (
        (validation, prepared.videos(split.val, labels=False)) if contextual else (validation[0], every_val[0]))
    pre = None
    if setup.dec_pretraining:
        pre = pretrain_dec(
            *prepared.pretrain_train, prepared.pretrain_val,
            config, dataset.feature_dims, max_len, seed=seed, verbose=verbose, diagnose=every_val,
            autoencoder_cache=None if out_dir is None else os.path.join(out_dir, AUTOENCODER_DIR),
            progress=progress,
        )
        histories.update(pre.histories)
        epochs.update(pre.epochs)
    backbone = build_backbone(config, dataset.feature_dims, max_len) if pre is None else pre.backbone.clone()
    start = backbone.get_weights()
    learning_rate = None if pre is None else config.finetune_learning_rate
    cv = None
    if config.folds:  # every choice on folds of the labelled training videos; validation only reports
        folds = train_in_folds(
            setup.task, train, dataset.sentiment[split.labelled_train], dataset.video_ids[split.labelled_train],
            config, dataset.feature_dims, max_len, backbone=backbone if pre is not None else None,
            preprocessor=prepared.preprocessor, learning_rate=learning_rate, seed=seed, progress=progress,
        )
        model, cv = folds.model, folds.cv
        histories.update({f"{setup.task}_{name}": values for name, values in folds.histories.items()})
        epochs.update({f"{setup.task}_{name}": count for name, count in folds.epochs.items()})
    else:
        model, history = train_task(
            setup.task, train, validation, config, dataset.feature_dims, max_len, backbone=backbone,
            preprocessor=prepared.preprocessor, verbose=verbose, callbacks=progress(setup.task, config.epochs),
            learning_rate=learning_rate,
        )
        histories[setup.task] = history.history
        epochs[setup.task] = epochs_run(history)
    val_all_outputs = predict_outputs(model, val_all_inputs)  # in the order of split.val
    record = RunRecord(
        experiment=experiment,
        label_fraction=label_fraction,
        seed=seed,
        params=int(model.count_params()),
        epochs=epochs,
        n_train_labelled=int(len(split.labelled_train)),
        n_train_unlabelled=int(len(split.unlabelled_train)),
        n_val=int(len(split.labelled_val)),
        val=sentiment_metrics(dataset.sentiment[split.labelled_val], predict_outputs(model, val_inputs),
                              predicts_score=model.PREDICTS_SCORE),
        val_all=sentiment_metrics(dataset.sentiment[split.val], val_all_outputs, predicts_score=model.PREDICTS_SCORE),
        val_unlabelled=None if not len(split.unlabelled_val) else sentiment_metrics(
            dataset.sentiment[split.unlabelled_val], val_all_outputs[np.isin(split.val, split.unlabelled_val)],
            predicts_score=model.PREDICTS_SCORE),
        cv=cv,
        # Fold models from scratch start from backbones of their own: no one start to measure from.
        backbone_shift=None if config.folds and pre is None else weight_shift(start, model.backbone.get_weights()),
        test=None if test_dataset is None else evaluate_task(model, test_dataset),
        seconds=round(time.time() - started, 1),
    )
    if pre is not None:
        q = predict(pre.dec, prepared.rows(split.labelled_val))["q"]
        record.clustering_val = clustering_metrics(prepared.labels[split.labelled_val], q.argmax(1))
        record.clusters = pre.diagnostics
        record.autoencoder_reused = pre.autoencoder_reused
    result = RunResult(record, model, None if pre is None else pre.dec, prepared, histories)
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
        write_atomically(os.path.join(out_dir, f"{name}.keras"), model.save)
        for stage, values in histories.items():
            write_history_csv(values, os.path.join(out_dir, f"{name}_history_{stage}.csv"))
        if figures:
            save_figures(result, out_dir, name)
        write_json_atomically(record.to_dict(), os.path.join(out_dir, f"{name}.json"))  # last: the run is done
    return result


def save_figures(result, out_dir, name):
    """Fig. 3 (losses) for every run, Fig. 4 (t-SNE of the clustering space) for DEC runs."""
    from applications.experiments.reports import plot_losses, plot_tsne

    plot_losses(result.histories, os.path.join(out_dir, f"{name}_losses.png"), name)
    if result.dec is not None:
        rows, labels = result.prepared.pretrain_train  # every training row; -1 where unlabelled
        out = predict(result.dec, rows)
        plot_tsne(out["z"], out["q"].argmax(1), labels, os.path.join(out_dir, f"{name}_tsne.png"))


def load_task(path, preprocessor_path=None):
    """A saved sentiment task and the preprocessing to feed it.

    Files written since 0.2 carry their preprocessing; for older files (a
    plain functional classifier) pass the `<run>_preprocessor.json` that was
    written beside them.

    Returns:
        `(model, preprocessor)`.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such model file.")
    model = keras.saving.load_model(path, safe_mode=True)
    if preprocessor_path is not None:
        if not os.path.exists(preprocessor_path):
            raise FileNotFoundError(f"{preprocessor_path}: no such preprocessing file.")
        preprocessor = Preprocessor.load(preprocessor_path)
    else:
        preprocessor = getattr(model, "preprocessor", None)
    if preprocessor is None:
        raise ValueError(
            f"{path} carries no preprocessing (saved before mosi_keras 0.2, or built without one): pass "
            "the <run>_preprocessor.json written beside it with --preprocessor, or retrain it with "
            "`mosi-keras train`."
        )
    return model, preprocessor
