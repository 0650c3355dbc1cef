"""Topics: non-negative matrix factorisation of the comments' terms (scikit-learn's NMF).

Each distinct comment is a row of term weights (TF-IDF over the terms of core.text.themes:
jieba's Chinese words, English words and two-word phrases, stop words out), weighted by
how often the comment was given, so a repeated answer counts as often as it was said.
NMF (Lee & Seung 1999; scikit-learn, nndsvda start, so no random draw) splits that matrix
into K topics; a topic is named by its heaviest terms, a comment belongs to its heaviest
topic, and the topic's example is the comment most given among those that load on it most.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from core.text.themes import EXAMPLE_CHARS

TERMS_PER_TOPIC = 6


def topics(scored: pl.DataFrame, terms: pl.DataFrame, k: int, seed: int = 0) -> tuple[pl.DataFrame | None, str]:
    """scored: one row per comment (text, language, score, comment); terms: comment_terms
    of its distinct texts. The topics table (or None) and a note saying what was done."""
    from scipy import sparse
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfTransformer

    docs = (scored.group_by("text", "language").agg(pl.len().alias("given"), pl.col("score").first(),
                                                     pl.col("comment").first())
            .join(terms, on=["text", "language"]).filter(pl.col("term").list.len() > 0)
            .sort("given", "text", descending=[True, False]))
    vocabulary = docs.select(pl.col("term").explode().unique().sort())["term"]
    if docs.height < 2 * k or vocabulary.len() < 2 * k:
        return None, (f"No topics: {docs.height} distinct comments with {vocabulary.len()} terms are too few for "
                      f"{k} topics (need twice as many of each).")
    index = {t: i for i, t in enumerate(vocabulary.to_list())}
    lengths = docs["term"].list.len().to_numpy()
    cols = np.fromiter((index[t] for t in docs["term"].explode().to_list()), dtype=np.int64)
    rows = np.repeat(np.arange(docs.height), lengths)
    counts = sparse.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(docs.height, len(index)))
    given = docs["given"].to_numpy().astype(float)
    tfidf = TfidfTransformer().fit_transform(counts)
    model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=500)
    # rows weighted by sqrt(times given): the squared error counts each time a comment was given
    weights = model.fit_transform(tfidf.multiply(np.sqrt(given)[:, None]).tocsr())
    weights /= np.sqrt(given)[:, None]  # back to one comment's loadings
    best = weights.argmax(axis=1)
    loaded = weights.max(axis=1) > 0
    words = np.asarray(vocabulary.to_list(), dtype=object)
    rows_out = []
    total = given[loaded].sum()
    for topic in range(k):  # K topics, not rows
        mine = loaded & (best == topic)
        if not mine.any():
            continue
        loading = model.components_[topic]
        heaviest = np.lexsort((words, -loading))[:TERMS_PER_TOPIC]  # ties by term
        top = words[heaviest[loading[heaviest] > 0]]
        strongest = np.flatnonzero(mine)[np.lexsort((-given[mine], -weights[mine, topic]))[0]]
        scores = docs["score"].to_numpy()[mine]
        rows_out.append({
            "topic": topic + 1, "terms": ", ".join(top), "comments": int(given[mine].sum()),
            "share": 100 * given[mine].sum() / total,
            "mean_score": float(np.average(scores, weights=given[mine])),
            "example": docs["comment"][int(strongest)][:EXAMPLE_CHARS],
        })
    table = pl.DataFrame(rows_out).sort("comments", "topic", descending=[True, False])
    return table, (f"Topics: NMF of TF-IDF term weights into {k} topics (scikit-learn, nndsvda start, seed {seed}); "
                   f"each comment counted in its heaviest topic.")
