"""scikit-learn's LatentDirichletAllocation on the counts radlearn fitted, for the LDA parity tests and the bench.

Reads a JSON spec (path in argv[1]): CSR matrices `train` and (optionally) `test`, the settings, the `seeds`
to fit with, and optionally radlearn's fitted topics `ours` (one [K, V] list per seed) and the planted
`truth` ([K, V]). Prints JSON with one entry per seed: scikit-learn's fit time and perplexities, and when
`ours` is given, scikit-learn's perplexities of radlearn's topics (its own E-step and bound run on them),
each model's recovery of the planted topics (mean cosine over the best one-to-one matching, Hungarian
algorithm) and, for the first seed, scikit-learn's transform of the test counts under radlearn's topics.
"""
import json
import sys
import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment
from scipy.special import psi
from sklearn.decomposition import LatentDirichletAllocation


def csr(m):
    return sp.csr_matrix(
        (np.asarray(m["values"], dtype=np.float64), np.asarray(m["indices"]), np.asarray(m["indptr"])),
        shape=(m["rows"], m["cols"]),
    )


def recovery(truth, components):
    a = truth / np.linalg.norm(truth, axis=1, keepdims=True)
    b = components / np.linalg.norm(components, axis=1, keepdims=True)
    cos = a @ b.T
    rows, cols = linear_sum_assignment(-cos)
    return float(cos[rows, cols].mean())


def model(spec, seed):
    return LatentDirichletAllocation(
        n_components=spec["k"],
        doc_topic_prior=spec["alpha"],
        topic_word_prior=spec["eta"],
        learning_method=spec["method"],
        max_iter=spec["iterations"],
        batch_size=spec.get("batchSize", 128),
        random_state=seed,
        n_jobs=spec.get("jobs"),
    )


def fitted(spec, components, n_features):
    """An estimator holding given topics, as if fitted: scikit-learn's E-step, bound and transform run on them."""
    lda = model(spec, 0)
    lda.components_ = components
    lda.exp_dirichlet_component_ = np.exp(psi(components) - psi(components.sum(axis=1))[:, np.newaxis])
    lda.doc_topic_prior_ = spec["alpha"]
    lda.topic_word_prior_ = spec["eta"]
    lda.n_features_in_ = n_features
    lda.n_batch_iter_ = 1
    lda.random_state_ = np.random.RandomState(0)
    return lda


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    train = csr(spec["train"])
    test = csr(spec["test"]) if spec.get("test") else None
    truth = np.asarray(spec["truth"], dtype=np.float64).reshape(spec["k"], -1) if spec.get("truth") else None
    results = []
    for i, seed in enumerate(spec.get("seeds", [0])):
        lda = model(spec, seed)
        started = time.perf_counter()
        cpu = time.process_time()
        lda.fit(train)
        out = {"seed": seed, "seconds": time.perf_counter() - started, "cpuSeconds": time.process_time() - cpu}
        if not spec.get("timingOnly"):
            out["trainPerplexity"] = float(lda.perplexity(train))
            if test is not None:
                out["perplexity"] = float(lda.perplexity(test))
            if truth is not None:
                out["recovery"] = recovery(truth, lda.components_)
        if spec.get("ours") is not None:
            components = np.asarray(spec["ours"][i], dtype=np.float64).reshape(spec["k"], train.shape[1])
            theirs = fitted(spec, components, train.shape[1])
            ours = {"trainPerplexity": float(theirs.perplexity(train))}
            if test is not None:
                ours["perplexity"] = float(theirs.perplexity(test))
                if i == 0:
                    ours["transform"] = theirs.transform(test).ravel().tolist()
            if truth is not None:
                ours["recovery"] = recovery(truth, components)
            out["ours"] = ours
        results.append(out)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
