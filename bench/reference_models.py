"""Scikit-learn references on mean-pooled features, on exactly the splits of `reproduce`.

For each seed and label fraction: `prepare_experiment` (the same video split
and the same preprocessing fitted on training rows), every modality
mean-pooled over its valid steps and concatenated, then logistic regression
and an MLP trained on the labelled training rows. Reports acc2 on the
labelled validation videos (`val`) and on every validation video
(`val_all`), mean ± sample std (ddof = 1) over seeds, and the majority class of `val`; plus
k-means (k = 2) on the pooled training rows: NMI and cluster accuracy
against the binary label on every validation video — does the raw feature
space cluster by sentiment?

Run: python bench/reference_models.py [--data PATH] [--seeds 5] [--out FILE.json]

`--out` writes every per-seed score (model, label fraction, seed, part,
acc2 in %), so that a table's reference rows recompute from the record.
"""

import argparse
import json
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(os.path.dirname(ROOT), "shared", "data", "cmu_mosi", "cmu_mosi_words.npz")


def pooled(prepared, rows):
    """Mean over valid steps of every modality, concatenated: `(rows, sum of widths)`."""
    from mosi_keras.inputs import is_mask_name, mask_name

    parts = []
    for name, value in prepared.inputs.items():
        if is_mask_name(name):
            continue
        mask = prepared.inputs[mask_name(name)][rows].astype("float32")[:, :, None]
        parts.append((value[rows] * mask).sum(1) / np.maximum(mask.sum(1), 1.0))
    return np.concatenate(parts, axis=1)


def reference_models(seed):
    """The scikit-learn references by name: logistic regression and an MLP, on standardised features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return {
        "logistic regression": make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
        "MLP": make_pipeline(StandardScaler(), MLPClassifier((64,), max_iter=500, early_stopping=True,
                                                             random_state=seed)),
    }


def fit_and_score(model, prepared):
    """Fits `model` on the pooled labelled training rows of a `prepare_experiment`
    split; acc2 in % on the labelled (`val`) and on every (`val_all`) validation video."""
    split, labels = prepared.split, prepared.labels
    model.fit(pooled(prepared, split.labelled_train), labels[split.labelled_train])
    return {part: 100 * np.mean(model.predict(pooled(prepared, rows)) == labels[rows])
            for part, rows in (("val", split.labelled_val), ("val_all", split.val))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", help="JSON file for the per-seed scores")
    args = parser.parse_args()
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    from applications.experiments.preparation import prepare_experiment
    from mosi_keras.data import load_dataset
    from mosi_keras.evaluation import clustering_metrics

    dataset = load_dataset(args.data)
    print(f"{args.data}: acc2 in %, mean ± std over seeds 0-{args.seeds - 1}")
    records = []
    for fraction in (0.4, 1.0):
        scores = {}
        for seed in range(args.seeds):
            prepared = prepare_experiment(dataset, fraction, seed)
            split, labels = prepared.split, prepared.labels
            for name, model in reference_models(seed).items():
                for part, accuracy in fit_and_score(model, prepared).items():
                    scores.setdefault((name, part), []).append(accuracy)
            majority = 100 * max(labels[split.labelled_val].mean(), 1 - labels[split.labelled_val].mean())
            scores.setdefault(("majority class", "val"), []).append(majority)
            scaler = StandardScaler().fit(pooled(prepared, split.train))
            kmeans = KMeans(2, n_init=10, random_state=seed).fit(scaler.transform(pooled(prepared, split.train)))
            clusters = kmeans.predict(scaler.transform(pooled(prepared, split.val)))
            metrics = clustering_metrics(labels[split.val], clusters)
            scores.setdefault(("k-means k=2: NMI ×100", "val_all"), []).append(100 * metrics["nmi"])
            scores.setdefault(("k-means k=2: cluster acc", "val_all"), []).append(100 * metrics["cluster_acc"])
        print(f"\nlabels {int(fraction * 100)} %")
        for (name, part), values in scores.items():
            print(f"  {name:<26} {part:<8} {np.mean(values):6.2f} ± {np.std(values, ddof=1):5.2f}   "
                  + " ".join(f"{v:.1f}" for v in values))
            records += [{"model": name, "label_fraction": fraction, "seed": seed, "part": part, "acc2": float(v)}
                        for seed, v in enumerate(values)]
    if args.out:
        with open(args.out, "w") as file:
            json.dump({"data": os.path.basename(args.data), "command": "python bench/reference_models.py --data "
                       f"{os.path.basename(args.data)} --seeds {args.seeds}", "records": records}, file, indent=1)


if __name__ == "__main__":
    main()
