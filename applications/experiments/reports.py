"""Tables and figures of a reproduction: Table 1, Fig. 3 (losses), Fig. 4 (t-SNE)."""

import os
import textwrap

import numpy as np

from applications.experiments.files import write_atomically

PAPER_ACCURACY = {("baseline", 0.4): 73.14, ("dec", 0.4): 75.86, ("dec", 1.0): 81.50}
PAPER_PARAMS = 851_713

METRICS = ("acc2", "acc2_non0", "f1", "f1_non0", "acc7", "mae", "corr")
"""What the table can show: the MOSI literature's set (the last three for score predictions)."""
PERCENT = {"acc2", "acc2_non0", "f1", "f1_non0", "acc7"}
PARTS = ("kfold", "val", "val_all", "val_unlabelled", "test")
"""Where a run is measured: every row by the fold model that never saw its video (the k-fold yardstick,
`kfold.py`), the labelled validation videos (model selection), every validation video (labelled or not), the
unlabelled validation videos alone, the held-out data."""


def summarize(runs):
    """Groups `RunRecord`s by (experiment, label_fraction): mean and sample
    standard deviation (ddof = 1; 0 for one seed) of each metric."""
    groups = {}
    for run in runs:
        groups.setdefault((run.experiment, run.label_fraction), []).append(run)
    summary = []
    for (experiment, fraction), members in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        row = {"experiment": experiment, "label_fraction": fraction, "seeds": len(members),
               "params": members[0].params}
        for part in PARTS:
            results = [getattr(m, part) for m in members]
            if all(results):
                for metric in METRICS:
                    values = [r[metric] for r in results if r.get(metric) is not None]
                    if values:
                        scale = 100 if metric in PERCENT else 1
                        spread = np.std(values, ddof=1) if len(values) > 1 else 0.0
                        row[f"{part}_{metric}"] = (float(np.mean(values)) * scale, float(spread) * scale)
        summary.append(row)
    return summary


SHORT_PARTS = {"kfold": "kfold", "val": "val", "val_all": "all", "val_unlabelled": "unlab", "test": "test"}
"""The narrow table's name for each part (`PARTS`)."""


def cell(value, width):
    """`mean ± std` right-aligned in `width`; the mean alone for one seed (std 0 by construction)."""
    mean, std, seeds = value
    return f"{mean:.2f} ± {std:.2f}".rjust(width) if seeds > 1 else f"{mean:.2f}".rjust(width)


def format_table(summary, wide=False):
    """Plain-text table of mean ± std over seeds (accuracies and F1 in %;
    the mean alone for one seed), the paper's accuracy alongside.

    By default it fits a 100-column terminal: acc2 on each part that was
    measured (`val`, every validation video `all`, the unlabelled ones
    `unlab`, `test`) and F1 on every validation video; for runs of the
    k-fold yardstick, acc2, acc2_non0 and F1 on every row (`kfold`), then
    `test`'s acc2. `wide`: every part
    × acc2, acc2_non0 and F1 (and Acc-7, MAE and Corr where scores were
    predicted), with the parameter counts; `results.json` holds it all."""
    parts = [part for part in PARTS if any(f"{part}_acc2" in row for row in summary)] or ["val"]
    first = parts[0]  # the yardstick's pooled rows, else the labelled validation videos
    if wide:
        shown = [m for m in ("acc2", "acc2_non0", "f1") if any(f"{first}_{m}" in row for row in summary)]
        if any(f"{first}_acc7" in row for row in summary):  # some runs predicted scores
            shown += ["acc7", "mae", "corr"]
        columns = [(part, metric, f"{part} {metric}") for part in parts for metric in shown]
    elif first == "kfold":  # the protocol's three metrics on the pooled rows
        columns = [("kfold", metric, f"kfold {metric}") for metric in ("acc2", "acc2_non0", "f1")]
        columns += [(part, "acc2", f"{SHORT_PARTS[part]} acc2") for part in parts[1:]]
    else:
        columns = [(part, "acc2", f"{SHORT_PARTS[part]} acc2") for part in parts]
        f1_part = "val_all" if "val_all" in parts else "val"
        columns.append((f1_part, "f1", f"{SHORT_PARTS[f1_part]} f1"))
    seeds = {row["seeds"] for row in summary}
    spread = max(seeds, default=1) > 1
    width = max([(16 if wide else 12) if spread else 10] + [len(title) for *_, title in columns])
    name = max([10] + [len(row["experiment"]) for row in summary])
    header = f"{'model':<{name}} {'labels':>6}" + (f" {'seeds':>5}" if wide or len(seeds) > 1 else "")
    header += f" {'params':>10}" if wide else ""
    header += "".join(f" {title:>{width}}" for *_, title in columns) + f" {'paper':>6}"
    lines = [header, "-" * len(header)]
    for row in summary:
        line = f"{row['experiment']:<{name}} {int(row['label_fraction'] * 100):>5}%"
        line += f" {row['seeds']:>5}" if wide or len(seeds) > 1 else ""
        line += f" {row['params']:>10,}" if wide else ""
        for part, metric, _ in columns:
            value = row.get(f"{part}_{metric}")
            line += " " + (cell((*value, row["seeds"]), width) if value else "-".rjust(width))
        paper = PAPER_ACCURACY.get((row["experiment"], row["label_fraction"]))
        line += f" {paper:>6.2f}" if paper else f" {'-':>6}"
        lines.append(line)
    notes = [] if wide else [f"{SHORT_PARTS[p]}: {WHERE[p]}" for p in parts if p != "val"]
    if spread:
        notes.append("± sample standard deviation over seeds")
    if len(seeds) == 1:
        notes.append(f"{seeds.pop()} seed(s)")
    notes.append(f"paper: its own split, {PAPER_PARAMS:,} parameters")
    if not wide:
        notes.append("every metric: --wide, results.json")
    lines += textwrap.wrap("(" + "; ".join(notes) + ")", 99)
    return "\n".join(lines)


WHERE = {"kfold": "every row, by the fold model that never saw its video", "val_all": "every validation video",
         "val_unlabelled": "the unlabelled validation videos", "test": "the held-out data"}


def format_ensembles(rows):
    """Lines of `grid.seed_ensembles`: each seed ensemble's held-out metrics."""
    lines = []
    for row in rows:
        test = row["test"]
        scores = "".join(f" {name} {100 * test[name]:.2f}" for name in ("acc2", "acc2_non0", "f1") if name in test)
        if "mae" in test:
            scores += f" acc7 {100 * test['acc7']:.2f} mae {test['mae']:.3f} corr {test['corr'] or float('nan'):.3f}"
        lines += textwrap.wrap(f"seed ensemble of {row['experiment']} ({row['seeds']} seeds, "
                               f"{int(row['label_fraction'] * 100)}% labels), test:{scores}", 99,
                               subsequent_indent="    ")
    return "\n".join(lines)


def plot_losses(histories, path, title):
    """Fig. 3: training and validation loss per epoch, one panel per stage."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stages = [s for s in histories if histories[s].get("loss")]
    figure, axes = plt.subplots(1, len(stages), figsize=(5 * len(stages), 3.5), squeeze=False)
    for axis, stage in zip(axes[0], stages):
        axis.plot(histories[stage]["loss"], label="train")
        if "val_loss" in histories[stage]:
            axis.plot(histories[stage]["val_loss"], label="validation")
        axis.set_title(f"{title}: {stage}")
        axis.set_xlabel("epoch")
        axis.set_ylabel("loss")
        axis.legend()
    figure.tight_layout()
    write_atomically(path, lambda partial: figure.savefig(partial, dpi=90))
    plt.close(figure)


def plot_tsne(z, clusters, labels, path, seed=0, max_points=1000):
    """Fig. 4: t-SNE (scikit-learn) of the clustering space, by cluster and by label."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.manifold import TSNE

    rng = np.random.default_rng(seed)
    keep = rng.permutation(len(z))[:max_points]
    points = TSNE(2, random_state=seed, init="pca", perplexity=min(30, len(keep) - 1)).fit_transform(z[keep])
    figure, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    for axis, colours, title in ((axes[0], clusters[keep], "cluster"), (axes[1], labels[keep], "label")):
        shown = colours >= 0
        axis.scatter(points[~shown, 0], points[~shown, 1], s=6, c="lightgrey", label="unlabelled")
        scatter = axis.scatter(points[shown, 0], points[shown, 1], s=6, c=colours[shown], cmap="coolwarm")
        axis.set_title(f"t-SNE of z, coloured by {title}")
        axis.legend(*scatter.legend_elements(), loc="best", fontsize=7)
    figure.tight_layout()
    write_atomically(path, lambda partial: figure.savefig(partial, dpi=90))
    plt.close(figure)


def paired_differences(runs, treatment="dec", control="baseline", part="val", metric="acc2", confidence=0.95):
    """`treatment − control` per seed (same split, same fraction), in points,
    with the mean and a paired Student-t confidence interval.

    Returns:
        dict label fraction → `{"differences": {seed: points}, "mean", "low",
        "high"}` over the seeds that have both runs (interval `None` for
        fewer than two seeds).
    """
    from scipy import stats

    by_key = {(r.experiment, r.label_fraction, r.seed): r for r in runs}
    out = {}
    for fraction in sorted({r.label_fraction for r in runs}):
        differences = {}
        for seed in sorted({r.seed for r in runs}):
            a, b = by_key.get((treatment, fraction, seed)), by_key.get((control, fraction, seed))
            if a and b and getattr(a, part) and getattr(b, part):
                differences[seed] = 100 * (getattr(a, part)[metric] - getattr(b, part)[metric])
        if not differences:
            continue
        values = np.array(list(differences.values()))
        low = high = None
        if len(values) > 1:
            half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
            low, high = float(values.mean() - half), float(values.mean() + half)
        out[fraction] = {"differences": differences, "mean": float(values.mean()), "low": low, "high": high}
    return out


COMPARISONS = (
    ("dec", "baseline"),
    ("dec", "dec_without_kl"),
    ("dec_without_kl", "baseline"),
    ("dec_frozen_target", "dec"),
    ("dec_regression", "baseline_regression"),
    ("contextual", "baseline"),
    ("contextual_dec", "dec"),
    ("contextual_dec", "contextual"),
    ("self_training", "baseline"),
    ("dec", "self_training"),
    ("consistency", "baseline"),
    ("consistency", "perturbed"),
    ("perturbed", "baseline"),
    ("consistency", "self_training"),
)
"""`(treatment, control)` pairs that `format_paired` reports when both were run:
DEC's gain, what its KL term adds over the same training without it, the
gain of that control, the original DEC's frozen target against P per
batch, what reading the whole video adds (from scratch and DEC-pretrained),
DEC's gain in the contextual model, the semi-supervised baseline beside
DEC (self-training's gain, and DEC against it), and consistency training's
gain, what its unlabelled rows add over the same perturbations without
them, what the perturbations alone add, and it against self-training."""


def format_paired(runs, comparisons=COMPARISONS, metric="acc2"):
    """Lines of `paired_differences` on the labelled and on every validation
    video, for each comparison whose two experiments are among `runs`."""
    lines = []
    names = {r.experiment for r in runs}
    for treatment, control in comparisons:
        if treatment not in names or control not in names:
            continue
        for part in ("kfold", "val", "val_all"):
            for fraction, result in paired_differences(runs, treatment, control, part, metric).items():
                seeds = " ".join(f"{value:+.2f}" for value in result["differences"].values())
                interval = "" if result["low"] is None else f", 95% CI [{result['low']:+.2f}, {result['high']:+.2f}]"
                lines += textwrap.wrap(f"{treatment} − {control}, {part} {metric}, {int(fraction * 100)}% labels: "
                                       f"mean {result['mean']:+.2f}{interval}; per seed {seeds}", 99,
                                       subsequent_indent="    ")
    return "\n".join(lines)


def learning_curve(runs, part="kfold", metric="acc2", confidence=0.95):
    """dict experiment → `[(label_fraction, mean, low, high)]` in points, by
    fraction: the mean of `part`'s `metric` over seeds and its Student-t
    interval (`low = high = mean` for one seed)."""
    from scipy import stats

    curves = {}
    for row in summarize(runs):
        value = row.get(f"{part}_{metric}")
        if value is None:
            continue
        mean, spread = value
        half = 0.0 if row["seeds"] < 2 else stats.t.ppf(0.5 + confidence / 2, row["seeds"] - 1) * spread / np.sqrt(
            row["seeds"])
        curves.setdefault(row["experiment"], []).append((row["label_fraction"], mean, mean - half, mean + half))
    return {name: sorted(points) for name, points in curves.items()}


def plot_learning_curve(runs, out_dir, part="kfold", metric="acc2"):
    """`learning_curve.png` in `out_dir`: `metric` against the label
    fraction, one line per experiment, its 95 % interval over seeds shaded
    (`learning_curve`). An experiment that only adds unlabelled rows has no
    100 % point of its own: its line ends where the classifier's continues.

    Returns:
        The path written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    for name, points in learning_curve(runs, part, metric).items():
        fractions, means, lows, highs = (np.array(column) for column in zip(*points))
        line, = axis.plot(100 * fractions, means, marker="o", label=name)
        axis.fill_between(100 * fractions, lows, highs, color=line.get_color(), alpha=0.15)
    axis.set_xlabel("labelled rows (%)")
    axis.set_ylabel(f"{SHORT_PARTS.get(part, part)} {metric} (%)")
    axis.set_title(f"{metric}, mean over seeds and 95 % interval")
    axis.legend(fontsize=8)
    figure.tight_layout()
    path = os.path.join(out_dir, "learning_curve.png")
    write_atomically(path, lambda partial: figure.savefig(partial, dpi=90))
    plt.close(figure)
    return path
