import keras
import numpy as np
import pytest
from keras import ops

from mosi_keras.optimizers import MultiRateAdam, WarmupCosineDecay

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


def test_weight_decay_takes_each_variables_own_rate():
    encoder, head = keras.Variable(np.ones((2, 3), "float32")), keras.Variable(np.ones(3, "float32"))
    optimizer = MultiRateAdam(0.1, rate_multiplier=0.2, scaled_variables=[encoder], weight_decay=0.5)
    optimizer.build([encoder, head])
    optimizer.apply([ops.zeros((2, 3)), ops.zeros(3)], [encoder, head])  # no gradient: Adam moves nothing, decay does
    np.testing.assert_allclose(ops.convert_to_numpy(encoder), 1 - 0.5 * 0.1 * 0.2, rtol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(head), 1 - 0.5 * 0.1, rtol=1e-6)
    assert optimizer.weight_decay == 0.5


def updated(optimizer, variables, gradients):
    """The variables' values after one `optimizer` update per entry of `gradients` (each a list, one per variable)."""
    for step in gradients:
        optimizer.apply([ops.convert_to_tensor(g) for g in step], variables)
    return [ops.convert_to_numpy(v) for v in variables]


def test_each_variable_moves_as_kerass_adam_at_its_own_rate_over_several_steps():
    rng = np.random.default_rng(0)
    gradients = [[rng.normal(size=(3, 2)).astype("float32"), rng.normal(size=2).astype("float32")] for _ in range(3)]
    encoder, head = keras.Variable(np.ones((3, 2), "float32")), keras.Variable(np.ones(2, "float32"))
    kit = updated(MultiRateAdam(1e-2, rate_multiplier=0.25, scaled_variables=[encoder], weight_decay=0.1),
                  [encoder, head], gradients)
    for index, rate in ((0, 2.5e-3), (1, 1e-2)):  # the encoder at the multiplied rate, the head at the rate
        alone = keras.Variable(np.ones(np.shape(gradients[0][index]), "float32"))
        want = updated(keras.optimizers.Adam(rate, weight_decay=0.1), [alone], [[step[index]] for step in gradients])
        np.testing.assert_allclose(kit[index], want[0], rtol=1e-6)


def test_on_pytorch_the_update_is_kerass_multi_tensor_adam_not_one_variable_at_a_time(monkeypatch):
    if keras.backend.backend() != "torch":
        pytest.skip("the multi-tensor update is PyTorch's")
    calls = []
    monkeypatch.setattr(keras.optimizers.Adam, "update_step", lambda *args: calls.append(args))
    variables = [keras.Variable(np.ones(2, "float32")) for _ in range(3)]
    moved = updated(MultiRateAdam(0.1, rate_multiplier=0.5, scaled_variables=variables[:1]), variables,
                    [[np.ones(2, "float32")] * 3])
    assert not calls
    np.testing.assert_allclose([m[0] for m in moved], [0.95, 0.9, 0.9], rtol=1e-5)  # Adam's first step: the rate


def test_it_round_trips_through_its_config():
    variables = [keras.Variable(np.ones(2, "float32")) for _ in range(3)]
    optimizer = MultiRateAdam(3e-4, rate_multiplier=0.25, weight_decay=0.01, scaled_variables=variables[1:])
    optimizer.build(variables)
    twin = MultiRateAdam.from_config(optimizer.get_config())
    assert (twin.rate_multiplier, twin.weight_decay, twin.scaled_indices) == (0.25, 0.01, [1, 2])
    assert keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(optimizer)).rate_multiplier == 0.25


def test_a_reloaded_model_goes_on_training_its_scaled_variables_at_their_own_rate(tmp_path):
    """One more epoch on the model reloaded from a `.keras` file (safe mode) equals one more on the original: the
    restored optimizer finds the encoder's variables by their paths."""
    keras.utils.set_random_seed(0)
    encoder = keras.layers.Dense(4, name="encoder")
    model = keras.Sequential([keras.Input((3,)), encoder, keras.layers.Dense(1, name="head")], name="model")
    model.compile(MultiRateAdam(1e-2, rate_multiplier=0.1, scaled_variables=encoder.trainable_variables), "mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = x.sum(1, keepdims=True)
    model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    for each in (model, reloaded):
        each.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    for original, again in zip(model.weights, reloaded.weights):
        np.testing.assert_allclose(ops.convert_to_numpy(again), ops.convert_to_numpy(original), rtol=1e-5, atol=1e-6)


def fit_embedding_model(jit_compile, run_eagerly=False):
    """Weights of an embedding model after two fits on sequences of two lengths (sparse gradients of the
    embedding), with weight decay and the moving average; and the optimizer."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(50, 8),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1)])
    model.compile(MultiRateAdam(1e-2, rate_multiplier=0.5, scaled_variables=model.layers[0].trainable_variables,
                                weight_decay=0.01, use_ema=True, jit_compile=jit_compile), "mse",
                  run_eagerly=run_eagerly)
    model.optimizer.build(model.trainable_variables)
    rng = np.random.default_rng(0)
    for length in (5, 7):
        tokens = rng.integers(0, 50, size=(32, length)).astype("int32")
        model.fit(tokens, rng.normal(size=(32, 1)).astype("float32"), batch_size=8, epochs=2, verbose=0)
    return [ops.convert_to_numpy(w) for w in model.weights], model.optimizer


def test_the_update_compiled_by_xla_moves_every_weight_as_keras_own_and_is_compiled_once_in_traced_steps_only():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("jit_compile compiles the update on TensorFlow only (JAX compiles the whole step)")
    plain, _ = fit_embedding_model(False)
    compiled, optimizer = fit_embedding_model(True)
    for a, b in zip(plain, compiled):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert optimizer._compiled_apply[1].experimental_get_tracing_count() == 1  # two lengths, one compilation
    assert MultiRateAdam.from_config(optimizer.get_config()).jit_compile
    eager, optimizer = fit_embedding_model(True, run_eagerly=True)
    assert optimizer._compiled_apply is None  # a step run eagerly updates eagerly: nothing compiled
    for a, b in zip(plain, eager):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_a_token_repeated_in_a_batch_moves_its_embedding_as_adam_on_the_summed_gradient():
    """On TensorFlow an embedding's gradient is IndexedSlices with a row per occurrence: Keras's Adam
    would square each occurrence apart; the update must be Adam's on the dense (summed) gradient."""
    def step(gradient):
        variable = keras.Variable(np.zeros((4, 2), "float32"))
        optimizer = MultiRateAdam(0.1, beta_1=0.5, beta_2=0.5, epsilon=1e-12)
        optimizer.apply([gradient], [variable])
        return ops.convert_to_numpy(variable)

    rows = np.ones((3, 2), "float32")
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        sparse = tf.IndexedSlices(tf.constant(rows), tf.constant([1, 1, 3]), tf.constant([4, 2]))
    else:
        sparse = np.zeros((4, 2), "float32")
        np.add.at(sparse, [1, 1, 3], rows)
    dense = np.zeros((4, 2), "float32")
    dense[1], dense[3] = 2.0, 1.0
    np.testing.assert_allclose(step(sparse), step(dense), atol=1e-6)
    np.testing.assert_allclose(step(dense)[[1, 3]], -0.1, atol=1e-5)  # Adam's first step: the rate, whatever g


def test_cosine_schedule_warms_up_linearly_then_decays_to_zero_at_the_last_step():
    schedule = WarmupCosineDecay(1e-3, warmup_fraction=0.1, total_steps=100)
    rate = {step: float(ops.convert_to_numpy(schedule(step))) for step in (0, 5, 10, 55, 100)}
    assert rate[0] == pytest.approx(0.0, abs=1e-12)
    assert rate[5] == pytest.approx(5e-4)
    assert rate[10] == pytest.approx(1e-3)
    assert rate[55] == pytest.approx(5e-4, rel=1e-4)  # half-way through the decay: cos(π/2)
    assert rate[100] == pytest.approx(0.0, abs=1e-9)
    schedule.total_steps = 200  # as a task's fit sets it: the schedule follows, though already called
    assert float(ops.convert_to_numpy(schedule(20))) == pytest.approx(1e-3)
    assert float(ops.convert_to_numpy(schedule(110))) == pytest.approx(5e-4, rel=1e-4)
    assert WarmupCosineDecay.from_config(schedule.get_config()).get_config() == schedule.get_config()


def test_a_cosine_schedule_without_its_length_refuses_to_guess_and_names_what_sets_it():
    with pytest.raises(ValueError, match="total_steps is not set. A sentiment task's fit sets it"):
        WarmupCosineDecay(1e-3)(0)
    with pytest.raises(ValueError, match="warmup_fraction"):
        WarmupCosineDecay(1e-3, warmup_fraction=1.0)
