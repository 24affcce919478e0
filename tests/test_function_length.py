"""The packages' and bench's functions stay short enough to read in one screen."""

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_LINES = 60
REASON = "Longer than 60 lines:"
"""What a function's docstring says, followed by why, to be longer."""


def function_lengths(path):
    """`(name, lines, docstring)` of every function of the file at `path`;
    lines from `def` to the last, its docstring not counted."""
    with open(path) as file:
        tree = ast.parse(file.read())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            docstring = ast.get_docstring(node, clean=False)
            first = node.body[0]
            skipped = first.end_lineno - first.lineno + 1 if docstring is not None else 0
            yield node.name, node.end_lineno - node.lineno + 1 - skipped, docstring or ""


def test_no_function_in_the_packages_or_bench_is_over_60_lines_without_a_reason_in_its_docstring():
    long = []
    for package in ("mosi_keras", "applications", "bench"):
        for folder, _, names in os.walk(os.path.join(ROOT, package)):
            for name in (name for name in names if name.endswith(".py")):
                path = os.path.join(folder, name)
                long += [f"{os.path.relpath(path, ROOT)}: {function} ({lines} lines)"
                         for function, lines, docstring in function_lengths(path)
                         if lines > MAX_LINES and REASON not in docstring]
    assert not long, long
