"""scikit-learn's CountVectorizer on texts, for the vectorizer parity test.

Reads a JSON spec (path in argv[1]): `texts` and a list of `settings` (stop_words, min_df, max_df,
max_features; min_df/max_df given with their Python type as {"int": n} or {"float": x}). Prints, per
setting, the vocabulary (feature names in column order) and the counts as CSR arrays.
"""
import json
import sys

from sklearn.feature_extraction.text import CountVectorizer


def number(value):
    if value is None:
        return None
    return int(value["int"]) if "int" in value else float(value["float"])


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    out = []
    for s in spec["settings"]:
        kwargs = {"stop_words": s.get("stop_words")}
        for name in ("min_df", "max_df"):
            if s.get(name) is not None:
                kwargs[name] = number(s[name])
        if s.get("max_features") is not None:
            kwargs["max_features"] = s["max_features"]
        vectorizer = CountVectorizer(**kwargs)
        matrix = vectorizer.fit_transform(spec["texts"]).tocsr()
        matrix.sort_indices()
        out.append(
            {
                "vocabulary": vectorizer.get_feature_names_out().tolist(),
                "indptr": matrix.indptr.tolist(),
                "indices": matrix.indices.tolist(),
                "values": matrix.data.tolist(),
            }
        )
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
