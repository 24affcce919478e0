"""The README's and the docs' Python examples run as written."""

import doctest
import importlib
import os
import pkgutil
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def discover_modules(*packages):
    """Every module of `packages`, found by walking them (none listed by hand)."""
    names = []
    for package in packages:
        names.append(package)
        root = importlib.import_module(package)
        names += [info.name for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}.")]
    return sorted(names)


MODULES = discover_modules("mosi_keras", "applications")


def python_blocks(path):
    with open(path) as file:
        return re.findall(r"```python\n(.*?)```", file.read(), flags=re.S)


@pytest.mark.parametrize("name", ["README.md", "docs/architecture.md", "docs/tutorial_reuse.md", "docs/tuning.md", "docs/text.md"])
def test_markdown_python_blocks_run(name, tmp_path, monkeypatch, eager_functions):
    monkeypatch.chdir(tmp_path)  # examples may write files (a tuner's directory)
    blocks = python_blocks(os.path.join(ROOT, name))
    assert blocks, f"{name} has no python example"
    namespace = {}  # a page is read top to bottom: later examples use earlier ones' names
    for block in blocks:
        exec(compile(block, name, "exec"), namespace)


def test_doctest_discovery_finds_every_module_with_examples():
    assert {"mosi_keras.layers.multi_head_self_attention", "mosi_keras.data.streaming",
            "applications.experiments.cli"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, extraglobs=vars(mod), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


@pytest.mark.slow  # run with -m slow; in the default suite: the tutorial page's own examples
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


README_ROWS = {
    "logistic regression on mean-pooled features": "logistic regression",
    "paper's schedule¹: baseline": "baseline",
    "paper's schedule¹: DEC-pretrained": "dec",
    "`small_data`: baseline": "baseline",
    "`small_data`: DEC-pretrained": "dec",
    "MiniLM text: logistic regression": "logistic regression",
    "MiniLM text: scikit-learn MLP": "MLP",
    "MiniLM text, `small_data`: classifier": "baseline",
    "MiniLM text, `small_data`: regressor (L1)": "baseline_regression",
    "MiniLM fine-tuned: classifier": "baseline",
    "MiniLM fine-tuned: DEC-pretrained": "dec",
    "MiniLM fine-tuned: DEC without its KL term": "dec_without_kl",
    "MiniLM fine-tuned: self-training": "self_training",
    "MiniLM fine-tuned: regressor (L1)": "baseline_regression",
    "MiniLM fine-tuned, `text` recipe²: classifier": "baseline",
    "MiniLM fine-tuned, `text` recipe²: DEC-pretrained": "dec",
    "MiniLM fine-tuned, `text` recipe²: self-training": "self_training",
}
"""Each row of the results tables (RESULTS.md's whole, the README's headline) → the experiment (or reference
model) of its record."""


def results_table(path, section=None):
    """The rows of the results table of `path` (under the heading `section`, when given), as lists of cells."""
    text = open(os.path.join(ROOT, path)).read()
    if section:
        text = text[text.index(section):].split("\n## ")[0]  # up to the next heading of its level
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith(("| model", "|---"))]
    return [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in rows]


@pytest.mark.parametrize("path, section", [("README.md", None),
                                           ("docs/RESULTS.md", "## Every result at a glance")])
def test_every_row_of_the_results_tables_recomputes_from_its_committed_record(path, section):
    """Mean ± sample std (ddof = 1) of `val_all` acc2 over the record's seeds, per label
    fraction ("–" where the record holds no run of it); a row without a
    record of its own reads the one above it. The README's headline rows are
    some of RESULTS.md's, which has them all."""
    import json
    import re

    import numpy as np

    rows = results_table(path, section)
    labels = {row[0] for row in rows}
    assert labels == set(README_ROWS) if section else len(rows) <= 8 and labels <= set(README_ROWS)
    record = None
    for label, *cells, source in rows:
        if source:
            record = json.load(open(os.path.join(ROOT, "docs", re.search(r"\((?:docs/)?([\w.]+\.json)\)", source)[1])))
        for fraction, cell in zip((0.4, 1.0), cells):
            if "records" in record:  # bench/reference_models.py --out
                values = [r["acc2"] for r in record["records"] if r["model"] == README_ROWS[label]
                          and r["label_fraction"] == fraction and r["part"] == "val_all"]
            else:
                values = [100 * r["val_all"]["acc2"] for r in record["runs"] if r["experiment"] == README_ROWS[label]
                          and r["label_fraction"] == fraction]
            if cell == "–":
                assert not values, (label, fraction, len(values))
                continue
            assert cell == f"{np.mean(values):.2f} ± {np.std(values, ddof=1):.2f}", (label, fraction, len(values))


KFOLD_SECTIONS = {
    "## The k-fold yardstick": {"docs/results_minilm_kfold.json": {}},
    "## DEC on the k-fold yardstick": {"docs/results_minilm_kfold.json": {},
                                       "docs/results_minilm_kfold_baseline_160_epochs.json":
                                           {"baseline": "baseline, 160 epochs"},
                                       "docs/results_minilm_kfold_baseline_80_epochs.json":
                                           {"baseline": "baseline, 80 epochs"},
                                       "docs/results_minilm_kfold_baseline_100_epochs.json":
                                           {"baseline": "baseline, 100 epochs"},
                                       "docs/results_minilm_kfold_dec_160_epochs.json": {"dec": "dec, 160 epochs"},
                                       "docs/results_minilm_kfold_mean_teacher_weight_1.json":
                                           {"mean_teacher_weight_1": "mean_teacher, weight 1"}},
}
"""RESULTS.md's k-fold sections → their records, each with the experiments its tables rename (a classifier of
another budget, in a record of its own, named in the table for what differs)."""


def kfold_records(records):
    import json

    from applications.experiments.run import RunRecord

    runs = []
    for path, renamed in records.items():
        with open(os.path.join(ROOT, path)) as file:
            for run in json.load(file)["runs"]:
                run["experiment"] = renamed.get(run["experiment"], run["experiment"])
                runs.append(RunRecord.from_dict(run))
    return runs


@pytest.mark.parametrize("section", list(KFOLD_SECTIONS))
def test_the_kfold_tables_recompute_from_their_committed_record(section):
    """RESULTS.md's k-fold sections: each method's pooled acc2 (mean ± sample
    std over the record's seeds) per label fraction, and each paired
    difference (per seed, mean, 95 % interval), from their records."""
    import numpy as np

    from applications.experiments.reports import paired_differences

    runs = kfold_records(KFOLD_SECTIONS[section])
    rows = results_table("docs/RESULTS.md", section)
    methods = [row for row in rows if len(row) == 5]  # | method | 10 % | 20 % | 40 % | 100 % |
    pairs = [row for row in rows if len(row) == 6 and row[0] != "comparison"]  # treatment − control, ..., ±
    assert len(methods) >= 2 and len(pairs) >= 3
    for name, *cells in methods:
        for fraction, cell in zip((0.1, 0.2, 0.4, 1.0), cells):
            values = [100 * r.kfold["acc2"] for r in runs if r.experiment == name.replace("`", "") and
                      r.label_fraction == fraction]
            expected = f"{np.mean(values):.2f} ± {np.std(values, ddof=1):.2f}" if values else "–"
            assert cell == expected and len(values) in (0, 5), (name, fraction)
    for comparison, labels, seeds, mean, interval, half in pairs:
        treatment, control = comparison.replace("`", "").split(" − ")
        result = paired_differences(runs, treatment, control, "kfold")[int(labels.rstrip(" %")) / 100]
        assert seeds == " ".join(f"{d:+.2f}" for d in result["differences"].values()), comparison
        assert mean.strip("*") == f"{result['mean']:+.2f}"
        assert interval.strip("*") == f"[{result['low']:+.2f}, {result['high']:+.2f}]"
        assert half == f"{(result['high'] - result['low']) / 2:.2f}"


def seed_groups(value, groups, key=()):
    """Fills `groups` with every number a record's runs hold, over seeds: a
    list of runs (dicts with a `seed`) is grouped by label fraction and the
    runs' text fields (experiment, model, part); `key + group + leaf path`
    → the values of that leaf, one per seed."""
    if isinstance(value, list) and value and all(isinstance(run, dict) and "seed" in run for run in value):
        for run in value:
            group = key + tuple((name, run[name]) for name in sorted(run)
                                if name == "label_fraction" or isinstance(run[name], str))
            for path, number in numeric_leaves(run):
                groups.setdefault(group + (path,), []).append(number)
    elif isinstance(value, (dict, list)):
        for name, item in value.items() if isinstance(value, dict) else enumerate(value):
            seed_groups(item, groups, key + (name,))


def numeric_leaves(run, path=""):
    for name, value in run.items():
        if isinstance(value, dict):
            yield from numeric_leaves(value, f"{path}/{name}")
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and name not in ("seed", "seconds"):
            yield f"{path}/{name}", float(value)


def test_every_spread_in_the_docs_that_a_record_holds_is_the_sample_std():
    """A "mean ± spread" of README.md or docs/ whose mean and spread are a
    committed record's mean and population std (ddof = 0) over seeds, and
    not its sample std (ddof = 1), is a spread given the wrong way: the
    docs say ± is the sample std. Metrics in [0, 1] are read in % too."""
    import glob
    import json

    import numpy as np

    groups = {}
    for path in glob.glob(os.path.join(ROOT, "docs", "*.json")):
        with open(path) as file:
            seed_groups(json.load(file), groups, (path,))
    sample, population = set(), set()
    for values in groups.values():
        for scale in (100, 1) if len(values) > 1 else ():
            scaled = np.asarray(values) * scale
            sample.add((f"{scaled.mean():.2f}", f"{scaled.std(ddof=1):.2f}"))
            population.add((f"{scaled.mean():.2f}", f"{scaled.std():.2f}"))
    wrong, matched = [], 0
    for doc in glob.glob(os.path.join(ROOT, "docs", "*.md")) + [os.path.join(ROOT, "README.md")]:
        with open(doc) as file:
            for number, line in enumerate(file, 1):
                for figure in re.findall(r"(\d+\.\d\d) ± (\d+\.\d\d)", line):
                    matched += figure in sample
                    if figure in population - sample:
                        wrong.append(f"{os.path.relpath(doc, ROOT)}:{number}: {' ± '.join(figure)}")
    assert not wrong, wrong
    assert matched > 300  # the records were read: most of the docs' spreads are found in them


def test_the_machinerys_module_table_lists_each_of_its_modules_and_no_other():
    import applications.experiments as machinery

    listed = set(re.findall(r"^\| `(\w+)` \|", machinery.__doc__, flags=re.M))
    modules = {name.rsplit(".", 1)[1] for name in MODULES if name.startswith("applications.experiments.")}
    assert listed == modules
