import numpy as np
import pytest

from applications.experiments.run import RunRecord, run_experiment
from mosi_keras.data import binary_labels, make_synthetic_mosi


def test_run_record_round_trips_through_its_json_form():
    record = RunRecord("dec", 0.4, 3, 100, {"classifier": 2}, 10, 20, 5, {"acc2": 0.5}, None, 1.5,
                       val_all={"acc2": 0.6}, backbone_shift=0.1, clustering_val={"cluster_acc": 0.6},
                       clusters={"kmeans_start": {"nmi": 0.1}})
    assert RunRecord.from_dict(record.to_dict()) == record
    baseline = RunRecord("baseline", 1.0, 0, 100, {"classifier": 2}, 30, 0, 5, {"acc2": 0.5})
    assert {"clustering_val", "clusters"}.isdisjoint(baseline.to_dict())  # only DEC runs have clusters
    assert baseline.to_dict()["test"] is None


@pytest.mark.cited
@pytest.mark.slow  # run with -m slow; in the default suite: the split tests
def test_labels_of_unlabelled_rows_change_neither_training_nor_val(tmp_path):
    from applications.experiments.config import TrainingConfig
    from tests.applications.conftest import TINY

    data = make_synthetic_mosi(n_videos=12, segments_per_video=(4, 5), max_len=5,
                               feature_dims={"text": 6, "audio": 4, "visual": 3}, seed=0)
    config = TrainingConfig.from_dict(TINY)
    first = run_experiment(data, "dec", 0.4, 0, config)
    split = first.prepared.split
    hidden = np.concatenate([split.unlabelled_train, split.unlabelled_val])
    flipped = data.subset(np.arange(len(data)))
    flipped.sentiment[hidden] = np.clip(-flipped.sentiment[hidden] - 1e-3, -3, 3)  # every hidden label flipped
    assert np.all(binary_labels(flipped.sentiment[hidden]) != binary_labels(data.sentiment[hidden]))
    second = run_experiment(flipped, "dec", 0.4, 0, config)
    assert second.record.val == first.record.val
    for a, b in zip(first.model.get_weights(), second.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    # Measured on those labels alone, with the same predictions: the complement.
    assert second.record.val_unlabelled["acc2"] == pytest.approx(1.0 - first.record.val_unlabelled["acc2"])
    assert first.record.val_unlabelled["n"] == len(split.unlabelled_val)


def test_self_training_never_reads_an_unlabelled_rows_label(eager_functions):
    """The teacher's probabilities stand in for the unlabelled training
    rows' labels: flipping those labels changes neither the student's
    weights nor its scores on the labelled validation videos."""
    from applications.experiments.config import TrainingConfig
    from tests.applications.conftest import TINY

    data = make_synthetic_mosi(n_videos=12, segments_per_video=(4, 5), max_len=5,
                               feature_dims={"text": 6, "audio": 4, "visual": 3}, seed=0)
    config = TrainingConfig.from_dict(dict(TINY, epochs=1))
    first = run_experiment(data, "self_training", 0.4, 0, config)
    assert set(first.record.epochs) == {"classifier", "classifier_student"}
    hidden = first.prepared.split.unlabelled_train
    flipped = data.subset(np.arange(len(data)))
    flipped.sentiment[hidden] = np.clip(-flipped.sentiment[hidden] - 1e-3, -3, 3)
    assert np.all(binary_labels(flipped.sentiment[hidden]) != binary_labels(data.sentiment[hidden]))
    second = run_experiment(flipped, "self_training", 0.4, 0, config)
    assert second.record.val == first.record.val
    for a, b in zip(first.model.get_weights(), second.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    baseline = run_experiment(data, "baseline", 0.4, 0, config)  # the student is not the teacher
    assert any(not np.array_equal(a, b) for a, b in zip(baseline.model.get_weights(), first.model.get_weights()))


def test_noisy_students_each_label_the_unlabelled_rows_for_the_next(eager_functions, monkeypatch):
    """Three rounds: the baseline labels the unlabelled training rows for
    the first student, each student for the next; the run's model is the
    third student, trained on perturbed rows as every model of it is."""
    from applications.experiments import run
    from applications.experiments.config import TrainingConfig, experiment
    from tests.applications.conftest import TINY

    data = make_synthetic_mosi(n_videos=12, segments_per_video=(4, 5), max_len=5,
                               feature_dims={"text": 6, "audio": 4, "visual": 3}, seed=0)
    labellers, students = [], []
    predict, train_student = run.predict_outputs, run.train_student
    monkeypatch.setattr(run, "predict_outputs",
                        lambda model, *a, **k: labellers.append(model) or predict(model, *a, **k))
    monkeypatch.setattr(run, "train_student", lambda *a, **k: students.append(train_student(*a, **k)) or students[-1])
    result = run_experiment(data, "noisy_student", 0.4, 0, TrainingConfig.from_dict(dict(TINY, epochs=1)))
    assert list(result.record.epochs) == ["classifier", "classifier_student", "classifier_student2",
                                          "classifier_student3"]
    assert [student.model for student in students[:2]] == labellers[1:3]  # each student labels for the next
    assert result.model is students[2].model and labellers[0] not in labellers[1:3]
    assert result.model.backbone.get_config()["word_dropout"] == 0.2  # the perturbations of the experiment
    assert experiment("noisy_student").config(TrainingConfig()).self_training_rounds == 3
    with pytest.raises(ValueError, match="self_training_rounds must be 1 or more, got 0"):
        TrainingConfig(self_training_rounds=0)


def test_dec_self_trainings_student_starts_from_decs_encoders_at_the_fine_tuning_rate(eager_functions, monkeypatch):
    """The DEC-pretrained classifier labels the unlabelled rows; the student
    is a new backbone given the same stage-2 encoders as the teacher, trained
    at `finetune_learning_rate` on labelled and pseudo-labelled rows."""
    from applications.experiments import run
    from applications.experiments.config import TrainingConfig
    from tests.applications.conftest import TINY

    data = make_synthetic_mosi(n_videos=12, segments_per_video=(4, 5), max_len=5,
                               feature_dims={"text": 6, "audio": 4, "visual": 3}, seed=0)
    sources, rates = [], []
    transfer, train_task = run.transfer_modality_encoders, run.train_task
    monkeypatch.setattr(run, "transfer_modality_encoders",
                        lambda source, target: sources.append(source) or transfer(source, target))
    monkeypatch.setattr(run, "train_task", lambda *a, **k: rates.append(k["learning_rate"]) or train_task(*a, **k))
    config = TrainingConfig.from_dict(dict(TINY, epochs=1, finetune_learning_rate=3e-5))
    result = run.run_experiment(data, "dec_self_training", 0.4, 0, config)
    assert list(result.record.epochs) == ["autoencoder", "clustering", "classifier", "classifier_student"]
    assert len(sources) == 2 and sources[0] is sources[1]  # teacher and student: DEC's one stage-2 backbone
    assert rates == [3e-5, 3e-5]
    split = result.prepared.split
    assert result.record.n_train_unlabelled == len(split.unlabelled_train) > 0


def test_dec_kl_finetuning_keeps_decs_centroids_and_clustering_term_while_the_classifier_learns(eager_functions,
                                                                                                monkeypatch):
    """The fine-tuned classifier starts on DEC's stage-2 centroids and
    trains with eq. 1's KL beside its labelled rows' loss; without DEC
    pre-training there are no centroids to keep, and the run says so."""
    from applications.experiments import run
    from applications.experiments.config import ConfigError, TrainingConfig
    from tests.applications.conftest import TINY

    data = make_synthetic_mosi(n_videos=12, segments_per_video=(4, 5), max_len=5,
                               feature_dims={"text": 6, "audio": 4, "visual": 3}, seed=0)
    starts, train_task = [], run.train_task
    monkeypatch.setattr(run, "train_task",
                        lambda *a, **k: starts.append(k["model"].clustering.get_weights()[0]) or train_task(*a, **k))
    config = TrainingConfig.from_dict(dict(TINY, epochs=1))
    result = run.run_experiment(data, "dec_kl_finetuning", 0.4, 0, config)
    np.testing.assert_array_equal(starts[0], result.dec.clustering.get_weights()[0])  # stage 2's, set before fit
    assert not np.allclose(result.model.clustering.get_weights()[0], starts[0])  # then trained with the classifier
    assert result.histories["semi_supervised_classifier"]["cluster_loss"][0] > 0
    assert result.record.n_train_unlabelled > 0 and result.model.cluster_weight == 1.0
    with pytest.raises(ConfigError, match="experiment 'consistency' with cluster_weight: .*DEC pre-training"):
        run.run_experiment(data, "consistency", 0.4, 0, config.replace(cluster_weight=1.0))


def test_a_mean_teacher_run_trains_on_every_training_row_against_the_moving_average_of_its_weights(eager_functions):
    """`mean_teacher` from scratch on perturbed rows; `dec_mean_teacher` from DEC's encoders."""
    from applications.experiments.config import TrainingConfig
    from tests.applications.conftest import TINY

    data = make_synthetic_mosi(n_videos=12, segments_per_video=(4, 5), max_len=5,
                               feature_dims={"text": 6, "audio": 4, "visual": 3}, seed=0)
    for name, weight, noise in (("mean_teacher", 10.0, 0.2), ("dec_mean_teacher", 1.0, 0.0)):
        result = run_experiment(data, name, 0.4, 0, TrainingConfig.from_dict(dict(TINY, epochs=1)))
        model = result.model
        assert (model.teacher_momentum, model.unlabelled_weight, model.backbone.feature_noise) == (0.99, weight, noise)
        assert (result.dec is not None) == (name == "dec_mean_teacher")
        assert result.histories["semi_supervised_classifier"]["consistency_loss"][0] > 0
        assert result.record.n_train_unlabelled == len(result.prepared.split.unlabelled_train) > 0
        moved = [not np.allclose(np.asarray(t), np.asarray(w)) for t, w in zip(model.teacher_variables,
                                                                             model.trainable_variables)]
        assert len(moved) == len(model.trainable_variables) and any(moved)  # the teacher lags the student
