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
    preset folder (never a download).

    Raises:
        TextEncoderError: no such folder, a folder that is not a preset
            (no `config.json` / `metadata.json`), one keras-hub cannot load
            (the message names the folder and keras-hub's reason), or a
            tokenizer without `[CLS]` / `[SEP]` (not BERT-style).
    """
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise TextEncoderError(f"{folder}: no such encoder folder (give a local preset folder).")
    if not any(os.path.exists(os.path.join(folder, name)) for name in ("config.json", "metadata.json")):
        raise TextEncoderError(
            f"{folder}: not a keras-hub or Hugging Face preset folder (no config.json or metadata.json); "
            f"it holds {sorted(os.listdir(folder))[:8]}."
        )
    keras_hub = keras_hub_module()
    try:
        backbone = keras_hub.models.Backbone.from_preset(folder)
        tokenizer = keras_hub.tokenizers.Tokenizer.from_preset(folder)
    except Exception as error:  # keras-hub raises ValueError, KeyError, ... by architecture
        raise TextEncoderError(f"{folder}: keras-hub cannot load this encoder: {error}") from None
    for token in ("cls_token_id", "sep_token_id"):
        if getattr(tokenizer, token, None) is None:
            raise TextEncoderError(
                f"{folder}: its tokenizer ({type(tokenizer).__name__}) has no {token}; a BERT-style "
                "word-piece encoder is needed."
            )
    return backbone, tokenizer
