"""A sentiment score in [-1, 1] and a label for each comment, by its language.

- English: VADER's compound score (Hutto & Gilbert 2014, "VADER: A Parsimonious Rule-based
  Model for Sentiment Analysis of Social Media Text", ICWSM; the vaderSentiment package).
  Labels use VADER's documented cut-offs: positive at >= 0.05, negative at <= -0.05.
- Chinese: SnowNLP's shipped naive Bayes sentiment model (trained by its author on product
  reviews; the snownlp package), after traditional characters are made simplified with
  SnowNLP's own table. Its probability p of "positive" becomes 2p - 1; labels at p >= 0.6
  (positive) and p <= 0.4 (negative), our cut-offs, chosen so a coin-flip reads neutral.
  The model is fed jieba's words (core.text.words), not SnowNLP's own segmenter: that one
  is pure Python and took 90% of the time (about 6 ms a comment against 0.1 ms). Accuracy
  on the labelled comments in tests/data stays the same within a point (README, "Comments").
  The model's file is read and applied directly (core.text.snownlp_data): importing the
  package loads all its models, about 10 s.

Each distinct text is scored once (surveys repeat short answers); nothing is downloaded.
"""

from __future__ import annotations

import polars as pl

EN_CUTOFF = 0.05
ZH_CUTOFF = 0.2  # p = 0.6 / 0.4
METHODS = {
    "en": "VADER compound (vaderSentiment; Hutto & Gilbert 2014)",
    "zh": "SnowNLP sentiment model (snownlp) on jieba's words, 2p - 1",
}


def english_scores(texts: list[str]) -> list[float]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return [analyzer.polarity_scores(t)["compound"] for t in texts]


def chinese_scores(texts: list[str]) -> list[float]:
    from core.text.snownlp_data import positive_probabilities
    from core.text.words import chinese_words

    words = pl.DataFrame({"doc": range(len(texts)), "word": [list(w) for w in chinese_words(texts)]},
                         schema={"doc": pl.Int64, "word": pl.List(pl.String)}).explode("word")
    return (2.0 * positive_probabilities(words, len(texts)) - 1.0).to_list()


def scores(texts: pl.DataFrame) -> pl.DataFrame:
    """texts: columns text, language ("zh"/"en"), distinct. Adds score and label."""
    parts = []
    for lang, score_fn in (("en", english_scores), ("zh", chinese_scores)):  # two languages, not rows
        part = texts.filter(pl.col("language") == lang)
        parts.append(part.with_columns(pl.Series("score", score_fn(part["text"].to_list()), dtype=pl.Float64)))
    out = pl.concat(parts)
    cut = pl.when(pl.col("language") == "en").then(EN_CUTOFF).otherwise(ZH_CUTOFF)
    return out.with_columns(label(pl.col("score"), cut))


def label(score: pl.Expr, cut: pl.Expr) -> pl.Expr:
    return (
        pl.when(score >= cut).then(pl.lit("positive"))
        .when(score <= -cut).then(pl.lit("negative"))
        .otherwise(pl.lit("neutral")).alias("label")
    )
