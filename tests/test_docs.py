"""The README's and the docs' Python examples run as written."""

import doctest
import importlib
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = [
    "mosi_keras.layers.positional_encoding",
    "mosi_keras.layers.modality_transformer_encoder",
    "mosi_keras.layers.clustering",
    "mosi_keras.losses.target_distribution",
    "mosi_keras.losses.clustering_kl",
    "mosi_keras.losses.reconstruction",
    "mosi_keras.losses.disentanglement",
    "mosi_keras.losses.semi_supervised_crossentropy",
    "mosi_keras.data.preprocessing",
    "applications.sentiment_classifier",
    "applications.semi_supervised_dec",
]


def python_blocks(path):
    with open(path) as file:
        return re.findall(r"```python\n(.*?)```", file.read(), flags=re.S)


@pytest.mark.parametrize("name", ["README.md", "docs/architecture.md"])
def test_markdown_python_blocks_run(name):
    blocks = python_blocks(os.path.join(ROOT, name))
    assert blocks, f"{name} has no python example"
    for block in blocks:
        exec(compile(block, name, "exec"), {})


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, extraglobs=vars(mod), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
