"""One shared check for every layer of the kit, in the spirit of keras-hub's
`TestCase.run_layer_test`."""

import inspect
import os

import keras
import numpy as np
from keras import ops


def _symbolic(array, name):
    return keras.Input(np.shape(array)[1:], dtype=keras.backend.standardize_dtype(np.asarray(array).dtype),
                       name=name)


def _free_batch_shape(input_data):
    """The shape (a list of shapes for a list of inputs) with the batch left free."""
    if isinstance(input_data, list):
        return [(None,) + np.shape(a)[1:] for a in input_data]
    return (None,) + np.shape(input_data)[1:]


def _shape_kwargs(layer, call_kwargs):
    """`<name>_shape` (batch free) of each call argument that `compute_output_shape` takes."""
    taken = inspect.signature(layer.compute_output_shape).parameters
    return {f"{name}_shape": (None,) + np.shape(value)[1:] for name, value in call_kwargs.items()
            if f"{name}_shape" in taken}


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_data,
    expected_output_shape,
    expected_num_trainable_weights,
    expected_num_non_trainable_weights=0,
    expected_num_params=None,
    call_kwargs=None,
    mixed_precision_output_dtype="bfloat16",
    tmp_path=None,
):
    """Checks what every layer of the kit promises.

    - `get_config` / `from_config` round-trip to the same config;
    - the eager output has `expected_output_shape`, and the symbolic output
      and `compute_output_shape` agree with it (batch left free);
    - the weight counts (and `count_params`, when given) are as expected;
    - inside a functional model it survives a `.keras` save and a load with
      `safe_mode=True` with identical outputs (needs `tmp_path`);
    - one training step moves every trainable weight and gives a finite loss;
    - under `mixed_bfloat16` it runs, with outputs of
      `mixed_precision_output_dtype`, finite.

    `call_kwargs` are tensor arguments of `call` (`mask`, `attention_mask`),
    fed as model inputs in the symbolic checks (and their shapes to
    `compute_output_shape` as `<name>_shape` where it takes them);
    `input_data` may be a list of arrays (a layer of several inputs).
    """
    call_kwargs = dict(call_kwargs or {})
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    assert layer_cls.from_config(config).get_config() == config

    output = layer(input_data, **call_kwargs)
    assert tuple(output.shape) == tuple(expected_output_shape)
    assert len(layer.trainable_weights) == expected_num_trainable_weights
    assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights
    if expected_num_params is not None:
        assert layer.count_params() == expected_num_params
    free_batch = (None,) + tuple(expected_output_shape[1:])
    shape = layer.compute_output_shape(_free_batch_shape(input_data), **_shape_kwargs(layer, call_kwargs))
    assert tuple(shape) == free_batch
    # A list of inputs (an ensemble's members' outputs) is fed as `inputs_<i>`.
    parts = ({f"inputs_{i}": a for i, a in enumerate(input_data)} if isinstance(input_data, list)
             else {"inputs": input_data})

    def functional(dtype=None):
        inputs = {name: _symbolic(value, name) for name, value in {**parts, **call_kwargs}.items()}
        kwargs = dict(init_kwargs, **({"dtype": dtype} if dtype else {}))
        first = [inputs[name] for name in parts] if isinstance(input_data, list) else inputs["inputs"]
        symbolic = layer_cls(**kwargs)(first, **{k: inputs[k] for k in call_kwargs})
        assert tuple(symbolic.shape) == free_batch
        return keras.Model(inputs, symbolic)

    feed = dict(parts, **call_kwargs)
    model = functional()
    if tmp_path is not None:
        path = os.path.join(tmp_path, f"{layer_cls.__name__}.keras")
        model.save(path)
        reloaded = keras.saving.load_model(path, safe_mode=True)
        np.testing.assert_allclose(
            ops.convert_to_numpy(reloaded(feed)), ops.convert_to_numpy(model(feed)), atol=1e-6
        )

    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = [ops.convert_to_numpy(w).copy() for w in model.trainable_weights]
    # A random target: a constant one would give no gradient through a final
    # layer normalisation (its outputs always sum to the same value).
    target = np.random.default_rng(0).normal(size=tuple(expected_output_shape)).astype("float32")
    history = model.fit(feed, target, epochs=1, batch_size=len(target), verbose=0)
    assert np.isfinite(history.history["loss"][0])
    for weight, start in zip(model.trainable_weights, before):
        assert not np.allclose(ops.convert_to_numpy(weight), start), f"{weight.path} did not move"

    mixed = functional(dtype="mixed_bfloat16")
    output = mixed(feed)
    assert keras.backend.standardize_dtype(output.dtype) == mixed_precision_output_dtype
    assert np.all(np.isfinite(ops.convert_to_numpy(ops.cast(output, "float32"))))
