import keras
import numpy as np
import pytest
from keras import ops

from applications import SemiSupervisedClassifier
from mosi_keras.data import binary_labels
from mosi_keras.losses import (
    clustering_kl, confident_pseudo_label_crossentropy, labelled_binary_crossentropy, mean_teacher_consistency,
    target_distribution,
)
from tests.applications.conftest import make_backbone, make_raw
from tests.task_testing import run_task_test

PERTURBED = dict(feature_noise=0.2, word_dropout=0.2, modality_dropout=0.1)


def hidden(dataset, every=3):
    """Binary labels of `dataset`, every `every`-th one hidden (-1)."""
    labels = binary_labels(dataset.sentiment).astype("float32")
    labels[::every] = -1
    return labels.reshape(-1, 1)


@pytest.mark.backend_agnostic
def test_semi_supervised_classifier_with_a_mean_teacher_and_clusters_passes_the_task_test_with_hidden_labels(tmp_path):
    data = make_raw()  # the teacher's weights and the clustering term's centroids saved and reloaded with the model
    run_task_test(SemiSupervisedClassifier, make_backbone(**PERTURBED), data, tmp_path,
                  dict(head_units=(8, 4), teacher_momentum=0.9, cluster_weight=1.0), targets=hidden(data))


def compiled_with_prediction(x, semi, **options):
    """A compiled model with consistency weight 0.7 and no head dropout, the targets `semi` as a column, and the
    model's prediction on `x` in training mode."""
    model = SemiSupervisedClassifier(make_backbone(), head_units=(8, 4), head_dropout=0.0, unlabelled_weight=0.7,
                                     **options)
    model.compile()
    return model, semi.astype("float32").reshape(-1, 1), model(x, training=True)


@pytest.mark.backend_agnostic
def test_its_training_loss_is_the_labelled_crossentropy_plus_the_weighted_consistency_term(tiny):
    x, _, semi = tiny
    model, y, y_pred = compiled_with_prediction(x, semi, confidence_threshold=0.5)
    expected = (labelled_binary_crossentropy(y, y_pred)
                + 0.7 * confident_pseudo_label_crossentropy(model(x, training=False), y_pred, 0.5, semi < 0))
    np.testing.assert_allclose(float(model.compute_loss(x, y, y_pred, training=True)), float(expected), rtol=1e-5)
    # Not training (validation): the labelled term alone.
    np.testing.assert_allclose(float(model.compute_loss(x, y, y_pred, training=False)),
                               float(labelled_binary_crossentropy(y, y_pred)), rtol=1e-5)


@pytest.mark.backend_agnostic
def test_a_mean_teachers_term_reads_the_moving_average_of_the_weights_which_then_moves_toward_the_students(tiny):
    x, _, semi = tiny
    model, y, y_pred = compiled_with_prediction(x, semi, teacher_momentum=0.9)
    trained = [ops.convert_to_numpy(variable) for variable in model.trainable_variables]
    for teacher, variable, weights in zip(model.teacher_variables, model.trainable_variables, trained):
        teacher.assign(weights * 0.5)  # a teacher away from the student
        variable.assign(weights * 0.5)
    teacher_logits = model(x, training=False)  # the model with the teacher's weights, in inference mode
    for variable, weights in zip(model.trainable_variables, trained):
        variable.assign(weights)
    expected = labelled_binary_crossentropy(y, y_pred) + 0.7 * mean_teacher_consistency(teacher_logits, y_pred)
    assert float(mean_teacher_consistency(teacher_logits, y_pred)) > 0
    np.testing.assert_allclose(float(model.compute_loss(x, y, y_pred, training=True)), float(expected), rtol=1e-5)
    for teacher, weights in zip(model.teacher_variables, trained):  # moved by 1 - 0.9 toward the student
        np.testing.assert_allclose(ops.convert_to_numpy(teacher), 0.9 * 0.5 * weights + 0.1 * weights, atol=1e-6)
    model.compute_loss(x, y, y_pred, training=False)  # validation: the teacher stays
    for teacher, weights in zip(model.teacher_variables, trained):
        np.testing.assert_allclose(ops.convert_to_numpy(teacher), 0.55 * weights, atol=1e-6)


def test_its_metrics_count_the_labelled_rows_only(tiny):
    x, _, _ = tiny
    model = SemiSupervisedClassifier(make_backbone(), head_units=(8, 4))
    model.compile()
    logits = np.array([[1.0], [-1.0], [2.0], [-3.0], [0.5], [-0.5]], "float32")
    y = np.array([1, 1, -1, -1, 0, 1], "float32")  # labelled: right, wrong, -, -, wrong, wrong
    assert float(model.compute_metrics(x, y, logits)["accuracy"]) == pytest.approx(0.25)  # 2/6 with -1 read as 0


@pytest.mark.backend_agnostic
def test_its_clustering_term_is_decs_kl_on_every_row_of_the_backbones_embedding(tiny):
    x, _, semi = tiny
    model = SemiSupervisedClassifier(make_backbone(dropout=0.0), head_units=(8, 4), head_dropout=0.0,
                                     unlabelled_weight=0.0, cluster_weight=0.7)
    model.compile()
    y = semi.astype("float32").reshape(-1, 1)
    y_pred = model(x, training=True)
    q = model.clustering(model.backbone(x))
    expected = labelled_binary_crossentropy(y, y_pred) + 0.7 * clustering_kl(target_distribution(q), q)
    assert float(clustering_kl(target_distribution(q), q)) > 0
    np.testing.assert_allclose(float(model.compute_loss(x, y, y_pred, training=True)), float(expected), rtol=1e-5)
    assert model.clustering.centroids.shape == (2, model.backbone.output.shape[-1])
    assert SemiSupervisedClassifier(make_backbone(), head_units=(8, 4)).clustering is None  # cluster_weight=0


@pytest.mark.backend_agnostic
def test_fit_reports_each_term_in_training_and_no_validation_figure_for_it(tiny):
    x, _, semi = tiny
    keras.utils.set_random_seed(0)
    model = SemiSupervisedClassifier(make_backbone(**PERTURBED), head_units=(8, 4), confidence_threshold=0.5,
                                     cluster_weight=1.0)
    model.compile()
    y = semi.astype("float32")
    history = model.fit(x, y, batch_size=len(y), epochs=2, verbose=0, validation_data=(x, y)).history
    assert history["consistency_loss"][0] > 0  # every clean prediction is confident at 0.5
    assert history["cluster_loss"][0] > 0
    assert not {"val_cluster_loss", "val_consistency_loss"} & set(history)
    assert "val_loss" in history and "val_accuracy" in history
    assert set(model.evaluate(x, y, verbose=0, return_dict=True)) == {"loss", "accuracy"}
    plain = SemiSupervisedClassifier(make_backbone(), head_units=(8, 4))  # no clustering term asked for
    plain.compile()
    y = y.reshape(-1, 1)
    plain.compute_loss(x, y, plain(x, training=True), training=True)
    reported = set(plain.compute_metrics(x, y, plain(x)))
    assert "consistency_loss" in reported and "cluster_loss" not in reported


def test_unlabelled_rows_move_the_weights_only_through_the_consistency_term(tiny):
    x, labels, semi = tiny
    y = semi.astype("float32")

    def trained(weight):
        keras.utils.set_random_seed(0)
        model = SemiSupervisedClassifier(make_backbone(dropout=0.0), head_units=(8, 4), unlabelled_weight=weight,
                                         confidence_threshold=0.5)
        model.compile(optimizer=keras.optimizers.SGD(0.1))
        model.fit(x, y, batch_size=len(y), epochs=1, verbose=0, shuffle=False)
        return model.get_weights()

    off, on = trained(0.0), trained(1.0)
    assert any(not np.allclose(a, b) for a, b in zip(off, on))


def test_a_confidence_threshold_outside_a_half_to_one_or_a_teacher_momentum_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="confidence_threshold"):
        SemiSupervisedClassifier(make_backbone(), confidence_threshold=0.4)
    with pytest.raises(ValueError, match="teacher_momentum"):
        SemiSupervisedClassifier(make_backbone(), teacher_momentum=1.0)


def test_a_mean_teacher_whose_student_froze_a_layer_after_it_was_built_says_so(tiny):
    x, _, semi = tiny
    model = SemiSupervisedClassifier(make_backbone(), head_units=(8, 4), teacher_momentum=0.9)
    model.compile()
    model.backbone.get_layer("audio_encoder").trainable = False
    with pytest.raises(ValueError, match="trainable weights changed after it was built"):
        model.compute_loss(x, semi.reshape(-1, 1).astype("float32"), model(x), training=True)


def test_the_backbones_feature_noise_is_off_at_inference_and_on_in_training(tiny):
    x, _, _ = tiny
    backbone = make_backbone(feature_noise=0.5, dropout=0.0)
    np.testing.assert_allclose(ops.convert_to_numpy(backbone(x)), ops.convert_to_numpy(backbone(x)))
    assert not np.allclose(ops.convert_to_numpy(backbone(x, training=True)), ops.convert_to_numpy(backbone(x)))
    assert type(backbone).from_config(backbone.get_config()).feature_noise == 0.5
