"""The model-input contract lives in one module (`mosi_keras.inputs`)."""

import os
import re

from mosi_keras import inputs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WRITTEN_AGAIN = re.compile(
    r'(?<!>>> )(?<!\.inputs\[)"(_mask|utterance_mask|sample_index|text_token_ids|text_padding_mask|text_word_index)"'
    r"|\b(max_len|max_words)=30\b|^[A-Z_]+ = (30|-1)$", re.M)
"""An input's name, the default length or the unlabelled mark written as a literal (doctest output aside)."""


def test_input_names_the_default_length_and_the_unlabelled_mark_are_written_only_in_mosi_keras_inputs():
    found = []
    for package in ("mosi_keras", "applications", "bench"):
        for folder, _, names in os.walk(os.path.join(ROOT, package)):
            for name in names:
                path = os.path.join(folder, name)
                if name.endswith(".py") and path != inputs.__file__:
                    with open(path) as file:
                        text = file.read()
                    found += [f"{os.path.relpath(path, ROOT)}: {m.group(0)}" for m in WRITTEN_AGAIN.finditer(text)]
    assert not found, found
    assert inputs.mask_name("audio") == "audio_mask" and inputs.is_mask_name("audio_mask")
