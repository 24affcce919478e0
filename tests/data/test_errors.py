"""Every bad input of docs/errors.md gets a message that names its problem."""

import importlib.util
import os

import pytest

from tests.test_docs import ROOT

spec = importlib.util.spec_from_file_location("generate_errors", os.path.join(ROOT, "docs", "generate_errors.py"))
generate_errors = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generate_errors)


@pytest.mark.parametrize("case", generate_errors.CASES, ids=[case[0] for case in generate_errors.CASES])
def test_bad_input_gets_a_message_naming_the_problem(case):
    kind, text = generate_errors.message(case)
    assert kind in {"DataError", "FileNotFoundError", "TextEncoderError"}, f"{case[0]}: no clear error ({kind})"
    assert case[2] in text


def test_error_table_is_current():
    with open(os.path.join(ROOT, "docs", "errors.md")) as file:
        assert file.read() == generate_errors.render(), "docs/errors.md is stale: run python docs/generate_errors.py"
