"""Loading a pre-trained text encoder (backbone and tokenizer) from a local keras-hub or Hugging Face preset folder.

Needs the `text` extra (`pip install -e ".[text]"`: keras-hub); the rest of
the kit works without it.
"""

import os


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


def load_text_encoder(folder):
    """The backbone and tokenizer of a local keras-hub or Hugging Face
    preset folder (never a download): `(load_text_backbone(folder),
    load_text_tokenizer(folder))`."""
    return load_text_backbone(folder), load_text_tokenizer(folder)


def load_text_backbone(folder):
    """The pre-trained backbone of a local preset folder (its weights loaded).

    Raises:
        TextEncoderError: no such folder, a folder that is not a preset
            (no `config.json` / `metadata.json`), or one keras-hub cannot
            load (the message names the folder and keras-hub's reason).
    """
    return from_preset(folder, "models.Backbone")


def load_text_tokenizer(folder):
    """The tokenizer of a local preset folder (nothing else is loaded;
    `TranscriptTokenizer` checks that it is BERT-style).

    Raises:
        TextEncoderError: as `load_text_backbone`.
    """
    return from_preset(folder, "tokenizers.Tokenizer")


def from_preset(folder, kind):
    """`keras_hub.<kind>.from_preset(folder)` for a local folder, its errors named."""
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise TextEncoderError(f"{folder}: no such encoder folder (give a local preset folder).")
    if not any(os.path.exists(os.path.join(folder, name)) for name in ("config.json", "metadata.json")):
        raise TextEncoderError(
            f"{folder}: not a keras-hub or Hugging Face preset folder (no config.json or metadata.json); "
            f"it holds {sorted(os.listdir(folder))[:8]}."
        )
    module, name = kind.split(".")
    try:
        return getattr(getattr(keras_hub_module(), module), name).from_preset(folder)
    except Exception as error:  # keras-hub raises ValueError, KeyError, ... by architecture
        raise TextEncoderError(f"{folder}: keras-hub cannot load this encoder: {error}") from None
