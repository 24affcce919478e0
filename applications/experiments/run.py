"""One run of an experiment: split, preprocess, train, evaluate, write files."""

import dataclasses
import os
import time

import keras
import numpy as np
from scipy.special import expit

from applications.batching import PREDICT_BATCH_SIZE
from applications.experiments.config import ConfigError, LABEL_FRACTION, TrainingConfig, experiment as find_experiment
from applications.experiments.dec_pretraining import pretrain_dec, transfer_modality_encoders
from applications.experiments.diagnostics import weight_shift
from applications.experiments.inference import is_video_model, predict_outputs
from applications.experiments.files import write_atomically, write_history_csv, write_json_atomically
from applications.experiments.folds import train_in_folds
from applications.experiments.inference import evaluate_tasks
from applications.experiments.preparation import PreparedExperiment, prepare_experiment
from applications.experiments.progress import StageProgress
from applications.experiments.text_states import read_word_states
from applications.experiments.training import build_backbone, build_task, epochs_run, train_task
from mosi_keras.evaluation import clustering_metrics, sentiment_metrics

AUTOENCODER_DIR = "autoencoders"
"""The folder of `out_dir` where DEC runs keep stage 1 for the runs that share it."""


def run_name(experiment, label_fraction, seed):
    return f"{experiment}_labels{int(round(label_fraction * 100)):03d}_seed{seed}"


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
    val: dict = None  # the labelled validation videos; none in a k-fold pooled record (`kfold` holds its rows)
    test: dict = None
    seconds: float = 0.0
    val_all: dict = None  # every validation video, labelled or not (no label of theirs is trained on)
    val_unlabelled: dict = None  # the unlabelled validation videos alone: no training or selection saw their labels
    cv: dict = None  # with folds: the fold models on their held folds of the training videos, averaged
    backbone_shift: float = None  # ‖Δw‖/‖w‖ of the backbone during the task's training
    clustering_val: dict = None  # DEC runs: clusters of the labelled validation rows after stage 2
    clusters: dict = None  # DEC runs: `diagnostics.cluster_diagnostics` at the start and end of stage 2
    autoencoder_reused: bool = None  # DEC runs: stage 1 read from another run of the seed, not trained
    kfold: dict = None  # the k-fold yardstick: every row, predicted by the fold model that never saw its video
    folds: int = None  # the k-fold yardstick: the folds pooled (`kfold.py`); their own val stay in their records

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
    dataset, experiment, label_fraction=LABEL_FRACTION, seed=0, config=None, test_dataset=None, out_dir=None,
    verbose=0, log=None, figures=False, name=None, unlabelled=None, cache_dir=None,
):
    """Trains and evaluates one model under the paper's protocol.

    Whole videos are split into labelled / unlabelled (`label_fraction`),
    then train / validation (80 / 20) within each (`semi_supervised_split`).
    The preprocessing is fitted on the training rows only. The experiment
    (`config.EXPERIMENTS`) names the task (classifier or regressor) and
    whether its backbone is first pre-trained by semi-supervised DEC on every
    training row (labels of the unlabelled part hidden); the task is then
    trained on the labelled training rows (`fit_task`). It is measured on
    the labelled validation videos (`val`), on every validation video
    (`val_all`: the unlabelled part's validation videos too, whose labels
    are used for nothing else), and on `test_dataset` when given
    (`measure`).

    With `log` (a function of one line, e.g. `print`), each stage reports
    its progress there (`progress.StageProgress`) under `name` (default
    `run_name`, also the stem of its files); `verbose` is `fit`'s. With
    `unlabelled` (a dataset from elsewhere, its labels never read), its rows
    join the unlabelled training rows of every semi-supervised experiment
    (`preparation.with_unlabelled`); the baseline never reads them.
    DEC's stage 1 and a text encoder's word states are kept under
    `cache_dir` (default `out_dir`) for the runs that share them.

    Returns:
        A `RunResult`; with `out_dir`, also writes its files (`write_run`).
    """
    setup = find_experiment(experiment)
    config = setup.config(config or TrainingConfig())
    keras.utils.set_random_seed(seed)
    started = time.time()
    prepared = prepare_experiment(dataset, label_fraction, seed, config.text_encoder, unlabelled)
    name = name or run_name(experiment, label_fraction, seed)

    def progress(stage, stage_epochs):
        return [StageProgress(name, stage, stage_epochs, log)] if log else []

    split = prepared.split
    pre = None
    if setup.dec_pretraining:
        cache_dir = out_dir if cache_dir is None else cache_dir
        read_word_states(prepared, config.text_encoder, cache_dir)  # stages 1-2 read them, computed once
        pre = pretrain_dec(
            *prepared.pretrain_train, prepared.pretrain_val, config, prepared.dec_feature_dims, prepared.max_len,
            seed=seed, verbose=verbose,
            diagnose=(prepared.dec_rows(split.val), prepared.labels[split.val]),
            autoencoder_cache=None if cache_dir is None else os.path.join(cache_dir, AUTOENCODER_DIR),
            progress=progress,
        )
    trained = fit_task(setup.task, prepared, config, pre, seed, verbose, progress)
    if setup.self_training:
        trained = self_train(trained, setup.task, prepared, config, verbose, progress, pre)
    record = RunRecord(experiment=experiment, label_fraction=label_fraction, seed=seed,
                       **measure(trained, prepared, pre, test_dataset))
    record.seconds = round(time.time() - started, 1)
    histories = {**(pre.histories if pre else {}), **trained.histories}
    result = RunResult(record, trained.model, None if pre is None else pre.dec, prepared, histories)
    if out_dir is not None:
        write_run(result, out_dir, name, figures)
    return result


@dataclasses.dataclass
class TrainedTask:
    """What `fit_task` returns: the task, its histories and epochs per
    stage, the held-fold estimate (with folds) and how far the backbone
    moved (`weight_shift`; `None` for fold models from scratch, which have
    no one start)."""

    model: keras.Model
    histories: dict
    epochs: dict
    cv: dict = None
    backbone_shift: float = None


def fit_task(task, prepared, config, pre=None, seed=0, verbose=0, progress=None):
    """Trains the run's task on the labelled training rows of `prepared`
    (the semi-supervised classifier: on the unlabelled ones too, labels hidden):
    on a new backbone (the baseline) or on a clone of DEC's (`pre`, a
    `DECPretraining`: the fine-tuning of §4.3, at `finetune_learning_rate`);
    with `config.folds`, on folds of the training videos (`train_in_folds`),
    the validation videos then only measured; else with `train_task`."""
    split, max_len, dims = prepared.split, prepared.max_len, prepared.feature_dims
    if task == "contextual_classifier":  # whole videos: views of the same rows, by video
        train, validation = prepared.videos(split.labelled_train), prepared.videos(split.labelled_val)
    elif task == "semi_supervised_classifier":  # every training row; UNLABELLED (-1) where its label is hidden
        if config.folds:
            raise ConfigError("consistency training trains on the validation videos' schedule (folds=0).")
        rows = np.concatenate([split.labelled_train, split.unlabelled_train])
        train, validation = (prepared.rows(rows), prepared.semi_supervised_labels()[rows]), prepared.labelled("val")
    else:
        scores = task == "regressor"
        train, validation = prepared.labelled("train", scores), prepared.labelled("val", scores)
    backbone = start_backbone(config, prepared, pre)
    start = backbone.get_weights()
    learning_rate = None if pre is None else config.finetune_learning_rate
    progress = progress or (lambda stage, epochs: [])
    if config.folds:  # every choice on folds of the labelled training videos; validation only reports
        folds = train_in_folds(
            task, train, prepared.sentiment[split.labelled_train], prepared.video_ids[split.labelled_train],
            config, dims, max_len, backbone=backbone if pre is not None else None,
            preprocessor=prepared.preprocessor, learning_rate=learning_rate, seed=seed, progress=progress,
        )
        trained = TrainedTask(folds.model, {f"{task}_{name}": values for name, values in folds.histories.items()},
                              {f"{task}_{name}": count for name, count in folds.epochs.items()}, folds.cv)
    else:
        model = None
        if task == "semi_supervised_classifier" and config.cluster_weight:  # DEC's clustering term kept
            model = build_task(task, config, dims, max_len, backbone, prepared.preprocessor)
            model.clustering.set_weights(pre.dec.clustering.get_weights())  # on DEC's centroids
        model, history = train_task(
            task, train, validation, config, dims, max_len, backbone=backbone, preprocessor=prepared.preprocessor,
            verbose=verbose, callbacks=progress(task, config.epochs), learning_rate=learning_rate, model=model,
        )
        trained = TrainedTask(model, {task: history.history}, {task: epochs_run(history)})
    if not (config.folds and pre is None):
        trained.backbone_shift = weight_shift(start, trained.model.backbone.get_weights())
    return trained


def start_backbone(config, prepared, pre=None):
    """A new backbone for a task of the run; with `pre` (a `DECPretraining`),
    holding DEC's pre-trained modality encoders (with a text encoder, the
    live one under encoders pre-trained on its states)."""
    backbone = build_backbone(config, prepared.feature_dims, prepared.max_len)
    if pre is not None:
        transfer_modality_encoders(pre.backbone, backbone)
    return backbone


def self_train(teacher, task, prepared, config, verbose=0, progress=None, pre=None):
    """Self-training (beyond the paper), `config.self_training_rounds`
    rounds: the trained `teacher` (a `TrainedTask`) labels the unlabelled
    training rows with its probabilities (soft targets; their own labels
    are never read), and a new student of the same configuration is
    trained on the labelled and pseudo-labelled training rows together
    (`train_student`); each round's student is the
    next round's teacher (with the backbone's perturbations on, the noisy
    student of Xie et al., 2020). With `pre` (a `DECPretraining`), every
    student starts, as the teacher did, from DEC's pre-trained encoders at
    the fine-tuning rate (pre-training, then self-training: Du et al.,
    2021). Without unlabelled rows (100 % labels) the teacher is the result.

    Returns:
        A `TrainedTask`: the last student, with the teachers' histories and
        epochs beside its own (`<task>_student`, then `<task>_student2`, ...).
    """
    if task != "classifier" or config.folds:
        raise ConfigError("self-training trains a classifier on the validation videos' schedule (folds=0).")
    if not len(prepared.split.unlabelled_train):
        return teacher
    for round_ in range(1, config.self_training_rounds + 1):
        stage = f"{task}_student" + (str(round_) if round_ > 1 else "")
        teacher = train_student(teacher, task, prepared, config, stage, verbose, progress, pre)
    return teacher


def train_student(teacher, task, prepared, config, stage, verbose=0, progress=None, pre=None):
    """One round of `self_train`: the student, as a `TrainedTask` named `stage`."""
    split, dims, max_len = prepared.split, prepared.feature_dims, prepared.max_len
    logits = predict_outputs(teacher.model, prepared.rows(split.unlabelled_train))
    rows = np.concatenate([split.labelled_train, split.unlabelled_train])
    targets = np.concatenate([prepared.labels[split.labelled_train], expit(logits)])
    backbone = start_backbone(config, prepared, pre)
    start = backbone.get_weights()
    model, history = train_task(
        task, (prepared.rows(rows), targets), prepared.labelled("val"), config, dims, max_len, backbone=backbone,
        preprocessor=prepared.preprocessor, verbose=verbose,
        callbacks=progress(stage, config.epochs) if progress else (),
        learning_rate=None if pre is None else config.finetune_learning_rate,
    )
    return TrainedTask(model, {**teacher.histories, stage: history.history},
                       {**teacher.epochs, stage: epochs_run(history)},
                       backbone_shift=weight_shift(start, model.backbone.get_weights()))


def measure(trained, prepared, pre=None, test_dataset=None):
    """The `RunRecord` fields of a trained task: its size, epochs, and
    `sentiment_metrics` on the labelled validation videos (`val`), on every
    validation video (`val_all`), on the unlabelled ones alone
    (`val_unlabelled`), on `test_dataset`; for a DEC run, its clusters."""
    model, split, sentiment = trained.model, prepared.split, prepared.sentiment
    scores = model.PREDICTS_SCORE
    if is_video_model(model):
        val_inputs, val_all_inputs = prepared.videos(split.labelled_val), prepared.videos(split.val, labels=False)
    else:
        val_inputs, val_all_inputs = prepared.rows(split.labelled_val), prepared.rows(split.val)
    val_all_outputs = predict_outputs(model, val_all_inputs)  # in the order of split.val
    fields = dict(
        params=int(model.count_params()),
        epochs={**(pre.epochs if pre else {}), **trained.epochs},
        n_train_labelled=int(len(split.labelled_train)),
        n_train_unlabelled=int(len(split.unlabelled_train)),
        n_val=int(len(split.labelled_val)),
        val=sentiment_metrics(sentiment[split.labelled_val], predict_outputs(model, val_inputs), predicts_score=scores),
        val_all=sentiment_metrics(sentiment[split.val], val_all_outputs, predicts_score=scores),
        val_unlabelled=None if not len(split.unlabelled_val) else sentiment_metrics(
            sentiment[split.unlabelled_val], val_all_outputs[np.isin(split.val, split.unlabelled_val)],
            predicts_score=scores),
        cv=trained.cv,
        backbone_shift=trained.backbone_shift,
        test=None if test_dataset is None else evaluate_tasks([model], test_dataset),
    )
    if pre is not None:
        q = pre.dec.predict(prepared.dec_rows(split.labelled_val), PREDICT_BATCH_SIZE, verbose=0)["q"]
        fields.update(clustering_val=clustering_metrics(prepared.labels[split.labelled_val], q.argmax(1)),
                      clusters=pre.diagnostics, autoencoder_reused=pre.autoencoder_reused)
    return fields


def write_run(result, out_dir, name, figures=False, save_model=True):
    """Writes `<run>.keras` (with its preprocessing; unless not `save_model`), `<run>_history_<stage>.csv`,
    with `figures` the loss curves and t-SNE plots (`save_figures`), and,
    last, `<run>.json` (its presence marks the run as finished); each file
    through a temporary one renamed into place (`files`)."""
    os.makedirs(out_dir, exist_ok=True)
    if save_model:
        write_atomically(os.path.join(out_dir, f"{name}.keras"), result.model.save)
    for stage, values in result.histories.items():
        write_history_csv(values, os.path.join(out_dir, f"{name}_history_{stage}.csv"))
    if figures:
        save_figures(result, out_dir, name)
    write_json_atomically(result.record.to_dict(), os.path.join(out_dir, f"{name}.json"))  # last: the run is done


def save_figures(result, out_dir, name):
    """Fig. 3 (losses) for every run, Fig. 4 (t-SNE of the clustering space) for DEC runs."""
    from applications.experiments.reports import plot_losses, plot_tsne

    plot_losses(result.histories, os.path.join(out_dir, f"{name}_losses.png"), name)
    if result.dec is not None:
        rows, labels = result.prepared.pretrain_train  # every training row; -1 where unlabelled
        out = result.dec.predict(rows, PREDICT_BATCH_SIZE, verbose=0)
        plot_tsne(out["z"], out["q"].argmax(1), labels, os.path.join(out_dir, f"{name}_tsne.png"))
