#!/usr/bin/env python3
"""Reference values for the DomainAdaptation metric tests, computed once with scikit-learn.

Run from the repository root (scikit-learn in a venv outside the repo, e.g. /work/venv-sk):
    /work/venv-sk/bin/python scripts/metrics_reference.py > Tests/DomainAdaptationTests/Fixtures/metrics_reference.json
The inputs are generated here from a fixed seed and stored next to the expected values, so the Swift test reads
both from the fixture. Scores are rounded to 2 decimals so that ties occur and exercise tie handling.
"""
import json

import numpy as np
import sklearn
from sklearn.metrics import accuracy_score, confusion_matrix, roc_auc_score, roc_curve
from sklearn.preprocessing import label_binarize


def main():
    rng = np.random.default_rng(20240501)
    n, c = 60, 3
    labels = rng.integers(0, c, size=n)
    logits = rng.normal(size=(n, c)) + 1.5 * np.eye(c)[labels]
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    probs = np.round(probs, 2)
    probs[:, -1] = np.round(1 - probs[:, :-1].sum(axis=1), 2)
    assert (probs >= 0).all()
    onehot = label_binarize(labels, classes=list(range(c)))
    per_class = []
    curves = []
    for k in range(c):
        fpr, tpr, _ = roc_curve(onehot[:, k], probs[:, k], drop_intermediate=False)
        per_class.append(float(roc_auc_score(onehot[:, k], probs[:, k])))
        curves.append({"fpr": fpr.tolist(), "tpr": tpr.tolist()})
    predictions = probs.argmax(axis=1)
    out = {
        "sklearn_version": sklearn.__version__,
        "probabilities": probs.tolist(),
        "labels": labels.tolist(),
        "accuracy_percent": 100 * float(accuracy_score(labels, predictions)),
        "confusion_matrix": confusion_matrix(labels, predictions, labels=list(range(c))).tolist(),
        "per_class_auroc": per_class,
        "auroc_macro": float(roc_auc_score(labels, probs, multi_class="ovr", average="macro")),
        "auroc_micro": float(roc_auc_score(onehot, probs, average="micro")),
        "roc_curves": curves,
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
