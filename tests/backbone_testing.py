"""One shared check for a backbone, the counterpart of `run_layer_test` and
`run_task_test` (in the spirit of keras-hub's `TestCase.run_backbone_test`)."""

import os

import keras
import numpy as np
from keras import ops


def run_backbone_test(backbone_cls, init_kwargs, input_data, expected_output_shape, tmp_path):
    """Checks what every backbone promises.

    - `get_config` holds every `__init__` argument given and its dtype
      policy (from `super().get_config()`), and `from_config` rebuilds a
      backbone of the same config;
    - on `input_data` it gives `expected_output_shape`, the same batch by
      batch as whole (no row reads another);
    - `clone()` is the same function with weights of its own;
    - it survives a `.keras` save and a load with `safe_mode=True` with
      the same outputs;
    - a functional model can be built on its symbolic inputs (`input`),
      with the batch left free.

    Returns:
        The backbone.
    """
    backbone = backbone_cls(**init_kwargs)
    config = backbone.get_config()
    assert {"name", "trainable", "dtype"} <= set(config)
    for name, value in init_kwargs.items():
        if not isinstance(value, keras.layers.Layer):
            assert config[name] == (dict(value) if isinstance(value, dict) else value), name
    assert backbone_cls.from_config(config).get_config() == config

    output = ops.convert_to_numpy(backbone(input_data))
    assert output.shape == tuple(expected_output_shape)
    halves = [{k: v[i::2] for k, v in input_data.items()} for i in (0, 1)]
    np.testing.assert_allclose(ops.convert_to_numpy(backbone(halves[0])), output[0::2], atol=1e-5)

    twin = backbone.clone()
    assert twin is not backbone and twin.get_config() == config
    np.testing.assert_allclose(ops.convert_to_numpy(twin(input_data)), output, atol=1e-5)
    assert all(a is not b for a, b in zip(twin.weights, backbone.weights))

    path = os.path.join(tmp_path, f"{backbone_cls.__name__}.keras")
    backbone.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert type(reloaded) is backbone_cls and reloaded.get_config() == config
    np.testing.assert_allclose(ops.convert_to_numpy(reloaded(input_data)), output, atol=1e-5)

    model = keras.Model(backbone.input, keras.layers.Dense(1)(backbone.output))
    assert tuple(model.output.shape) == (None, 1)
    return backbone
