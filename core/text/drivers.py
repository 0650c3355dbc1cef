"""`report.comment_drivers`: which comment themes separate detractors from promoters.

For each term (core.text.themes) that enough detractors' and promoters' comments mention,
the 2x2 table of NPS group (detractor 0-6 / promoter 9-10) by mention (yes / no) gives
the odds ratio OR = (a d) / (b c): how much more often, in odds, a detractor's comment
mentions the term than a promoter's. Its interval is Woolf's logit interval,
exp(log OR +/- z sqrt(1/a + 1/b + 1/c + 1/d)), with Haldane's correction (0.5 added to
every cell) when a cell is 0; the p-value is the Wald test of log OR = 0, and q the
Benjamini-Hochberg adjusted p over the terms tested (many terms are tested at once).
Passives are left out: the contrast is the two ends of the scale. No sentiment is scored.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from core.errors import AnalysisError, InputError
from core.evaluate.inputs import UNNAMED, require, require_columns
from core.result import Chart, Result
from core.text.comments import scored_comments
from core.text.language import LANGUAGES
from core.text.themes import comment_terms, mentions

ANALYSIS = "comment drivers report"


def odds_ratios(a, b, c, d, confidence: float):
    """Woolf interval of the odds ratio of each 2x2 table [[a, b], [c, d]], Haldane-corrected
    where a cell is 0: (odds ratio, low, high, Wald p-value), numpy arrays."""
    from scipy import stats as st

    cells = np.stack([np.asarray(x, dtype=float) for x in (a, b, c, d)])
    cells = cells + 0.5 * (cells == 0).any(axis=0)
    a, b, c, d = cells
    log_or = np.log(a * d / (b * c))
    se = np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    z = st.norm.ppf(0.5 + confidence / 2)
    p = 2 * st.norm.sf(np.abs(log_or / se))
    return np.exp(log_or), np.exp(log_or - z * se), np.exp(log_or + z * se), p


def comment_drivers(
    survey: pl.LazyFrame | None,
    *,
    min_mentions: int = 5,
    confidence: float = 0.95,
    since: dt.date | None = None,
    as_of: dt.date | None = None,
    workspace: str = UNNAMED,
) -> Result:
    """Per term: mentions among detractors and promoters, odds ratio with interval, p and q."""
    from scipy import stats as st

    require(survey, "survey", ANALYSIS, workspace)
    require_columns(survey, "survey", ("comment", "nps"), ANALYSIS,
                    "map the free-text answers as 'comment' and the 0-10 answer as 'nps'")
    answers, _, _ = scored_comments(survey, None, None, (), since, as_of, score=False)
    ends = answers.filter(pl.col("language").is_in(LANGUAGES) & pl.col("nps_group").is_in(["detractor", "promoter"]))
    sizes = dict(ends.group_by("nps_group").agg(pl.len()).iter_rows())
    detractors, promoters = sizes.get("detractor", 0), sizes.get("promoter", 0)
    if not detractors or not promoters:
        answered = survey.select(pl.col("nps", "comment").is_not_null().any()).collect().row(0, named=True)
        for column, answer in (("nps", "0-10 likelihood-to-recommend answer"), ("comment", "free-text answer")):
            if not answered[column]:  # an export's empty column
                raise InputError(f"{ANALYSIS}: no survey response has an answer in {column} (the column is empty)",
                                 file="survey", column=column,
                                 fix=f"fill in the {answer}s, or map the column that holds them as {column} "
                                     "in loyalist.toml")
        raise AnalysisError(
            f"{ANALYSIS}: needs comments from both detractors (nps 0-6) and promoters (9-10); found "
            f"{detractors} and {promoters}. Fix: check the 'nps' and 'comment' columns")
    terms = comment_terms(ends.select("text", "language").unique())
    said = mentions(ends.with_row_index("_row"), terms)
    counts = (said.group_by("term").agg(
        (pl.col("nps_group") == "detractor").sum().alias("detractor_mentions"),
        (pl.col("nps_group") == "promoter").sum().alias("promoter_mentions"))
        .filter(pl.col("detractor_mentions") + pl.col("promoter_mentions") >= min_mentions))
    if counts.is_empty():
        raise AnalysisError(
            f"{ANALYSIS}: no term is mentioned by {min_mentions} or more of the {detractors + promoters} "
            "detractors' and promoters' comments. Fix: lower --min-mentions")
    a = counts["detractor_mentions"].to_numpy()
    c = counts["promoter_mentions"].to_numpy()
    ratio, low, high, p = odds_ratios(a, detractors - a, c, promoters - c, confidence)
    q = st.false_discovery_control(p)
    table = (
        counts.with_columns(
            pl.lit(detractors).alias("detractors"), pl.lit(promoters).alias("promoters"),
            (100 * pl.col("detractor_mentions") / detractors).alias("detractor_share"),
            (100 * pl.col("promoter_mentions") / promoters).alias("promoter_share"),
            pl.Series("odds_ratio", ratio), pl.Series("ci_low", low), pl.Series("ci_high", high),
            pl.Series("p_value", p), pl.Series("q_value", q),
        )
        .with_columns(pl.when(pl.col("ci_low") > 1).then(pl.lit("detractors"))
                      .when(pl.col("ci_high") < 1).then(pl.lit("promoters"))
                      .otherwise(pl.lit("either")).alias("said_more_by"))
        .sort("odds_ratio", "term", descending=[True, False])
        .select("term", "detractor_mentions", "detractors", "detractor_share", "promoter_mentions", "promoters",
                "promoter_share", "odds_ratio", "ci_low", "ci_high", "p_value", "q_value", "said_more_by")
    )
    worse = table.filter(pl.col("said_more_by") == "detractors")
    better = table.filter(pl.col("said_more_by") == "promoters")
    notes = [
        f"{detractors} detractors' and {promoters} promoters' comments; {table.height} terms mentioned "
        f"{min_mentions}+ times. Odds ratio > 1: detractors mention the term more (in odds).",
        f"Intervals: Woolf's logit interval at {confidence:.0%}, with 0.5 added to every cell of a table with a zero "
        "(Haldane); q: Benjamini-Hochberg over the terms tested.",
        "A term is 'said more by' one side when its interval excludes 1; passives are left out.",
        f"{int((table['q_value'] < 0.05).sum())} of the {table.height} terms have q < 0.05: with many terms "
        "tested, some intervals exclude 1 by chance; q is the stricter reading.",
    ]
    if worse.height:
        notes.append("Detractors speak of: " + ", ".join(worse["term"].head(5)) + ".")
    if better.height:
        notes.append("Promoters speak of: " + ", ".join(better.sort("odds_ratio")["term"].head(5)) + ".")
    top = table.row(0, named=True)
    return Result(
        name="report.comment_drivers",
        title="Comment drivers (detractors vs promoters)",
        tables={"drivers": table},
        kinds={"drivers/detractor_share": "points", "drivers/promoter_share": "points"},  # percent (0-100)
        headline={"detractors": detractors, "promoters": promoters, "terms_tested": table.height,
                  "detractor_terms": worse.height, "promoter_terms": better.height,
                  "top_term": top["term"], "top_odds_ratio": top["odds_ratio"]},
        charts=(Chart("bar", "Odds ratio: detractors vs promoters mentioning", "drivers", "term", ("odds_ratio",)),),
        params={"min_mentions": min_mentions, "confidence": confidence, "since": since, "as_of": as_of},
        notes=tuple(notes),
    )
