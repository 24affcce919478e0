"""Shared checks for every model of the kit, the counterparts of
`layer_testing.run_layer_test` (in the spirit of keras-hub's
`TestCase.run_task_test`): `run_model_test` on what a model's `fit`
takes, for any model, and on top of it `run_task_test` on raw data, for
every task (the DEC model included)."""

import os
import warnings

import keras
import numpy as np
from keras import ops

from mosi_keras.data import Preprocessor


def run_model_test(model, x, y, tmp_path, gradient_free=(), batch_size=None):
    """Checks what every model of the kit promises, on what its `fit` takes.

    - its config rebuilds a model with the same config; `compile` creates
      the optimizer's variables;
    - one `fit` step on `(x, y)` gives a finite loss and moves every
      trainable weight but those whose path ends with one of `gradient_free`
      (weights the loss cannot depend on, e.g. an attention's key bias,
      which softmax cancels);
    - `evaluate` gives a finite loss;
    - it survives a `.keras` save and a load with `safe_mode=True`: same
      class, config and weights (non-trainable state included: batch
      statistics, DEC's targets), the same predictions of `x`; it is
      compiled as it was saved (optimizer, its state, loss), without a
      warning, so `evaluate` gives the same loss;
    - it survives `save_to_preset` and `from_preset` (`applications.presets`)
      on the class: same class, config and weights, the same predictions
      of `x`, with nothing read but the preset folder.

    Args:
        model: the model, built, not compiled.
        x: its inputs (a dict of arrays, or data its `fit` prepares itself).
        y: its targets, or None where `x` carries them.
        tmp_path: a folder for the saved files.
        gradient_free: endings of weight paths that need not move.
        batch_size: `fit`'s batch; the default is one batch of everything.

    Returns:
        `(model, predictions)`: the trained model and its `predict(x)`.
    """
    name = type(model).__name__
    config = model.get_config()
    assert type(model).from_config(config).get_config() == config

    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    assert model.optimizer.built  # by compile: TensorFlow traces the first step once
    before = [ops.convert_to_numpy(w).copy() for w in model.trainable_weights]
    rows = len(next(iter(x.values()))) if isinstance(x, dict) else len(x)
    history = model.fit(x, y, epochs=1, batch_size=batch_size or rows, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    for weight, start in zip(model.trainable_weights, before):
        if weight.path.endswith(tuple(gradient_free)):
            continue
        assert not np.allclose(ops.convert_to_numpy(weight), start), f"{weight.path} did not move"
    loss = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    assert np.isfinite(loss)
    predicted = model.predict(x, verbose=0)

    path = os.path.join(tmp_path, f"{name}.keras")
    model.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Keras warns when it cannot compile a loaded model
        reloaded = keras.saving.load_model(path, safe_mode=True)
    assert type(reloaded) is type(model) and reloaded.get_config() == model.get_config()
    assert_same_weights(reloaded, model)
    assert_same_outputs(reloaded.predict(x, verbose=0), predicted)
    assert reloaded.compiled and type(reloaded.optimizer) is type(model.optimizer)
    assert int(reloaded.optimizer.iterations) == int(model.optimizer.iterations)  # its state was loaded
    np.testing.assert_allclose(reloaded.evaluate(x, y, verbose=0, return_dict=True)["loss"], loss, rtol=1e-4)

    check_preset_round_trip(model, x, os.path.join(tmp_path, f"{name}_preset"), predicted)
    return model, predicted


def run_task_test(task_cls, backbone, dataset, tmp_path, init_kwargs=None, max_len=None, text_tokenizer=None,
                  gradient_free=(), targets=None):
    """Checks what every task promises, on raw data: the task is built on
    `backbone` with a `Preprocessor` fitted on `dataset` (reading the text
    from its transcripts with `text_tokenizer`, for a backbone with a
    `text_encoder`), passes `run_model_test` on the raw `MultimodalDataset`
    (with `targets`, or the task's own of its sentiment; its preprocessor
    travels with the saved file and the preset), and predicts one row per
    segment (a sentiment task: one value), the same as `predict` on the
    inputs prepared by hand (`Preprocessor.transform`) for a row-level task.

    Returns:
        The trained task.
    """
    preprocessor = Preprocessor(max_len or backbone.max_len, text_tokenizer).fit(dataset)
    model = task_cls(backbone, preprocessor=preprocessor, **(init_kwargs or {}))
    model, raw = run_model_test(model, dataset, targets, tmp_path, gradient_free)
    if isinstance(raw, dict):  # DEC's z and q
        assert all(len(values) == len(dataset) for values in raw.values())
    else:
        assert np.shape(raw) == (len(dataset), 1)
    if model.BATCHES_ROWS:  # a row-level task (not a video's): the hand-made path is one predict
        assert_same_outputs(model.predict(preprocessor.transform(dataset), verbose=0), raw)
    return model


def assert_same_outputs(actual, expected):
    """`actual` equals `expected`: arrays, or dicts of them (DEC's `z` and `q`)."""
    if not isinstance(expected, dict):
        actual, expected = {"output": actual}, {"output": expected}
    assert set(actual) == set(expected)
    for name, values in expected.items():
        np.testing.assert_allclose(np.asarray(actual[name]), np.asarray(values), atol=1e-5, err_msg=name)


def assert_same_weights(actual, expected):
    """`actual` holds `expected`'s weights, trainable or not, path by path."""
    assert [w.path for w in actual.weights] == [w.path for w in expected.weights]
    for weight, want in zip(actual.weights, expected.weights):
        np.testing.assert_array_equal(ops.convert_to_numpy(weight), ops.convert_to_numpy(want), err_msg=weight.path)


def check_preset_round_trip(model, data, folder, expected):
    """`model.save_to_preset(folder)`, then `type(model).from_preset` on a
    copy of the folder moved elsewhere (what a user hands on): same class,
    config and weights, `predict(data)` equal to `expected`."""
    model.save_to_preset(folder)
    moved = folder + "_moved"
    os.replace(folder, moved)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = type(model).from_preset(moved)
    assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
    assert_same_weights(loaded, model)
    assert_same_outputs(loaded.predict(data, verbose=0), expected)
    return loaded
