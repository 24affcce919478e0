"""One shared check for every sentiment task, the counterpart of `layer_testing.run_layer_test`
(in the spirit of keras-hub's `TestCase.run_task_test`)."""

import os
import warnings

import keras
import numpy as np
from keras import ops

from mosi_keras.data import Preprocessor


def run_task_test(task_cls, backbone, dataset, tmp_path, init_kwargs=None, max_len=None, text_tokenizer=None,
                  gradient_free=()):
    """Checks what every sentiment task promises, on raw data.

    - it is built on `backbone` with a `Preprocessor` fitted on `dataset`
      (reading the text from its transcripts with `text_tokenizer`, for a
      backbone with a `text_encoder`), and its config rebuilds a task with
      the same config; `compile` creates the optimizer's variables;
    - one `fit` step on the raw `MultimodalDataset` (targets taken from its
      sentiment) gives a finite loss and moves every trainable weight but
      those whose path ends with one of `gradient_free` (weights the loss
      cannot depend on, e.g. an attention's key bias, which softmax cancels);
    - `evaluate` on the raw data gives a finite loss;
    - `predict` on the raw data gives one value per segment, the same as
      `predict` on the inputs prepared by hand (`Preprocessor.transform`)
      for a row-level task;
    - it survives a `.keras` save and a load with `safe_mode=True`: same
      class and config, and the loaded file predicts the raw data as the
      trained task does (its preprocessor travels with it); it is compiled
      as it was saved (optimizer, its state, loss), without a warning, so
      `evaluate` gives the same loss;
    - it survives `save_to_preset` and `from_preset` (`applications.presets`)
      on the class: same class and config, the same predictions of the raw
      data, with nothing read but the preset folder.

    Returns:
        The trained task.
    """
    preprocessor = Preprocessor(max_len or backbone.max_len, text_tokenizer).fit(dataset)
    model = task_cls(backbone, preprocessor=preprocessor, **(init_kwargs or {}))
    config = model.get_config()
    assert task_cls.from_config(config).get_config() == config

    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    assert model.optimizer.built  # by compile: TensorFlow traces the first step once
    before = [ops.convert_to_numpy(w).copy() for w in model.trainable_weights]
    history = model.fit(dataset, epochs=1, batch_size=len(dataset), verbose=0)
    assert np.isfinite(history.history["loss"][0])
    for weight, start in zip(model.trainable_weights, before):
        if weight.path.endswith(tuple(gradient_free)):
            continue
        assert not np.allclose(ops.convert_to_numpy(weight), start), f"{weight.path} did not move"
    loss = model.evaluate(dataset, verbose=0, return_dict=True)["loss"]
    assert np.isfinite(loss)

    raw = np.asarray(model.predict(dataset, verbose=0))
    assert raw.shape == (len(dataset), 1)
    if "utterance_mask" not in model.input:  # a row-level task: the hand-made path is one predict
        by_hand = np.asarray(model.predict(preprocessor.transform(dataset), verbose=0))
        np.testing.assert_allclose(raw, by_hand, atol=1e-5)

    path = os.path.join(tmp_path, f"{task_cls.__name__}.keras")
    model.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Keras warns when it cannot compile a loaded model
        reloaded = keras.saving.load_model(path, safe_mode=True)
    assert type(reloaded) is task_cls and reloaded.get_config() == model.get_config()
    np.testing.assert_allclose(np.asarray(reloaded.predict(dataset, verbose=0)), raw, atol=1e-5)
    assert reloaded.compiled and type(reloaded.optimizer) is type(model.optimizer)
    assert int(reloaded.optimizer.iterations) == int(model.optimizer.iterations)  # its state was loaded
    np.testing.assert_allclose(reloaded.evaluate(dataset, verbose=0, return_dict=True)["loss"], loss, rtol=1e-4)

    check_preset_round_trip(model, dataset, os.path.join(tmp_path, f"{task_cls.__name__}_preset"), raw)
    return model


def check_preset_round_trip(model, data, folder, expected):
    """`model.save_to_preset(folder)`, then `type(model).from_preset` on a
    copy of the folder moved elsewhere (what a user hands on): same class
    and config, `predict(data)` equal to `expected`."""
    model.save_to_preset(folder)
    moved = folder + "_moved"
    os.replace(folder, moved)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = type(model).from_preset(moved)
    assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
    predicted = loaded.predict(data, verbose=0)
    for name, values in (predicted.items() if isinstance(predicted, dict) else [("output", predicted)]):
        want = expected[name] if isinstance(expected, dict) else expected
        np.testing.assert_allclose(np.asarray(values), np.asarray(want), atol=1e-5)
    return loaded
