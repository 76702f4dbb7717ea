"""Per-group AUROCs with scikit-learn: spec {scores: [[...]], truth: [[...]], groups: [...], labels: [...]}.

Prints {group: {label: auroc or null}}; a group whose label has one class only gets null.
"""
import json
import sys

import numpy as np
from sklearn.metrics import roc_auc_score

spec = json.load(open(sys.argv[1]))
scores = np.asarray(spec["scores"], dtype=float)
truth = np.asarray(spec["truth"], dtype=float)
groups = np.asarray(spec["groups"])
out = {}
for group in sorted(set(spec["groups"])):
    rows = groups == group
    out[group] = {}
    for j, label in enumerate(spec["labels"]):
        t = truth[rows, j]
        s = scores[rows, j]
        keep = (t == 0) | (t == 1)
        t, s = t[keep], s[keep]
        out[group][label] = float(roc_auc_score(t, s)) if len(set(t)) == 2 else None
print(json.dumps(out))
