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


@pytest.mark.parametrize("name", ["README.md", "docs/architecture.md", "docs/tutorial_reuse.md", "docs/tuning.md"])
def test_markdown_python_blocks_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples may write files (a tuner's directory)
    blocks = python_blocks(os.path.join(ROOT, name))
    assert blocks, f"{name} has no python example"
    for block in blocks:
        exec(compile(block, name, "exec"), {})


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, extraglobs=vars(mod), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_tutorial_script_runs_and_draws_its_plot(tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("tutorial_reuse", os.path.join(ROOT, "docs", "tutorial_reuse.py"))
    tutorial = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tutorial)
    tutorial.main(str(tmp_path), epochs=(1, 1, 1), samples=96)
    printed = capsys.readouterr().out
    assert "DEC-pretrained: test accuracy" in printed
    assert (tmp_path / "tutorial_reuse_losses.png").exists()


def test_api_reference_is_current():
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate_api", os.path.join(ROOT, "docs", "generate_api.py"))
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    with open(os.path.join(ROOT, "docs", "api.md")) as file:
        assert file.read() == generator.render(), "docs/api.md is stale: run python docs/generate_api.py"
