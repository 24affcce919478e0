import keras
import numpy as np
import pytest

from applications.batching import fit_arguments, validation_arguments


def epoch_rows(arguments, epochs):
    """The row ids `fit` would see in each of `epochs` epochs."""
    if "steps_per_epoch" not in arguments:
        return None
    iterator = iter(arguments["x"])
    seen = []
    for _ in range(epochs):
        rows = [next(iterator)[0]["row"] for _ in range(arguments["steps_per_epoch"])]
        seen.append(np.concatenate([np.asarray(r).reshape(-1) for r in rows]))
    return seen


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the tf.data feed is TensorFlow's")
def test_utterance_vectors_are_fed_every_row_once_per_epoch_reshuffled():
    x = {"row": np.arange(10, dtype="float32")[:, None]}
    arguments = fit_arguments(x, np.zeros(10), batch_size=4)
    assert arguments["steps_per_epoch"] == 3  # the last batch is partial, as with arrays
    first, second = epoch_rows(arguments, 2)
    assert sorted(first) == sorted(second) == list(range(10))
    assert list(first) != list(second)
    validation = validation_arguments(x, np.zeros(10), batch_size=4)
    assert validation["validation_steps"] == 3
    rows = [np.asarray(next(iter(validation["validation_data"]))[0]["row"]).reshape(-1)]
    assert list(rows[0]) == [0, 1, 2, 3]  # validation keeps the order


def test_utterance_vectors_stay_arrays_on_other_backends():
    x = {"row": np.arange(10, dtype="float32")[:, None]}
    arguments = fit_arguments(x, np.zeros(10), batch_size=4)
    if keras.backend.backend() != "tensorflow":
        assert arguments["x"] is x and arguments["batch_size"] == 4
    else:
        assert "batch_size" not in arguments


@pytest.mark.backend_agnostic
def test_sequences_are_fed_in_length_buckets_and_a_task_trains_on_them(tiny):
    from applications.experiments.config import TrainingConfig
    from applications.experiments.training import train_task
    from mosi_keras.data import LengthBucketedBatches
    from tests.applications.conftest import DIMS, MAX_LEN, SMALL

    x, labels, _ = tiny
    arguments = fit_arguments(x, labels, batch_size=16, seed=0)
    expected = len(LengthBucketedBatches(x, labels, batch_size=16, seed=0))
    if keras.backend.backend() == "tensorflow":
        assert arguments["steps_per_epoch"] == expected
    else:
        assert isinstance(arguments["x"], LengthBucketedBatches) and len(arguments["x"]) == expected
    config = TrainingConfig(backbone=SMALL, head_units=(8,), epochs=3, patience=5, batch_size=16, learning_rate=1e-2)
    model, history = train_task("classifier", (x, labels), (x, labels), config, DIMS, MAX_LEN)
    assert len(history.history["val_loss"]) == 3 and history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.function tracing is TensorFlow's")
def test_predictions_of_any_row_count_and_length_trace_a_models_step_at_most_twice(tiny):
    """A concrete shape, then one with free axes (`reduce_retracing`): the
    retracing notice a run would print is TensorFlow counting many models'
    functions as one (`console.NOISE`), not a model tracing again."""
    from applications.batching import predict_in_buckets
    from tests.applications.conftest import make_backbone

    x, _, _ = tiny
    backbone = make_backbone()
    for rows in (slice(None), slice(0, 5), slice(3, 30), slice(None)):
        predict_in_buckets(backbone, {name: value[rows] for name, value in x.items()}, verbose=0)
    assert backbone.predict_function.experimental_get_tracing_count() <= 2

