"""`mosi-keras tune` spread over processes on keras-tuner's own engine (a chief oracle and workers)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from applications.experiments.cli import main
from applications.experiments.tuning import distributed_role

CHIEF = {"KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": "8000", "KERASTUNER_TUNER_ID": "chief"}


def test_the_role_is_read_from_keras_tuners_variables():
    assert distributed_role({}) is None
    assert distributed_role(CHIEF) == "chief"
    assert distributed_role(dict(CHIEF, KERASTUNER_TUNER_ID="worker3")) == "worker"
    with pytest.raises(ValueError, match="needs KERASTUNER_TUNER_ID beside KERASTUNER_ORACLE_IP"):
        distributed_role({k: v for k, v in CHIEF.items() if k != "KERASTUNER_TUNER_ID"})
    with pytest.raises(ValueError, match="KERASTUNER_ORACLE_PORT must be a port number, got 'http'"):
        distributed_role(dict(CHIEF, KERASTUNER_ORACLE_PORT="http"))


def tune_argv(files, *options):
    """A search scored on the validation videos (`folds: 0`): the tiny data
    has fewer labelled training videos than tune's default folds."""
    hp = dict(json.loads((files / "hp.json").read_text()), folds=0)
    (files / "tune_hp.json").write_text(json.dumps(hp))
    return ["tune", "--data", str(files / "train.npz"), "--hyperparameters", str(files / "tune_hp.json"),
            "--out", str(files / "out"), "--max-trials", "1", "--epochs", "1", *options]


@pytest.fixture
def no_distribution(monkeypatch):
    """The keras-tuner variables as the test found them, whatever `--oracle` sets."""
    for name in CHIEF:  # setenv records the variable's absence, so teardown removes what `--oracle` sets
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def test_an_oracle_address_that_is_not_host_and_port_is_named(files, capsys, no_distribution):
    assert main(tune_argv(files, "--oracle", "localhost", "--tuner-id", "chief")) == 2
    assert "--oracle must be HOST:PORT (e.g. 10.0.0.1:8000), got 'localhost'" in capsys.readouterr().err


def test_a_chief_whose_port_is_taken_is_refused_before_writing(files, capsys, no_distribution):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert main(tune_argv(files, "--oracle", f"127.0.0.1:{port}", "--tuner-id", "chief")) == 2
    assert f"the chief cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    assert not (files / "out").exists()


def free_port():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


def read_json(path):
    """A JSON file that keras-tuner's chief may be rewriting: `{}` until it reads whole."""
    try:
        with open(path) as file:
            return json.load(file)
    except (OSError, ValueError):
        return {}


def ended_trials(project):
    """`{trial_id: score}` of the trials the chief has recorded as completed."""
    ended = {}
    for name in os.listdir(project) if project.exists() else ():
        trial = read_json(project / name / "trial.json") if name.startswith("trial_") else {}
        if trial.get("status") == "COMPLETED":
            ended[trial["trial_id"]] = trial["score"]
    return ended


@pytest.mark.cited
@pytest.mark.slow  # ~2 min; in the default suite: the role, the address and the port checks above
def test_a_chief_and_two_workers_share_the_trials_and_a_killed_worker_loses_no_finished_trial(files):
    trials = 6
    argv = [sys.executable, "-m", "applications.experiments.cli",
            *tune_argv(files, "--max-trials", str(trials), "--epochs", "3", "--oracle", f"127.0.0.1:{free_port()}",
                       "--quiet")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KERASTUNER_")}

    def start(tuner_id, attempt=0):
        log = open(files / f"{tuner_id}.{attempt}.log", "w")
        return subprocess.Popen(argv + ["--tuner-id", tuner_id], stdout=log, stderr=subprocess.STDOUT, env=env)

    def printed(tuner_id, attempt=0):
        return (files / f"{tuner_id}.{attempt}.log").read_text()

    project = files / "out" / "classifier_random"
    chief = start("chief")
    workers = {name: start(name) for name in ("worker0", "worker1")}
    try:
        deadline = time.monotonic() + 240
        while True:  # until both workers hold a trial and one trial has ended
            ongoing = read_json(project / "oracle.json").get("ongoing_trials", {})
            ended = ended_trials(project)
            if {"worker0", "worker1"} <= set(ongoing) and ended and ongoing["worker0"] not in ended:
                break
            assert time.monotonic() < deadline and chief.poll() is None, printed("chief")
            time.sleep(0.2)
        killed_trial = ongoing["worker0"]
        workers["worker0"].send_signal(signal.SIGKILL)  # mid-trial
        workers["worker0"].wait()
        before = ended_trials(project)
        workers["worker0"] = start("worker0", attempt=1)  # the same id: handed its trial again
        for process in (*workers.values(), chief):
            assert process.wait(timeout=300) == 0
    finally:
        for process in (*workers.values(), chief):
            process.kill()
            process.wait()
    after = ended_trials(project)
    assert sorted(after) == sorted(f"{i}" for i in range(trials))  # every trial ran, the killed one too
    assert killed_trial in after
    assert {trial: after[trial] for trial in before} == before  # no finished trial lost or changed
    for name, attempt in (("worker1", 0), ("worker0", 1)):
        ran = int(printed(name, attempt).split(" after ")[1].split()[0])
        assert ran >= 1, printed(name, attempt)  # worker0: at least the trial it was killed in
    best = json.loads((files / "out" / "best_hyperparameters_classifier_random.json").read_text())
    assert best["trials"] == trials
    assert best["val_accuracy"] == max(after.values())
    assert f"best val_accuracy {best['val_accuracy']:.4f}" in printed("chief")
    for name, value in best["searched"].items():
        assert f"  {name} = {value}\n" in printed("chief")
