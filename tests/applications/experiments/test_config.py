import inspect
import json

import pytest

from applications.experiments.training import build_backbone
from applications.experiments.config import EXPERIMENTS, TrainingConfig, experiment, load_config
from applications.multimodal_backbone import DATA_ARGUMENTS, MultimodalBackbone


def test_training_config_round_trips_and_rejects_unknown_names():
    config = TrainingConfig(backbone={"hidden_dim": 32}, head_units=(8, 4))
    assert TrainingConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ValueError, match="hiddn_dim"):
        TrainingConfig.from_dict({"hiddn_dim": 3})
    with pytest.raises(ValueError, match=r"unknown backbone hyper-parameter\(s\) \['hiddn_dim'\]"):
        TrainingConfig(backbone={"hiddn_dim": 3})
    with pytest.raises(ValueError, match="text_frozen_layers must be 0 or more, got -1"):
        TrainingConfig(backbone={"text_frozen_layers": -1})


def test_the_backbone_section_is_the_backbones_own_arguments_and_builds_it_whole():
    parameters = inspect.signature(MultimodalBackbone.__init__).parameters.values()
    arguments = {p.name: p.default for p in parameters if p.name not in ("self", "kwargs", *DATA_ARGUMENTS)}
    assert TrainingConfig().backbone == arguments  # every argument, its default: written once, in the backbone
    changed = {"hidden_dim": 8, "num_blocks": 1, "num_heads": 2, "intermediate_dim": 12, "dropout": 0.2,
               "word_dropout": 0.1, "modality_dropout": 0.1, "feature_noise": 0.1, "text_output": "pooled",
               "text_frozen_layers": 1}
    assert set(changed) == set(arguments)  # a new backbone argument: add it here to check that it reaches the model
    built = build_backbone(TrainingConfig(backbone=changed), {"audio": 3, "visual": 2}, 4).get_config()
    assert {name: built[name] for name in changed} == changed


def test_a_backbone_hyper_parameter_may_be_named_at_the_top_level_or_in_its_section():
    flat = TrainingConfig.from_dict({"hidden_dim": 16, "epochs": 3})
    assert flat == TrainingConfig.from_dict({"backbone": {"hidden_dim": 16}, "epochs": 3})
    assert flat.backbone["hidden_dim"] == 16 and flat.backbone["num_heads"] == 4  # the rest: the backbone's defaults
    assert flat.replace(num_heads=2).backbone == dict(flat.backbone, num_heads=2)
    assert flat.replace(backbone={"num_heads": 2}) == flat.replace(num_heads=2)


def test_a_nested_file_overrides_the_recipes_flat_values(tmp_path):
    path = tmp_path / "hp.json"
    path.write_text('{"hyperparameters": {"backbone": {"hidden_dim": 48}}}')
    config = load_config(str(path), recipe="small_data")
    assert config.backbone["hidden_dim"] == 48 and config.backbone["num_blocks"] == 1  # the recipe's


def test_load_config_puts_the_file_over_the_preset(tmp_path):
    path = tmp_path / "hp.json"
    path.write_text('{"hyperparameters": {"epochs": 7}}')
    config = load_config(str(path), {"epochs": 40, "patience": 3})
    assert (config.epochs, config.patience) == (7, 3)


def test_every_experiment_name_says_its_task_and_pretraining():
    assert {(e.task, e.dec_pretraining) for e in EXPERIMENTS.values()} == {
        ("classifier", False), ("classifier", True), ("regressor", False), ("regressor", True),
        ("contextual_classifier", False), ("contextual_classifier", True), ("semi_supervised_classifier", False),
        ("semi_supervised_classifier", True)}
    with pytest.raises(ValueError, match="unknown experiment 'decc'"):
        experiment("decc")


def test_an_experiment_refuses_dec_pretraining_it_cannot_run_on_a_text_encoders_word_states():
    """DEC's stages read a text encoder's word states: a pooled text output
    or a whole-video model would have nothing to read; the refusal names the
    experiment, before anything is trained. Without DEC, or without an
    encoder, the same settings go through."""
    pooled = TrainingConfig(text_encoder="minilm/", backbone={"text_output": "pooled"})
    with pytest.raises(ValueError, match="experiment 'dec' with a text_encoder.*text_output='words'"):
        experiment("dec").config(pooled)
    with pytest.raises(ValueError, match="experiment 'contextual_dec' with a text_encoder"):
        experiment("contextual_dec").config(TrainingConfig(text_encoder="minilm/"))
    assert experiment("baseline").config(pooled) == pooled
    assert experiment("dec").config(TrainingConfig(text_encoder="minilm/")).text_encoder == "minilm/"
    assert experiment("dec_without_kl").config(TrainingConfig()).dec_cluster_weight == 0.0
