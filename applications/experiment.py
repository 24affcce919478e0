"""One run of the paper's experiment: split, preprocess, train, evaluate, save."""

import csv
import dataclasses
import json
import os
import time

import keras
import numpy as np

from applications.training import TrainingConfig, epochs_run, pretrain_dec, train_classifier
from mosi_keras.data import Preprocessor, binary_labels, semi_supervised_split
from mosi_keras.losses import UNLABELLED
from mosi_keras.metrics import clustering_metrics, sentiment_metrics

EXPERIMENTS = ("baseline", "dec")
PAPER_MAX_LEN = 30


def predict_scores(model, inputs, batch_size=256):
    return np.asarray(model.predict(inputs, batch_size=batch_size, verbose=0)).reshape(-1)


def evaluate_classifier(model, preprocessor, dataset):
    """`sentiment_metrics` of `model` on `dataset`, preprocessed by `preprocessor`."""
    return sentiment_metrics(dataset.sentiment, predict_scores(model, preprocessor.transform(dataset)))


def write_history_csv(history, path):
    keys = sorted(history)
    rows = zip(*(history[k] for k in keys))
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["epoch", *keys])
        for epoch, row in enumerate(rows):
            writer.writerow([epoch, *row])


def run_name(experiment, label_fraction, seed):
    return f"{experiment}_labels{int(round(label_fraction * 100)):03d}_seed{seed}"


@dataclasses.dataclass
class PreparedExperiment:
    """The split, the fitted preprocessing and the model inputs of one seed."""

    split: object
    preprocessor: Preprocessor
    inputs: dict
    labels: np.ndarray
    max_len: int

    def rows(self, indices):
        return {k: v[indices] for k, v in self.inputs.items()}

    @property
    def labelled_train(self):
        return self.rows(self.split.labelled_train), self.labels[self.split.labelled_train]

    @property
    def labelled_val(self):
        return self.rows(self.split.labelled_val), self.labels[self.split.labelled_val]

    def semi_supervised_labels(self):
        """Binary labels of the labelled rows, `UNLABELLED` elsewhere."""
        semi = np.full(len(self.labels), UNLABELLED)
        for part in (self.split.labelled_train, self.split.labelled_val):
            semi[part] = self.labels[part]
        return semi

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
    return PreparedExperiment(
        split, preprocessor, preprocessor.transform(dataset), binary_labels(dataset.sentiment), max_len
    )


def run_experiment(
    dataset, experiment, label_fraction=0.4, seed=0, config=None, test_dataset=None, out_dir=None, verbose=0
):
    """Trains and evaluates one model under the paper's protocol.

    Whole videos are split into labelled / unlabelled (`label_fraction`),
    then train / validation (80 / 20) within each (`semi_supervised_split`).
    The preprocessing is fitted on the training rows only. `"baseline"`
    trains the classifier from scratch on the labelled training rows;
    `"dec"` first pre-trains the encoder with semi-supervised DEC on every
    training row (labels of the unlabelled part hidden), then transfers it
    and fine-tunes on the labelled training rows. Both are measured on the
    labelled validation videos, and on `test_dataset` when given.

    Returns:
        The run's record (see `results.json` in the docs); with `out_dir`,
        also writes `<run>.keras`, `<run>_preprocessor.json`,
        `<run>_history*.csv` and `<run>.json` there.
    """
    if experiment not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {EXPERIMENTS}, got {experiment!r}.")
    config = config or TrainingConfig()
    keras.utils.set_random_seed(seed)
    started = time.time()
    prepared = prepare_experiment(dataset, label_fraction, seed)
    split, max_len = prepared.split, prepared.max_len
    train, validation = prepared.labelled_train, prepared.labelled_val
    histories, epochs, extra = {}, {}, {}
    pretrained = None
    if experiment == "dec":
        pre = pretrain_dec(
            *prepared.pretrain_train, prepared.pretrain_val,
            config, dataset.feature_dims, max_len, seed=seed, verbose=verbose,
        )
        pretrained = pre["encoder"]
        histories.update(pre["histories"])
        epochs.update(pre["epochs"])
        q = np.asarray(pre["dec"].predict(validation[0], verbose=0)["q"])
        extra["clustering_val"] = clustering_metrics(validation[1], q.argmax(1))
        extra["_dec_model"] = pre["dec"]
    model, history = train_classifier(
        train, validation, config, dataset.feature_dims, max_len,
        pretrained_encoder=pretrained, verbose=verbose,
    )
    histories["classifier"] = history.history
    epochs["classifier"] = epochs_run(history)
    record = {
        "experiment": experiment,
        "label_fraction": label_fraction,
        "seed": seed,
        "params": int(model.count_params()),
        "epochs": epochs,
        "n_train_labelled": int(len(split.labelled_train)),
        "n_train_unlabelled": int(len(split.unlabelled_train)),
        "n_val": int(len(split.labelled_val)),
        "val": sentiment_metrics(dataset.sentiment[split.labelled_val], predict_scores(model, validation[0])),
        "test": None if test_dataset is None else evaluate_classifier(model, prepared.preprocessor, test_dataset),
        "seconds": round(time.time() - started, 1),
    }
    if "clustering_val" in extra:
        record["clustering_val"] = extra["clustering_val"]
    if out_dir is not None:
        name = run_name(experiment, label_fraction, seed)
        os.makedirs(out_dir, exist_ok=True)
        model.save(os.path.join(out_dir, f"{name}.keras"))
        prepared.preprocessor.save(os.path.join(out_dir, f"{name}_preprocessor.json"))
        for stage, values in histories.items():
            write_history_csv(values, os.path.join(out_dir, f"{name}_history_{stage}.csv"))
        # Written last and atomically: its presence marks the run as finished.
        record_path = os.path.join(out_dir, f"{name}.json")
        with open(record_path + ".tmp", "w") as file:
            json.dump(record, file, indent=2)
        os.replace(record_path + ".tmp", record_path)
    # In-memory extras for callers (plots, tests); never written to JSON.
    record["_model"] = model
    record["_dec_model"] = extra.get("_dec_model")
    record["_prepared"] = prepared
    record["_histories"] = histories
    return record
