"""`report.comments`: sentiment of the survey's comments, per comment and by group.

Each comment's language is told from its script (core.text.language), it is scored by
the method for that language (core.text.sentiment) and summarised by NPS group
(promoter 9-10, passive 7-8, detractor 0-6), by language and by the segment-like columns
the NPS report uses (segment, tier, region, channel, ...); its themes are the terms the
comments of each sentiment mention most (core.text.themes), the share of each group's and
month's comments that mention the commonest themes (with Wilson intervals), and topics
(core.text.topics). Comments in other languages, without words or unreadable are counted
in the coverage table and the notes, never scored.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from core.errors import AnalysisError
from core.evaluate.inputs import UNNAMED, require, require_columns
from core.evaluate.nps import with_breakdowns
from core.result import Chart, Result
from core.text.language import LANGUAGES, MAX_CHARS, STATUSES, cleaned, language
from core.text.sentiment import METHODS, scores
from core.text.themes import comment_terms, mentions, theme_groups, themes
from core.text.themes import top_terms as commonest_terms  # `top_terms` is the option

ANALYSIS = "comments report"
NPS_GROUPS = ("promoter", "passive", "detractor")


def nps_group(score: pl.Expr) -> pl.Expr:
    return (
        pl.when(score >= 9).then(pl.lit("promoter")).when(score >= 7).then(pl.lit("passive"))
        .when(score >= 0).then(pl.lit("detractor")).alias("nps_group")
    )


def scored_comments(
    survey: pl.LazyFrame, customers: pl.LazyFrame | None, transactions: pl.LazyFrame | None,
    by: tuple[str, ...] | None, since: dt.date | None, as_of: dt.date | None, *, score: bool = True,
) -> tuple[pl.DataFrame, list[str], int]:
    """Every answer with its comment's language, cleaned text, score and label (unless
    score=False); the breakdown columns; how many comments were cut at MAX_CHARS."""
    lf, dims = with_breakdowns(survey, customers, transactions, by, since, as_of)
    raw = pl.col("comment").cast(pl.String)
    schema = lf.collect_schema()
    dated = "response_date" in schema and schema["response_date"].is_temporal()  # month from a date only
    keep = [c for c in ("customer_id", "response_date", "month", "nps") if c in schema and (c != "month" or dated)]
    answers = lf.select(
        *keep, *dims,
        *([nps_group(pl.col("nps"))] if "nps" in keep else []),
        raw.alias("comment"),
        cleaned(raw).alias("text"),
        language(raw, cleaned(raw)).alias("language"),
        (raw.str.len_chars() > MAX_CHARS).fill_null(False).alias("_long"),
    ).collect()
    if score:
        distinct = answers.filter(pl.col("language").is_in(LANGUAGES)).select("text", "language").unique()
        answers = answers.join(scores(distinct), on=["text", "language"], how="left", maintain_order="left")
    cut = int(answers.filter(pl.col("language").is_in(LANGUAGES))["_long"].sum())
    return answers.drop("_long"), dims, cut


def comments(
    survey: pl.LazyFrame | None,
    customers: pl.LazyFrame | None = None,
    transactions: pl.LazyFrame | None = None,
    *,
    by: tuple[str, ...] | None = None,
    confidence: float = 0.95,
    min_responses: int = 30,
    top_terms: int = 10,
    topics: int = 5,
    since: dt.date | None = None,
    as_of: dt.date | None = None,
    workspace: str = UNNAMED,
) -> Result:
    """Sentiment per comment, its summary by NPS group, language and segment, and themes."""
    require(survey, "survey", ANALYSIS, workspace)
    require_columns(survey, "survey", ("comment",), ANALYSIS, "add the free-text answers as 'comment'")
    answers, dims, cut = scored_comments(survey, customers, transactions, by, since, as_of)
    scored = answers.filter(pl.col("score").is_not_null())
    if scored.is_empty():
        raise AnalysisError(
            f"{ANALYSIS}: none of the {answers.height} survey answers has a Chinese or English comment. "
            "Fix: check the 'comment' column is mapped to the free-text answers"
        )
    groups = [g for g in ("nps_group", "language", "month", *dims) if g in answers.columns]
    summary = pl.concat(
        [group_summary(scored, g, confidence) for g in groups], how="diagonal_relaxed"
    ).with_columns((pl.col("comments") < min_responses).alias("small_sample"))
    coverage = coverage_table(answers)
    terms = comment_terms(scored.select("text", "language").unique())
    theme_table = themes(scored, terms, top_terms)
    numbered = scored.with_row_index("_row")
    said = mentions(numbered, terms)
    by_group = theme_groups(numbered, said, [g for g in groups if g != "language"],
                            commonest_terms(said, top_terms), confidence)
    topic_table, topic_note = topic_model(scored, terms, topics)
    counts = dict(coverage.select("status", "answers").iter_rows())
    notes = [
        f"Scored {scored.height} comments: English by {METHODS['en']}, Chinese by {METHODS['zh']}.",
        f"Not scored: {counts['none']} answers without a comment, {counts['other']} in another language, "
        f"{counts['no_words']} without words (emoji, digits or punctuation only), {counts['unreadable']} unreadable.",
        "HTML tags are dropped; the language is the script with the most Han characters or Latin words.",
        f"theme_groups: the share of each group's comments mentioning the {top_terms} commonest terms, with "
        f"{confidence:.0%} Wilson intervals.",
        *([topic_note] if topic_note else []),
    ]
    if cut:
        notes.append(f"{cut} comments longer than {MAX_CHARS} characters were scored on their first {MAX_CHARS}.")
    small = summary.filter(pl.col("small_sample")).height
    if small:
        notes.append(f"{small} groups have fewer than {min_responses} comments (small_sample = true).")
    overall = group_summary(scored.with_columns(pl.lit("all").alias("_all")), "_all", confidence).row(0, named=True)
    headline = {
        "comments": scored.height, "mean_score": overall["mean_score"],
        "mean_score_ci": (overall["ci_low"], overall["ci_high"]),
        "positive": overall["positive"], "negative": overall["negative"],
    }
    per_comment = scored.select(*[c for c in ("customer_id", "response_date", "nps", "nps_group") if c in scored.columns],
                                "language", "score", "label", "comment")
    return Result(
        name="report.comments",
        title="Comment sentiment",
        tables={"summary": summary, "themes": theme_table, "theme_groups": by_group,
                **({"topics": topic_table} if topic_table is not None else {}),
                "coverage": coverage, "scored": per_comment},
        kinds={"themes/share": "points", "coverage/share": "points", "topics/share": "points",
               "theme_groups/share*": "points"},  # already in percent (0-100)
        headline=headline,
        charts=(Chart("bar", "Mean sentiment by group", "summary", "group", ("mean_score",), "dimension"),),
        params={"by": dims, "confidence": confidence, "min_responses": min_responses, "top_terms": top_terms,
                "topics": topics, "since": since,
                "as_of": as_of},
        notes=tuple(notes),
    )


def topic_model(scored: pl.DataFrame, terms: pl.DataFrame, k: int) -> tuple[pl.DataFrame | None, str | None]:
    """The topics table and its note; none asked for (k = 0): neither."""
    if k == 0:
        return None, None
    from core.text.topics import topics as nmf_topics

    return nmf_topics(scored, terms, k)


def group_summary(scored: pl.DataFrame, dim: str, confidence: float) -> pl.DataFrame:
    """Per group: comments, shares of each label (in %), mean score and its t interval."""
    from scipy import stats as st

    table = (
        scored.group_by(dim).agg(
            pl.len().alias("comments"),
            *((100 * (pl.col("label") == lab).mean()).alias(lab) for lab in ("positive", "neutral", "negative")),
            pl.col("score").mean().alias("mean_score"),
            pl.col("score").std().alias("_sd"),
        )
        .rename({dim: "group"}).with_columns(pl.col("group").cast(pl.String), dimension=pl.lit(dim))
    )
    table = table.sort(pl.col("group").replace_strict(
        {g: i for i, g in enumerate(NPS_GROUPS)}, default=len(NPS_GROUPS), return_dtype=pl.Int64), "group",
        nulls_last=True)
    n = table["comments"].to_numpy().astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = st.t.ppf(0.5 + confidence / 2, n - 1) * table["_sd"].to_numpy() / np.sqrt(n)
    return table.with_columns(
        (pl.col("mean_score") - pl.Series(half)).alias("ci_low"),
        (pl.col("mean_score") + pl.Series(half)).alias("ci_high"),
    ).fill_nan(None).select("dimension", "group", "comments", "positive", "neutral", "negative", "mean_score",
                            "ci_low", "ci_high")


def coverage_table(answers: pl.DataFrame) -> pl.DataFrame:
    """How many answers fall in each language status, every status listed."""
    counts = answers.group_by("language").agg(pl.len().alias("answers"))
    return (
        pl.DataFrame({"status": list(STATUSES)})
        .join(counts.rename({"language": "status"}), on="status", how="left")
        .with_columns(pl.col("answers").fill_null(0).cast(pl.Int64))
        .with_columns((100 * pl.col("answers") / pl.col("answers").sum()).alias("share"),
                      pl.col("status").is_in(LANGUAGES).alias("scored"))
    )
