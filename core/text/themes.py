"""Themes: the terms and phrases comments of each sentiment mention most, with an example.

Terms (rules stated in README):
- Chinese: jieba's words (after traditional characters are made simplified) of two or
  more Han characters, less SnowNLP's shipped stop-word list and a few function words of
  our own; single characters (很, 不, 好) are mostly degree, negation or sentiment words,
  not topics.
- English: words of three or more letters (full-width letters folded), less
  scikit-learn's English stop words, and two-word phrases of adjacent such words
  ("customer service").
A term counts once per comment. Each distinct text is split once.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import polars as pl

LABELS = ("positive", "neutral", "negative")
EXAMPLE_CHARS = 200  # an example comment is shown up to this long
# Two-character function words SnowNLP's list lacks, which would otherwise top every theme.
MORE_CHINESE_STOP_WORDS = frozenset({"一个", "没有", "还是", "真的", "比较", "有点", "一般", "一下", "就是", "感觉",
                                      "觉得", "已经", "下次", "以后", "不是", "东西"})
_HAN_WORD = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]{2,}$")  # CJK ideographs (re has no \p{Han})
_LATIN_WORD = re.compile(r"[a-z][a-z']+")


@cache
def chinese_stop_words() -> frozenset[str]:
    from core.text.snownlp_data import stop_words

    return stop_words() | MORE_CHINESE_STOP_WORDS


@cache
def english_stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def chinese_terms(texts: list[str]) -> list[list[str]]:
    from core.text.words import chinese_words

    stop = chinese_stop_words()
    return [sorted({w for w in words if _HAN_WORD.match(w) and w not in stop}) for words in chinese_words(texts)]


def english_terms(text: str) -> list[str]:
    stop = english_stop_words()
    words = _LATIN_WORD.findall(unicodedata.normalize("NFKC", text).lower())
    keep = [w if len(w) >= 3 and w not in stop else None for w in words]
    pairs = {f"{a} {b}" for a, b in zip(keep, keep[1:]) if a and b}
    return sorted({w for w in keep if w} | pairs)


def comment_terms(distinct: pl.DataFrame) -> pl.DataFrame:
    """distinct: columns text, language, one row per distinct text. Adds `term`, the list of
    its terms (each once)."""
    zh = distinct.filter(pl.col("language") == "zh")
    en = distinct.filter(pl.col("language") == "en")
    return pl.concat([
        zh.with_columns(pl.Series("term", chinese_terms(zh["text"].to_list()), dtype=pl.List(pl.String))),
        en.with_columns(pl.Series("term", [english_terms(t) for t in en["text"]], dtype=pl.List(pl.String))),
    ])


def mentions(answers: pl.DataFrame, terms: pl.DataFrame) -> pl.DataFrame:
    """One row per answer and term it mentions (answers: with text and language)."""
    return (answers.join(terms.select("text", "language", "term"), on=["text", "language"], how="left",
                         maintain_order="left")
            .explode("term").filter(pl.col("term").is_not_null()))


def themes(scored: pl.DataFrame, terms: pl.DataFrame, top: int) -> pl.DataFrame:
    """scored: one row per comment with text, language, label, score and comment; terms:
    comment_terms of its distinct texts.

    Per label, the `top` terms by comments mentioning them: comments, share of that label's
    comments (%), their mean score and the commonest comment mentioning the term."""
    said = mentions(scored, terms)
    per_label = scored.group_by("label").agg(pl.len().alias("_of"))
    example = (
        said.group_by("label", "term", "comment").agg(pl.len().alias("_n"))
        .sort("_n", "comment", descending=[True, False])
        .group_by("label", "term").agg(pl.col("comment").first().str.slice(0, EXAMPLE_CHARS).alias("example"))
    )
    table = (
        said.group_by("label", "term").agg(pl.len().alias("comments"), pl.col("score").mean().alias("mean_score"))
        .join(per_label, on="label").join(example, on=["label", "term"])
        .with_columns((100 * pl.col("comments") / pl.col("_of")).alias("share"))
        .sort("comments", "term", descending=[True, False])
        .group_by("label", maintain_order=True).head(top)
    )
    order = pl.col("label").replace_strict({lab: i for i, lab in enumerate(LABELS)}, return_dtype=pl.Int64)
    return (table.sort(order, pl.col("comments"), pl.col("term"), descending=[False, True, False])
            .select("label", "term", "comments", "share", "mean_score", "example"))


def top_terms(said: pl.DataFrame, top: int) -> list[str]:
    """The `top` terms most comments mention (ties by term)."""
    counts = said.group_by("term").agg(pl.len().alias("n")).sort("n", "term", descending=[True, False])
    return counts.head(top)["term"].to_list()


def theme_groups(answers: pl.DataFrame, said: pl.DataFrame, dims: list[str], terms: list[str],
                 confidence: float) -> pl.DataFrame:
    """Share (%) of each group's comments that mention each term, with its Wilson interval.

    answers: one row per comment (with `_row`, its row number, and the dims); said:
    mentions() of those answers. One row per dimension, group and term, every term listed
    in every group (0 mentions included)."""
    from core.evaluate.engagement import wilson

    order = {t: i for i, t in enumerate(terms)}
    parts = []
    for dim in dims:  # a few breakdown columns, not rows
        sizes = answers.group_by(dim).agg(pl.len().alias("comments"))
        hits = (said.filter(pl.col("term").is_in(terms)).group_by(dim, "term")
                .agg(pl.col("_row").n_unique().alias("mentions")))
        grid = sizes.join(pl.DataFrame({"term": terms}), how="cross")
        parts.append(
            grid.join(hits, on=[dim, "term"], how="left", nulls_equal=True)
            .with_columns(pl.col("mentions").fill_null(0).cast(pl.Int64), dimension=pl.lit(dim),
                          group=pl.col(dim).cast(pl.String))
            .sort("group", pl.col("term").replace_strict(order, return_dtype=pl.Int64), nulls_last=True)
            .select("dimension", "group", "term", "mentions", "comments"))
    n, hits = pl.col("comments").cast(pl.Float64), pl.col("mentions").cast(pl.Float64)
    low, high = wilson(hits, n, "share", confidence)
    return (pl.concat(parts).with_columns((100 * hits / n).alias("share"), low * 100, high * 100)
            .select("dimension", "group", "term", "mentions", "comments", "share", "share_ci_low", "share_ci_high"))
