import json
import os

import pytest

from applications.experiments.cli import main
from applications.experiments.config import flatten, load_config
from applications.experiments.training import build_task


def trial_dirs(folder):
    return sorted(d for d in os.listdir(folder) if d.startswith("trial_"))


@pytest.mark.parametrize("model", ["classifier", pytest.param("dec", marks=pytest.mark.slow)])  # dec: -m slow
def test_tune_finishes_two_trials_on_folds_resumes_and_round_trips_best_values(files, capsys, model):
    out = files / "tune"
    argv = ["tune", "--data", str(files / "train.npz"), "--model", model, "--tuner", "random",
            "--max-trials", "2", "--epochs", "1", "--out", str(out),
            "--hyperparameters", str(files / "hp.json")]
    assert main(argv) == 2  # tune's default, 5 folds, needs 5 labelled training videos
    assert "5 folds need at least 5 labelled training videos; there are 4" in capsys.readouterr().err
    assert not (out / f"{model}_random").exists()  # refused before any trial
    (files / "hp.json").write_text(json.dumps(dict(json.loads((files / "hp.json").read_text()), folds=2)))
    assert main(argv) == 0
    project = out / f"{model}_random"
    assert len(trial_dirs(project)) == 2
    best_path = out / f"best_hyperparameters_{model}_random.json"
    best = json.loads(best_path.read_text())
    assert best["trials"] == 2 and best["scored_on"] == "2 folds of the training videos"
    assert "best val_accuracy" in capsys.readouterr().out
    config = load_config(str(best_path))  # what train/reproduce --hyperparameters read
    for name, value in best["searched"].items():
        assert flatten(config.to_dict())[name] == value  # the backbone's under "backbone"
    built = build_task("classifier", config, {"text": 6, "audio": 4, "visual": 3}, 5)
    assert built.count_params() > 0
    assert main(argv) == 0  # resumed: the two finished trials are not run again
    assert len(trial_dirs(project)) == 2


@pytest.mark.slow  # run with -m slow; in the default suite: the classifier search
def test_a_trial_is_scored_on_the_epoch_early_stopping_kept(tiny):
    import keras
    import keras_tuner
    import numpy as np

    from applications.experiments.config import TrainingConfig
    from applications.experiments.tuning import SentimentClassifierHyperModel
    from tests.applications.conftest import DIMS, MAX_LEN, SMALL

    x, labels, _ = tiny
    half = len(labels) // 2
    train = {k: v[:half] for k, v in x.items()}, labels[:half].astype("float32")
    validation = {k: v[half:] for k, v in x.items()}, labels[half:].astype("float32")
    base = TrainingConfig(backbone=SMALL, head_units=(4,), patience=6, run_eagerly=True)
    hypermodel = SentimentClassifierHyperModel(DIMS, MAX_LEN, base_config=base)
    hp = keras_tuner.HyperParameters()
    hp.Fixed("learning_rate", 3e-3)
    model = hypermodel.build(hp)
    epochs = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(dict(logs)))
    seen = []
    score = hypermodel.fit(hp, model, *train, validation_data=validation, batch_size=8, epochs=6,
                           callbacks=[epochs], verbose=0)
    kept = seen[int(np.argmin([logs["val_loss"] for logs in seen]))]  # monitor: val_loss
    assert score["val_loss"] == pytest.approx(kept["val_loss"], abs=1e-5)
    assert score["val_accuracy"] == pytest.approx(kept["val_accuracy"], abs=1e-5)


@pytest.mark.slow  # run with -m slow; in the default suite: the classifier search
def test_a_search_on_folds_trains_one_model_per_fold_and_scores_the_fold_mean(tiny):
    import keras
    import keras_tuner
    import numpy as np

    from applications.experiments.config import TrainingConfig
    from applications.experiments.tuning import SentimentClassifierHyperModel
    from tests.applications.conftest import DIMS, MAX_LEN, SMALL

    x, labels, _ = tiny
    videos = np.repeat(np.arange(6), 8)  # make_tiny: 8 segments a video
    base = TrainingConfig(backbone=SMALL, head_units=(4,), folds=3, early_stopping=False, lr_schedule="cosine",
                          run_eagerly=True)
    hypermodel = SentimentClassifierHyperModel(DIMS, MAX_LEN, base_config=base, video_ids=videos, seed=2)
    hp = keras_tuner.HyperParameters()
    hp.Fixed("learning_rate", 3e-3)
    fits = []
    record = keras.callbacks.LambdaCallback(on_train_begin=lambda logs: fits.append([]),
                                            on_epoch_end=lambda epoch, logs: fits[-1].append(dict(logs)))
    score = hypermodel.fit(hp, hypermodel.build(hp), x, labels.astype("float32"), batch_size=8, epochs=2,
                           callbacks=[record])
    assert len(fits) == 3 and all(len(epochs) == 2 for epochs in fits)  # a fixed budget: the last epoch kept
    for name in ("val_accuracy", "val_loss"):
        assert score[name] == pytest.approx(np.mean([epochs[-1][name] for epochs in fits]), abs=1e-6)
    with pytest.raises(ValueError, match="needs the training rows' video_ids"):
        SentimentClassifierHyperModel(DIMS, MAX_LEN, base_config=base).fit(
            hp, hypermodel.build(hp), x, labels.astype("float32"), batch_size=8, epochs=1)


def test_a_second_search_on_a_folder_a_live_process_holds_is_refused(files, capsys):
    import subprocess
    import sys

    out = files / "held"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from applications.experiments.folder_lock import FolderLock\n"
         f"with FolderLock({str(out)!r}, 'mosi-keras tune'):\n"
         "    print('held', flush=True)\n"
         "    time.sleep(600)\n"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert main(["tune", "--data", str(files / "train.npz"), "--out", str(out), "--max-trials", "1",
                     "--hyperparameters", str(files / "hp.json")]) == 2
        assert f"{out} is being written by process {holder.pid}" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
    assert not (out / "classifier_random").exists()  # the refused search wrote nothing


def test_a_dec_search_with_a_text_encoder_pretrains_on_its_word_states_and_starts_trials_from_them(
        files, tmp_path, monkeypatch, tiny_bert_preset):
    import numpy as np

    from applications.experiments import tuning
    from mosi_keras.data import load_dataset, write_dataset
    from tests.text_encoder_testing import with_transcripts

    write_dataset(with_transcripts(load_dataset(files / "train.npz")), tmp_path / "said.npz")
    hp = dict(json.loads((files / "hp.json").read_text()), folds=2, text_learning_rate=1e-4)
    (tmp_path / "hp.json").write_text(json.dumps(hp))
    starts = []

    def start(hypermodel, hp, model):  # what each fold model starts from, beside what DEC pre-trained
        model = original(hypermodel, hp, model)
        for name in ("text_encoder", "audio_encoder", "visual_encoder"):
            starts.append([np.array_equal(a, b) for a, b in zip(model.backbone.get_layer(name).get_weights(),
                                                                hypermodel.pretrained.get_layer(name).get_weights())])
        assert type(model.backbone.text_encoder).__name__ == "BertBackbone"  # the live encoder under them
        return model

    original = tuning.DECHyperModel.start
    monkeypatch.setattr(tuning.DECHyperModel, "start", start)
    out = tmp_path / "tune"
    assert main(["tune", "--data", str(tmp_path / "said.npz"), "--model", "dec", "--text-encoder",
                 str(tiny_bert_preset), "--max-trials", "1", "--epochs", "1", "--out", str(out),
                 "--hyperparameters", str(tmp_path / "hp.json")]) == 0
    assert len(starts) == 2 * 3 and all(starts) and all(all(same) for same in starts)  # 2 folds × 3 encoders
    assert json.loads((out / "best_hyperparameters_dec_random.json").read_text())["trials"] == 1
    assert len(list((out / "text_states").iterdir())) == 1  # the word states, computed once