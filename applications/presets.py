"""Presets: a model saved as one folder a user copies to another machine and predicts raw data with.

The layout is keras-hub's (`keras_hub.models.Task.save_to_preset`):

    config.json                      the backbone (`MultimodalBackbone`, its text encoder's config inside)
    model.weights.h5                 the backbone's weights (with a text encoder: the encoder's, fine-tuned)
    task.json                        the task, without its backbone and preprocessor
    task.weights.h5                  the task's own weights: the head (DEC: the clustering layer and decoder)
    preprocessor.json                the fitted `Preprocessor` (statistics, length, tokenizer settings)
    assets/tokenizer/vocabulary.txt  with a text encoder: the tokenizer's word pieces, one a line
    metadata.json                    Keras and mosi_keras versions, parameter count, class

A model without one backbone (`SentimentEnsemble`) keeps everything in
`task.json` and `task.weights.h5`. Nothing outside the folder is read: the
text encoder's weights and vocabulary travel in it, so the encoder's own
preset folder is not needed to load it. Loading deserializes with
`safe_mode=True` (no lambda or arbitrary code is run).
"""

import datetime
import json
import os
import shutil

import h5py
import keras
import numpy as np

CONFIG_FILE = "config.json"
MODEL_WEIGHTS_FILE = "model.weights.h5"
TASK_CONFIG_FILE = "task.json"
TASK_WEIGHTS_FILE = "task.weights.h5"
PREPROCESSOR_CONFIG_FILE = "preprocessor.json"
VOCABULARY_FILE = os.path.join("assets", "tokenizer", "vocabulary.txt")
METADATA_FILE = "metadata.json"


class PresetMixin:
    """`save_to_preset(folder)` and `from_preset(folder)` for a model (a
    keras-hub `Task`'s pair of methods), in the layout of this module's
    docstring. Every task (`SentimentClassifier`, `SentimentRegressor`,
    `ContextualSentimentClassifier`), `SemiSupervisedDEC` and
    `SentimentEnsemble` has them; `mosi-keras evaluate` and `predict` take a
    preset folder where they take a `.keras` file.

    Example:

    >>> task.save_to_preset("my_task")  # doctest: +SKIP
    >>> SentimentClassifier.from_preset("my_task").predict(new_data)  # doctest: +SKIP

    A `.keras` file keeps how its task was compiled; a preset, like
    keras-hub's, does not: call `compile()` on the loaded model before `fit`
    or `evaluate`.
    """

    def save_to_preset(self, preset_dir):
        """Writes the model into the folder `preset_dir` (the layout of this
        module). The folder is written whole or not at all: under a
        temporary name, renamed into place; an earlier preset there is
        replaced, any other non-empty folder refused."""
        save_to_preset(self, preset_dir)

    @classmethod
    def from_preset(cls, preset_dir):
        """The model saved in `preset_dir` by `save_to_preset`, with its
        weights and preprocessor; a `ValueError` names a folder that holds
        another kind of model or no preset."""
        return load_preset(preset_dir, cls)


def own_variables(model, backbone=None):
    """The model's variables outside `backbone` (all of them without one), in a fixed order."""
    skip = set() if backbone is None else {id(v) for v in backbone.weights}
    return [v for v in model.weights if id(v) not in skip]


def split_config(model):
    """`(task config, backbone config or None, preprocessor config or None, vocabulary or None)`:
    the backbone's is the config's `backbone` (an ensemble holds its members' instead)."""
    task = keras.saving.serialize_keras_object(model)
    inner = task["config"]
    backbone = inner.pop("backbone", None)
    preprocessor = inner.pop("preprocessor", None)
    vocabulary = None
    tokenizer = None if preprocessor is None else preprocessor["config"].get("text_tokenizer")
    if tokenizer is not None:
        vocabulary = tokenizer["config"].pop("vocabulary")
    return task, backbone, preprocessor, vocabulary


def save_to_preset(model, preset_dir):
    """See `PresetMixin.save_to_preset`."""
    preset_dir = os.path.abspath(os.fspath(preset_dir))
    if os.path.isdir(preset_dir) and os.listdir(preset_dir) and not is_preset(preset_dir):
        raise FileExistsError(f"{preset_dir}: a folder that is not a preset; choose a new or empty folder.")
    partial = preset_dir + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        write_preset(model, partial)
        if os.path.isdir(preset_dir):
            shutil.rmtree(preset_dir)
        os.replace(partial, preset_dir)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def write_preset(model, folder):
    task, backbone, preprocessor, vocabulary = split_config(model)
    os.makedirs(os.path.dirname(os.path.join(folder, VOCABULARY_FILE)) if vocabulary else folder, exist_ok=True)
    write_json(task, folder, TASK_CONFIG_FILE)
    own = own_variables(model, None if backbone is None else model.backbone)
    write_variables(own, os.path.join(folder, TASK_WEIGHTS_FILE))
    if backbone is not None:
        write_json(backbone, folder, CONFIG_FILE)
        model.backbone.save_weights(os.path.join(folder, MODEL_WEIGHTS_FILE))
    if preprocessor is not None:
        write_json(preprocessor, folder, PREPROCESSOR_CONFIG_FILE)
    if vocabulary is not None:
        with open(os.path.join(folder, VOCABULARY_FILE), "w", encoding="utf-8") as file:
            file.writelines(f"{token}\n" for token in vocabulary)
    from mosi_keras import __version__

    write_json({"keras_version": keras.__version__, "mosi_keras_version": __version__,
                "class_name": type(model).__name__, "parameter_count": int(model.count_params()),
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}, folder, METADATA_FILE)


def write_json(value, folder, name):
    with open(os.path.join(folder, name), "w") as file:
        json.dump(value, file, indent=2)


def read_json(folder, name):
    with open(os.path.join(folder, name)) as file:
        return json.load(file)


def write_variables(variables, path):
    """Each variable's value under its index, its path kept as an attribute (to name a mismatch)."""
    with h5py.File(path, "w") as file:
        for index, variable in enumerate(variables):
            file.create_dataset(f"{index:05d}", data=keras.ops.convert_to_numpy(variable)).attrs["path"] = variable.path


def read_variables(variables, path):
    with h5py.File(path, "r") as file:
        names = sorted(file.keys())
        if len(names) != len(variables):
            raise ValueError(f"{path}: holds {len(names)} weights; the model built from task.json has "
                             f"{len(variables)}.")
        for name, variable in zip(names, variables):
            value = file[name][()]
            if tuple(value.shape) != tuple(variable.shape):
                raise ValueError(f"{path}: weight {file[name].attrs['path']!r} has shape {value.shape}; the model's "
                                 f"{variable.path!r} has {tuple(variable.shape)}.")
            variable.assign(value.astype(np.dtype(variable.dtype)))


def is_preset(folder):
    return os.path.isfile(os.path.join(folder, TASK_CONFIG_FILE)) and os.path.isfile(
        os.path.join(folder, METADATA_FILE))


def register_models():
    """Imports every model class of `applications`, which registers it for
    deserialization (a saved ensemble, DEC model or task of any kind loads)."""
    import applications

    for name in applications.__all__:
        getattr(applications, name)


def load_preset(preset_dir, cls=None):
    """The model of `preset_dir` (`PresetMixin.from_preset`); with `cls`,
    refused unless it is one."""
    register_models()
    preset_dir = os.fspath(preset_dir)
    if not is_preset(preset_dir):
        raise ValueError(f"{preset_dir}: not a mosi_keras preset folder (no {TASK_CONFIG_FILE} and "
                         f"{METADATA_FILE}); write one with task.save_to_preset(folder).")
    config = read_json(preset_dir, TASK_CONFIG_FILE)
    expected = None if cls is None else cls.__name__
    if expected is not None and not issubclass(keras.saving.get_registered_object(
            config["registered_name"]) or object, cls):
        raise ValueError(f"{preset_dir}: holds a {config['class_name']}, not a {expected}; load it with "
                         f"{config['class_name']}.from_preset.")
    if os.path.isfile(os.path.join(preset_dir, CONFIG_FILE)):
        config["config"]["backbone"] = read_json(preset_dir, CONFIG_FILE)
    if os.path.isfile(os.path.join(preset_dir, PREPROCESSOR_CONFIG_FILE)):
        preprocessor = read_json(preset_dir, PREPROCESSOR_CONFIG_FILE)
        tokenizer = preprocessor["config"].get("text_tokenizer")
        if tokenizer is not None:
            with open(os.path.join(preset_dir, VOCABULARY_FILE), encoding="utf-8") as file:
                tokenizer["config"]["vocabulary"] = file.read().splitlines()
        config["config"]["preprocessor"] = preprocessor
    model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    backbone = model.backbone if "backbone" in config["config"] else None
    if backbone is not None:
        backbone.load_weights(os.path.join(preset_dir, MODEL_WEIGHTS_FILE))
    read_variables(own_variables(model, backbone), os.path.join(preset_dir, TASK_WEIGHTS_FILE))
    return model
