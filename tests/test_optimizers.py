import keras
import numpy as np
import pytest
from keras import ops

from mosi_keras.optimizers import MultiRateAdam

pytestmark = pytest.mark.backend_agnostic


def one_step(rate_multiplier):
    """The largest change of each weight of a two-layer model after one step
    whose first layer takes `rate_multiplier` × the rate."""
    keras.utils.set_random_seed(0)
    encoder, head = keras.layers.Dense(4), keras.layers.Dense(1)
    model = keras.Sequential([keras.Input((3,)), encoder, head])
    before = [ops.convert_to_numpy(w).copy() for w in model.weights]
    model.compile(MultiRateAdam(1e-2, rate_multiplier=rate_multiplier, scaled_variables=encoder.trainable_variables),
                  "mse")
    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    model.fit(x, x.sum(1, keepdims=True), epochs=1, batch_size=16, verbose=0)
    return np.array([np.abs(ops.convert_to_numpy(w) - b).max() for w, b in zip(model.weights, before)])


def test_the_scaled_variables_move_by_the_multiplied_rate_and_the_others_by_the_rate():
    plain, slow, frozen = one_step(1.0), one_step(0.1), one_step(0.0)
    np.testing.assert_allclose(plain, 1e-2, rtol=1e-3)  # Adam's first step: the rate, on every weight
    np.testing.assert_allclose(slow[:2], 1e-3, rtol=1e-3)  # the encoder's kernel and bias
    np.testing.assert_allclose(slow[2:], 1e-2, rtol=1e-3)
    np.testing.assert_array_equal(frozen[:2], 0.0)


def test_it_round_trips_through_its_config():
    optimizer = MultiRateAdam(3e-4, rate_multiplier=0.25, weight_decay=0.01)
    twin = MultiRateAdam.from_config(optimizer.get_config())
    assert (twin.rate_multiplier, twin.weight_decay) == (0.25, 0.01)
    assert keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(optimizer)).rate_multiplier == 0.25
