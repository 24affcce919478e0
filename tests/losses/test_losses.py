"""The loss objects' plumbing: serialization, gradients through a model, saved files."""

import numpy as np
import pytest

import keras

from mosi_keras import losses
from tests.conftest import save_and_reload

pytestmark = pytest.mark.backend_agnostic


@pytest.mark.parametrize(
    "loss",
    [
        losses.ClusteringKLDivergence(),
        losses.MaskedReconstructionLoss(),
        losses.DisentanglementLoss(),
        losses.SemiSupervisedCrossentropy(),
    ],
    ids=lambda loss: type(loss).__name__,
)
def test_loss_objects_round_trip_through_keras_serialization(loss):
    config = keras.saving.serialize_keras_object(loss)
    clone = keras.saving.deserialize_keras_object(config, safe_mode=True)
    assert type(clone) is type(loss) and clone.get_config() == loss.get_config()


def test_losses_give_finite_gradients_through_a_model(rng):
    inputs = keras.Input((6,))
    z = keras.layers.Dense(4)(inputs)
    from mosi_keras.layers import ClusteringLayer

    q = ClusteringLayer(2)(z)
    model = keras.Model(inputs, {"z": z, "q": q})
    model.compile(
        optimizer="adam",
        loss={"z": losses.DisentanglementLoss(), "q": losses.SemiSupervisedCrossentropy()},
    )
    x = rng.normal(size=(16, 6)).astype("float32")
    labels = np.where(np.arange(16) % 3 == 0, -1, np.arange(16) % 2)
    history = model.fit(x, {"z": np.zeros((16, 4)), "q": labels}, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def test_model_compiled_with_loss_objects_survives_save(tmp_path, rng):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
    model.compile(optimizer="adam", loss=losses.SemiSupervisedCrossentropy())
    reloaded = save_and_reload(model, tmp_path)
    assert isinstance(reloaded.loss, losses.SemiSupervisedCrossentropy)
