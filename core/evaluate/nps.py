"""NPS and other survey scores, overall and by segment, channel and month.

NPS = % promoters (9-10) - % detractors (0-6). The interval is Wald on the trinomial
(SE = 100·sqrt((p + d - (p - d)^2) / n)) or, with method="adjusted-wald", the same on
counts with 3/4 added to promoters and detractors and 3 to n (Rocks 2016), which
behaves better for small samples.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from scipy import stats as st

from core.errors import AnalysisError, InputError
from core.evaluate import stats
from core.evaluate.inputs import UNNAMED, names, on_or_before, require, require_columns
from core.result import Chart, Result

ANALYSIS = "nps report"
METHODS = ("wald", "adjusted-wald")
KNOWN = ("customer_id", "response_date", "nps", "comment")
# Customer attributes an analyst breaks NPS down by, when the workspace has them.
SEGMENT_COLUMNS = ("segment", "tier", "is_member", "region", "acquisition_channel", "channel")


def nps(
    survey: pl.LazyFrame | None,
    customers: pl.LazyFrame | None = None,
    transactions: pl.LazyFrame | None = None,
    *,
    by: tuple[str, ...] | None = None,
    confidence: float = 0.95,
    method: str = "wald",
    min_responses: int = 30,
    since: dt.date | None = None,
    as_of: dt.date | None = None,
    workspace: str = UNNAMED,
) -> Result:
    """NPS with its interval and promoter/passive/detractor shares, CSAT and other scores.

    `by` names the breakdowns (survey or customer columns, "channel" for each customer's
    main purchase channel, "month"); by default every segment-like column present.
    """
    require(survey, "survey", ANALYSIS, workspace)
    require_columns(survey, "survey", ("nps",), ANALYSIS, "add the 0-10 likelihood-to-recommend answers as 'nps'")
    if method not in METHODS:
        raise InputError(f"unknown interval method {method!r}", fix=f"use one of {', '.join(METHODS)}")
    answers, dims = with_breakdowns(survey, customers, transactions, by, since, as_of)
    z = stats.z_critical(confidence)
    scores = [c for c, t in survey.collect_schema().items() if t.is_numeric() and c not in KNOWN]
    has_month = "response_date" in names(survey)
    # The answers with only the columns the tables use, read once: every table below is a
    # small aggregate of them, so no query re-reads the survey or redoes the joins.
    responses = answers.select("nps", *scores, *dims, *(["month"] if has_month else [])).collect().lazy()
    queries = [
        summary(responses, [], z, method, scores),
        score_table(responses, ["nps", *scores]),
        distribution(responses),
        responses.filter(~pl.col("nps").is_between(0, 10)).select(pl.len()),
        *(summary(responses, [d], z, method, scores) for d in dims),
    ]
    if has_month:
        queries.append(summary(responses.filter(pl.col("month").is_not_null()), ["month"], z, method, scores)
                       .sort("month"))
    overall, score_stats, dist, out_of_range, *parts = pl.collect_all(queries)
    score_stats = with_t_interval(score_stats, confidence)
    if out_of_range.item():
        raise InputError(
            f"{out_of_range.item()} nps answers lie outside 0-10", column="nps",
            fix="NPS answers are 0-10; rescale or clean that column",
        )
    n = overall["responses"][0]
    if not n:
        if not survey.select(pl.col("nps").is_not_null().any()).collect().item():  # an export's empty column
            raise InputError(f"{ANALYSIS}: no survey answer has an nps (the column is empty)", file="survey",
                             column="nps", fix="fill in the 0-10 likelihood-to-recommend answers, or map the "
                                               "column that holds them as nps in loyalist.toml")
        raise AnalysisError(f"{ANALYSIS}: no NPS answers in the chosen dates. Fix: widen the date range")
    monthly = parts.pop() if has_month else None
    segments = long_breakdown(dims, parts, min_responses)
    row = overall.row(0, named=True)
    notes = [f"NPS interval: {method} at {confidence:.0%} confidence."]
    if n < min_responses:
        notes.append(f"Only {n} NPS answers: the interval is wide and the score unstable.")
    small = segments.filter(pl.col("small_sample")).height if dims else 0
    if small:
        notes.append(f"{small} groups have fewer than {min_responses} answers (small_sample = true).")
    headline = {
        "responses": n, "nps": row["nps"], "nps_ci": (row["nps_ci_low"], row["nps_ci_high"]),
        "promoters": row["promoters"], "passives": row["passives"], "detractors": row["detractors"],
        **{s: row[s] for s in ("csat", "ces") if row.get(s) is not None},  # other items: scores table
    }
    if "csat" in scores:
        headline["csat_top2"] = score_stats.filter(pl.col("score") == "csat")["top2_share"][0]
    tables, charts = {}, []
    if dims:
        tables["segments"] = segments
        charts.append(Chart("bar", "NPS by group", "segments", "group", ("nps",), "dimension"))
    if monthly is not None:
        tables["monthly"] = monthly.with_columns(small_flag(min_responses))
        charts.append(Chart("line", "NPS by month", "monthly", "month", ("nps",)))
    tables |= {"distribution": dist, "scores": score_stats}
    return Result(
        name="report.nps",
        title="NPS and satisfaction scores",
        tables=tables,
        headline=headline,
        charts=tuple(charts),
        params={"by": [*dims, *(["month"] if has_month else [])], "confidence": confidence, "method": method,
                "min_responses": min_responses, "since": since, "as_of": as_of},
        notes=tuple(notes),
        # NPS is a score from -100 to 100; its parts and shares are already in percent
        kinds={"nps*": "number", "promoters": "points", "passives": "points", "detractors": "points",
               "csat_top2": "points", "top2_share": "points", "distribution/share": "points"},
    )


def with_breakdowns(
    survey: pl.LazyFrame, customers: pl.LazyFrame | None, transactions: pl.LazyFrame | None,
    by: tuple[str, ...] | None, since: dt.date | None, as_of: dt.date | None,
) -> tuple[pl.LazyFrame, list[str]]:
    """Answers with the breakdown columns attached, and the names of those columns."""
    cols = names(survey)
    lf = survey
    if "response_date" in cols:
        lf = lf.filter(on_or_before(pl.col("response_date"), as_of))
        if since is not None:
            lf = lf.filter(pl.col("response_date") >= since)
        lf = lf.with_columns(pl.col("response_date").dt.strftime("%Y-%m").alias("month"))
    available = set(cols) | {"month"} if "response_date" in cols else set(cols)
    wanted = list(by) if by is not None else None
    extra = [c for c in names(customers) if c != "customer_id" and c not in cols]
    if customers is not None and (wanted is None or set(wanted) & set(extra)):
        keep = extra if wanted is None else [c for c in wanted if c in extra]
        lf = lf.join(customers.select("customer_id", *keep).unique("customer_id"), on="customer_id", how="left")
        available |= set(keep)
    if "channel" not in available and "channel" in names(transactions) and (wanted is None or "channel" in wanted):
        lf = lf.join(main_channel(transactions, as_of, lf.select("customer_id")), on="customer_id", how="left")
        available.add("channel")
    if wanted is None:
        return lf, [c for c in SEGMENT_COLUMNS if c in available]
    unknown = [c for c in wanted if c not in available]
    if unknown:
        raise InputError(
            f"cannot break NPS down by {', '.join(unknown)}: no such survey or customer column",
            fix=f"use some of: {', '.join(sorted(available - set(KNOWN)))}",
        )
    return lf, [c for c in wanted if c != "month"]


def main_channel(transactions: pl.LazyFrame, as_of: dt.date | None,
                 only: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """Each customer's channel with the most orders (ties: alphabetical); an order of several
    lines counts once. With `only` (a customer_id column), just those customers: the
    respondents are a fraction of the customers, and counting orders for the rest held most
    of the report's memory."""
    orders = pl.col("order_id").n_unique() if "order_id" in transactions.collect_schema() else pl.len()
    rows = transactions.filter(on_or_before(pl.col("order_date"), as_of), pl.col("channel").is_not_null())
    if only is not None:
        rows = rows.join(only, on="customer_id", how="semi")
    return (
        rows.group_by("customer_id", "channel").agg(orders.alias("_orders"))
        .sort("_orders", "channel", descending=[True, False])
        .group_by("customer_id").agg(pl.col("channel").first())
    )


def summary(lf: pl.LazyFrame, keys: list[str], z: float, method: str, scores: list[str]) -> pl.LazyFrame:
    """Per group: responses, shares (in %), NPS and its interval, mean of each other score."""
    score = pl.col("nps")
    grouped = lf.filter(score.is_not_null())
    aggs = [
        pl.len().cast(pl.Int64).alias("responses"),  # signed: p - d must not wrap around
        (score >= 9).sum().cast(pl.Int64).alias("_promoters"),
        (score <= 6).sum().cast(pl.Int64).alias("_detractors"),
        *(pl.col(s).mean() for s in scores),
    ]
    out = grouped.group_by(keys).agg(aggs) if keys else grouped.select(aggs)
    n, p, d = pl.col("responses"), pl.col("_promoters"), pl.col("_detractors")
    pad, extra = (0.75, 3.0) if method == "adjusted-wald" else (0.0, 0.0)
    pa, da, na = (p + pad) / (n + extra), (d + pad) / (n + extra), n + extra
    centre = 100 * (pa - da)
    se = 100 * ((pa + da - (pa - da) ** 2) / na).sqrt()
    return out.with_columns(
        (100 * p / n).alias("promoters"),
        (100 * (n - p - d) / n).alias("passives"),
        (100 * d / n).alias("detractors"),
        (100 * (p - d) / n).alias("nps"),
        (centre - z * se).clip(-100, 100).alias("nps_ci_low"),
        (centre + z * se).clip(-100, 100).alias("nps_ci_high"),
    ).select(*keys, "responses", "promoters", "passives", "detractors", "nps", "nps_ci_low",
             "nps_ci_high", *scores)


def small_flag(min_responses: int) -> pl.Expr:
    return (pl.col("responses") < min_responses).alias("small_sample")


def long_breakdown(dims: list[str], parts: list[pl.DataFrame], min_responses: int) -> pl.DataFrame:
    """Every breakdown in one table: dimension, group, then the summary columns."""
    frames = [
        part.rename({dim: "group"}).with_columns(pl.col("group").cast(pl.String), dimension=pl.lit(dim))
        .sort("group", nulls_last=True)
        for dim, part in zip(dims, parts)
    ]
    if not frames:
        return pl.DataFrame()
    table = pl.concat(frames, how="diagonal_relaxed")
    return table.select("dimension", "group", pl.exclude("dimension", "group")).with_columns(
        small_flag(min_responses)
    )


def score_table(lf: pl.LazyFrame, scores: list[str]) -> pl.LazyFrame:
    """Mean, SD, range of each numeric score; CSAT also its top-2-box share (4-5 of 1-5)."""
    rows = [
        lf.select(
            pl.lit(s).alias("score"),
            pl.col(s).count().cast(pl.Int64).alias("responses"),
            pl.col(s).cast(pl.Float64).mean().alias("mean"),
            pl.col(s).cast(pl.Float64).std().alias("sd"),
            pl.col(s).cast(pl.Float64).min().alias("min"),
            pl.col(s).cast(pl.Float64).max().alias("max"),
            ((pl.col(s) >= 4).sum() / pl.col(s).count() * 100).alias("top2_share")
            if s == "csat" else pl.lit(None, pl.Float64).alias("top2_share"),
        )
        for s in scores
    ]
    return pl.concat(rows)


def with_t_interval(table: pl.DataFrame, confidence: float) -> pl.DataFrame:
    """Add the t interval of each score's mean (a few rows, so numpy after the collect)."""
    n = table["responses"].to_numpy().astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = st.t.ppf(0.5 + confidence / 2, n - 1) * table["sd"].to_numpy() / np.sqrt(n)
    return table.with_columns(
        (pl.col("mean") - pl.Series(half)).alias("ci_low"),
        (pl.col("mean") + pl.Series(half)).alias("ci_high"),
    ).fill_nan(None).select("score", "responses", "mean", "sd", "ci_low", "ci_high", "min", "max", "top2_share")


def distribution(lf: pl.LazyFrame) -> pl.LazyFrame:
    """How many answered each of 0-10, and the category each answer falls in."""
    counts = lf.filter(pl.col("nps").is_not_null()).group_by("nps").agg(pl.len().alias("responses"))
    scale = pl.LazyFrame({"nps": list(range(11))}, schema={"nps": pl.Int64})
    return (
        scale.join(counts.with_columns(pl.col("nps").cast(pl.Int64)), on="nps", how="left")
        .with_columns(pl.col("responses").fill_null(0).cast(pl.Int64))
        .with_columns(
            (100 * pl.col("responses") / pl.col("responses").sum()).alias("share"),
            pl.when(pl.col("nps") >= 9).then(pl.lit("promoter"))
            .when(pl.col("nps") >= 7).then(pl.lit("passive")).otherwise(pl.lit("detractor"))
            .alias("category"),
        )
        .rename({"nps": "score"})
        .sort("score")
    )
