import pytest

from applications.experiments.config import EXPERIMENTS, TrainingConfig, experiment, load_config


def test_training_config_round_trips_and_rejects_unknown_names():
    config = TrainingConfig(hidden_dim=32, head_units=(8, 4))
    assert TrainingConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="hiddn_dim"):
        TrainingConfig.from_dict({"hiddn_dim": 3})


def test_load_config_puts_the_file_over_the_preset(tmp_path):
    path = tmp_path / "hp.json"
    path.write_text('{"hyperparameters": {"epochs": 7}}')
    config = load_config(str(path), {"epochs": 40, "patience": 3})
    assert (config.epochs, config.patience) == (7, 3)


def test_every_experiment_name_says_its_task_and_pretraining():
    assert {(e.task, e.dec_pretraining) for e in EXPERIMENTS.values()} == {
        ("classifier", False), ("classifier", True), ("regressor", False), ("regressor", True),
        ("contextual_classifier", False), ("contextual_classifier", True)}
    with pytest.raises(ValueError, match="unknown experiment 'decc'"):
        experiment("decc")
