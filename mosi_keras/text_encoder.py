"""Loading a pre-trained text encoder (backbone and tokenizer): a local keras-hub or Hugging Face preset folder, or
whatever else keras-hub's `from_preset` takes (a built-in preset name, `hf://`, `kaggle://`), which keras-hub
downloads and caches.

Needs the `text` extra (`pip install -e ".[text]"`: keras-hub); the rest of
the kit works without it.
"""

import contextlib
import copy
import os
import random

import numpy as np

_READ = {}
"""Each preset folder's backbone as read: folder → (its files' names, sizes and times; class; config; weights)."""


class TextEncoderError(ValueError):
    """A text encoder that cannot be used: keras-hub missing, a folder that
    is not a preset, an architecture keras-hub cannot load."""


def keras_hub_module():
    """`keras_hub`, or a `TextEncoderError` saying which extra to install."""
    try:
        import keras_hub
    except ImportError:
        raise TextEncoderError(
            "text features need keras-hub: install the text extra, pip install -e '.[text]'"
        ) from None
    return keras_hub


def is_handle(preset):
    """Whether `preset` names a preset for keras-hub to fetch (`hf://…`,
    `kaggle://…`, a built-in name such as `bert_tiny_en_uncased`) rather
    than a local folder: it has a scheme, or it is a bare name (no path
    separator, not starting with `.` or `~`) that is no folder here."""
    preset = os.fspath(preset)
    if "://" in preset:
        return True
    return os.sep not in preset and "/" not in preset and not preset.startswith((".", "~")) and not os.path.isdir(
        preset)


def load_text_encoder(folder):
    """The backbone and tokenizer of a preset (a local folder or a
    keras-hub handle, `is_handle`): `(load_text_backbone(folder),
    load_text_tokenizer(folder))`."""
    return load_text_backbone(folder), load_text_tokenizer(folder)


def load_text_backbone(folder):
    """The pre-trained backbone of a local preset folder (its weights loaded).

    The folder is read once per process while its files are unchanged
    (a run may build the encoder for DEC's word states, its task, each
    fold and a self-training student): later calls build a new backbone,
    sharing nothing, from the configuration and weights already read.
    Building draws no random number (Python's and NumPy's generators are
    left as they were), so a run's numbers do not depend on how many
    encoders its process built before it.

    Raises:
        TextEncoderError: no such folder, a folder that is not a preset
            (no `config.json` / `metadata.json`), or one keras-hub cannot
            load (the message names the folder and keras-hub's reason).
    """
    folder = os.fspath(folder)
    stamp = files_stamp(folder)
    with random_state_kept():
        kept = _READ.get(folder)
        if kept is not None and kept[0] == stamp:
            backbone = kept[1].from_config(copy.deepcopy(kept[2]))  # from_config may take the dict apart
            backbone.set_weights(kept[3])
            return backbone
        backbone = from_preset(folder, "models.Backbone")
        _READ[folder] = stamp, type(backbone), backbone.get_config(), backbone.get_weights()
        return backbone


def files_stamp(folder):
    """The names, sizes and modification times of the files in `folder` (`None`: no such folder)."""
    if not os.path.isdir(folder):
        return None
    return tuple(sorted((entry.name, entry.stat().st_size, entry.stat().st_mtime_ns)
                        for entry in os.scandir(folder) if entry.is_file()))


@contextlib.contextmanager
def random_state_kept():
    """Python's and NumPy's random generators as they were before the block (Keras draws its layers'
    default seeds from Python's)."""
    python, numpy = random.getstate(), np.random.get_state()
    try:
        yield
    finally:
        random.setstate(python)
        np.random.set_state(numpy)


def load_text_tokenizer(folder):
    """The tokenizer of a local preset folder (nothing else is loaded;
    `TranscriptTokenizer` checks that it is BERT-style).

    Raises:
        TextEncoderError: as `load_text_backbone`.
    """
    return from_preset(folder, "tokenizers.Tokenizer")


def from_preset(folder, kind):
    """`keras_hub.<kind>.from_preset(folder)` for a local folder or a
    keras-hub handle (`is_handle`: keras-hub downloads and caches it), its
    errors named."""
    folder = os.fspath(folder)
    module, name = kind.split(".")
    if is_handle(folder):
        try:
            return getattr(getattr(keras_hub_module(), module), name).from_preset(folder)
        except TextEncoderError:
            raise
        except Exception as error:  # offline, an unknown name, a gated model: keras-hub's own reason
            raise TextEncoderError(
                f"{folder}: keras-hub could not load this preset ({type(error).__name__}: {error}). Without a "
                "network, fetch it once where there is one (keras-hub caches it) or give a local preset folder."
            ) from None
    if not os.path.isdir(folder):
        raise TextEncoderError(f"{folder}: no such encoder folder (give a local preset folder, or a keras-hub preset "
                               "name, hf://… or kaggle://… handle).")
    if not any(os.path.exists(os.path.join(folder, name)) for name in ("config.json", "metadata.json")):
        raise TextEncoderError(
            f"{folder}: not a keras-hub or Hugging Face preset folder (no config.json or metadata.json); "
            f"it holds {sorted(os.listdir(folder))[:8]}."
        )
    try:
        return getattr(getattr(keras_hub_module(), module), name).from_preset(folder)
    except Exception as error:  # keras-hub raises ValueError, KeyError, ... by architecture
        raise TextEncoderError(f"{folder}: keras-hub cannot load this encoder: {error}") from None
