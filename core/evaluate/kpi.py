"""KPI overview: brand, customer and sales indicators for a period against the one before.

The period is [start, end] (both inclusive); the previous period has the same length and
ends the day before start. Everything comes from one pass of aggregations per table.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from core.errors import AnalysisError, InputError
from core.evaluate.inputs import UNNAMED, names, require
from core.evaluate.value import DISCOUNT_RATE
from core.features import default_as_of
from core.result import Chart, Result

ANALYSIS = "kpi report"
DEFAULT_DAYS = 30
YEAR = 365

# kpi -> (level, unit, definition); the table keeps this order.
KPIS: dict[str, tuple[str, str, str]] = {
    "nps": ("brand", "points", "% promoters (9-10) - % detractors (0-6) among answers in the period"),
    "csat": ("brand", "score", "mean CSAT of answers in the period"),
    "survey_responses": ("brand", "count", "survey answers in the period"),
    "customers": ("customer", "count", "customers with a purchase on or before the period's end"),
    "active_customers": ("customer", "count", "customers with a purchase in the period"),
    "new_customers": ("customer", "count", "customers whose first purchase is in the period"),
    "cac": ("customer", "money", "acquisition cost per new customer (customers.acquisition_cost, "
            "else marketing cost in the period / new customers)"),
    "clv": ("customer", "money", "mean annual net spend x r / (1 + d - r), r the yearly retention "
            "at the period's end"),
    "retention_rate": ("customer", "share", "share of the previous period's buyers who bought again"),
    "churn_rate": ("customer", "share", "1 - retention rate"),
    "repeat_purchase_rate": ("customer", "share", "share of the period's buyers with two or more orders in it"),
    "revenue": ("sales", "money", "net revenue (returns subtracted)"),
    "revenue_growth": ("sales", "share", "revenue against the previous period, - 1"),
    "orders": ("sales", "count", "orders with a positive amount"),
    "aov": ("sales", "money", "average order value: gross sales / orders"),
    "conversion_rate": ("sales", "share", "share of customers touched in the period who bought in it"),
}


# How each unit reads in every renderer (core.export.columns kinds); NPS is a score, not a percent
UNIT_KINDS = {"money": "money", "share": "percent", "count": "count", "points": "number", "score": "number"}


def kpi(
    transactions: pl.LazyFrame | None,
    customers: pl.LazyFrame | None = None,
    touchpoints: pl.LazyFrame | None = None,
    survey: pl.LazyFrame | None = None,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    days: int = DEFAULT_DAYS,
    discount_rate: float = DISCOUNT_RATE,
    workspace: str = UNNAMED,
) -> Result:
    """Every KPI for the period and the previous one; `end` defaults to the last order date
    and `start` to `days` days before it."""
    require(transactions, "transactions", ANALYSIS, workspace)
    end = end or default_as_of(transactions)
    if start is None:
        if days < 1:
            raise InputError("the period must be at least one day", fix="pass --days 30")
        start = end - dt.timedelta(days=days - 1)
    if start > end:
        raise InputError(f"the period starts ({start}) after it ends ({end})", fix="swap --from and --to")
    length = (end - start).days + 1
    prev = (start - dt.timedelta(days=length), start - dt.timedelta(days=1))
    prev2 = (prev[0] - dt.timedelta(days=length), prev[0] - dt.timedelta(days=1))
    periods = {"current": (start, end), "previous": prev}
    queries = {"sales": sales_and_customers(transactions, periods, prev2, discount_rate,
                                            "order_id" in names(transactions))}
    if customers is not None and "acquisition_cost" in names(customers):
        queries["cac"] = acquisition_cost(transactions, customers, periods)
    if touchpoints is not None:
        queries["touch"] = touch_kpis(transactions, touchpoints, periods)
    if survey is not None and "response_date" in names(survey):
        queries["survey"] = survey_kpis(survey, periods)
    frames = dict(zip(queries, pl.collect_all(list(queries.values()))))
    values = {p: {} for p in periods}
    for frame in frames.values():
        for row in frame.iter_rows(named=True):
            values[row.pop("period")].update(row)
    if not values["current"].get("active_customers"):
        raise AnalysisError(f"{ANALYSIS}: no purchases between {start} and {end}. "
                            "Fix: choose a period with transactions (--from/--to or --as-of)")
    for p in periods:
        v = values[p]
        cost = v.pop("marketing_cost", None)
        if v.get("cac") is None and cost and v.get("new_customers"):
            v["cac"] = cost / v["new_customers"]
        if v.get("retention_rate") is not None:
            v["churn_rate"] = 1 - v["retention_rate"]
    cur, old = values["current"], values["previous"]
    if cur.get("revenue") is not None and old.get("revenue"):
        cur["revenue_growth"] = cur["revenue"] / old["revenue"] - 1
    rows = [
        {"level": level, "kpi": name, "current": num(cur.get(name)), "previous": num(old.get(name)),
         "unit": unit, "definition": text}
        for name, (level, unit, text) in KPIS.items()
        if cur.get(name) is not None or old.get(name) is not None
    ]
    table = pl.DataFrame(rows, schema={"level": pl.String, "kpi": pl.String, "current": pl.Float64,
                                       "previous": pl.Float64, "unit": pl.String, "definition": pl.String})
    table = table.with_columns(
        (pl.col("current") - pl.col("previous")).alias("change"),
        pl.when(pl.col("previous") != 0).then(pl.col("current") / pl.col("previous") - 1).alias("change_pct"),
    ).select("level", "kpi", "current", "previous", "change", "change_pct", "unit", "definition")
    notes = [f"Period {start} to {end} ({length} days) against {prev[0]} to {prev[1]}."]
    if not old.get("active_customers"):
        notes.append("The previous period has no purchases (before the data start?): no comparison.")
    missing = [k for k in KPIS if cur.get(k) is None]
    if missing:
        notes.append(f"Not available from this workspace: {', '.join(missing)}.")
    return Result(
        name="report.kpi",
        title="KPI overview",
        tables={"kpis": table},
        headline={k: cur[k] for k in KPIS if cur.get(k) is not None},
        kinds={name: UNIT_KINDS[unit] for name, (_, unit, _) in KPIS.items()},
        charts=(Chart("bar", "KPIs: current against previous period", "kpis", "kpi", ("current", "previous")),),
        params={"start": start, "end": end, "previous_start": prev[0], "previous_end": prev[1],
                "discount_rate": discount_rate},
        notes=tuple(notes),
    )


def num(value) -> float | None:
    return None if value is None else float(value)


def between(col: str, span: tuple[dt.date, dt.date]) -> pl.Expr:
    return pl.col(col).is_between(pl.lit(span[0]), pl.lit(span[1]))


def sales_and_customers(transactions: pl.LazyFrame, periods: dict[str, tuple[dt.date, dt.date]],
                        prev2: tuple[dt.date, dt.date], discount_rate: float, has_order_id: bool) -> pl.LazyFrame:
    """Per period: customer and sales KPIs from one group_by of the transactions."""
    end = periods["current"][1]
    buy = pl.col("amount") > 0
    order = pl.col("order_id") if has_order_id else pl.col("order_date")
    spans = {**periods, "previous2": prev2}
    # Every measure is a row column (null or false outside its period) reduced by a plain
    # min/any/sum/n_unique: filters inside agg() made the streaming group_by fall back to a
    # per-group evaluation that held every row (2.3 GB at 10M transactions).
    # Two group_bys: the whole history for what needs it (first purchase, spend to date,
    # yearly retention), and only the rows of the three periods for the rest. One group_by of
    # every row with every measure held each measure's state for every customer: the
    # report's 1.7 GB peak at 10M rows.
    history_columns = {"_first": pl.when(buy).then(pl.col("order_date"))}
    for p, span in periods.items():
        history_columns[f"_monetary_{p}"] = pl.when(pl.col("order_date") <= span[1]).then(pl.col("amount"))
        history_columns |= yearly_flags(span[1], p)
    recent_columns = {f"_bought_{p}": buy & between("order_date", span) for p, span in spans.items()}
    for p, span in periods.items():
        in_period = between("order_date", span)
        recent_columns[f"_order_{p}"] = (pl.when(buy & in_period).then(order) if has_order_id
                                         else (buy & in_period).cast(pl.Int64))
        recent_columns[f"_revenue_{p}"] = pl.when(in_period).then(pl.col("amount"))
        recent_columns[f"_gross_{p}"] = pl.when(buy & in_period).then(pl.col("amount"))

    def orders(p: str) -> pl.Expr:  # distinct orders; n_unique counts the null (no order) as one
        column = pl.col(f"_order_{p}")
        if not has_order_id:
            return column.sum().alias(f"orders_{p}")
        return (column.n_unique() - (column.null_count() > 0).cast(pl.UInt32)).alias(f"orders_{p}")

    history = (
        transactions.filter(pl.col("order_date") <= end)
        .select("customer_id", **history_columns)
        .group_by("customer_id").agg(
            pl.col("_first").min().alias("first"),
            *(pl.col(f"_monetary_{p}").sum().alias(f"monetary_{p}") for p in periods),
            *(pl.col(f"_{f}_{p}").any().alias(f"{f}_{p}") for f in ("base", "later") for p in periods),
        )
    )
    recent = (
        transactions.filter(between("order_date", (prev2[0], end)))
        .select("customer_id", **recent_columns)
        .group_by("customer_id").agg(
            # days_*: whether the customer bought in the period (all the KPIs ask of it)
            *(pl.col(f"_bought_{p}").any().cast(pl.Int64).alias(f"days_{p}") for p in spans),
            *(orders(p) for p in periods),
            *(pl.col(f"_{m}_{p}").sum().alias(f"{m}_{p}") for m in ("revenue", "gross") for p in periods),
        )
    )
    # A customer with no row in the periods: no days, orders or revenue there (what the
    # group_by of every row gave them)
    counted = [*(f"days_{p}" for p in spans), *(f"{m}_{p}" for m in ("orders", "revenue", "gross")
                                               for p in periods)]
    per_customer = (
        history.join(recent, on="customer_id", how="left")
        .with_columns(pl.col(counted).fill_null(0))
        .with_columns((pl.col(f"base_{p}") & pl.col(f"later_{p}")).alias(f"kept_{p}") for p in periods)
    )
    parts = []
    for p, (lo, hi) in periods.items():
        before = "previous" if p == "current" else "previous2"
        known = pl.col("first") <= hi
        annual = (pl.col(f"monetary_{p}") * YEAR
                  / pl.max_horizontal((pl.lit(hi) - pl.col("first")).dt.total_days() + 1, pl.lit(YEAR)))
        r = pl.col(f"kept_{p}").sum() / pl.col(f"base_{p}").sum()
        parts.append(per_customer.select(
            pl.lit(p).alias("period"),
            known.sum().alias("customers"),
            (pl.col(f"days_{p}") > 0).sum().alias("active_customers"),
            pl.col("first").is_between(pl.lit(lo), pl.lit(hi)).sum().alias("new_customers"),
            pl.when((pl.col(f"days_{before}") > 0).sum() > 0).then(
                ((pl.col(f"days_{before}") > 0) & (pl.col(f"days_{p}") > 0)).sum()
                / (pl.col(f"days_{before}") > 0).sum()).alias("retention_rate"),
            pl.when((pl.col(f"days_{p}") > 0).sum() > 0).then(
                (pl.col(f"orders_{p}") >= 2).sum() / (pl.col(f"days_{p}") > 0).sum())
            .alias("repeat_purchase_rate"),
            pl.col(f"revenue_{p}").sum().alias("revenue"),
            pl.col(f"orders_{p}").sum().alias("orders"),
            pl.when(pl.col(f"orders_{p}").sum() > 0).then(
                pl.col(f"gross_{p}").sum() / pl.col(f"orders_{p}").sum()).alias("aov"),
            pl.when(pl.col(f"base_{p}").sum() > 0).then(
                annual.filter(known).mean() * r / (1 + discount_rate - r)).alias("clv"),
        ))
    return pl.concat(parts, how="vertical_relaxed")


def yearly_flags(end: dt.date, p: str) -> dict[str, pl.Expr]:
    """Row flags: a purchase in the year before last (base) and in the last year (later), as of
    end; a customer is kept when both are true for any of their rows."""
    year_ago = end - dt.timedelta(days=YEAR)
    two_years = end - dt.timedelta(days=2 * YEAR)
    buy = pl.col("amount") > 0
    base = buy & (pl.col("order_date") > two_years) & (pl.col("order_date") <= year_ago)
    later = buy & (pl.col("order_date") > year_ago) & (pl.col("order_date") <= end)
    return {f"_base_{p}": base, f"_later_{p}": later}


def acquisition_cost(transactions: pl.LazyFrame, customers: pl.LazyFrame,
                     periods: dict[str, tuple[dt.date, dt.date]]) -> pl.LazyFrame:
    """Mean customers.acquisition_cost of each period's new customers."""
    first = (transactions.filter(pl.col("amount") > 0).group_by("customer_id")
             .agg(pl.col("order_date").min().alias("first"))
             .join(customers.select("customer_id", "acquisition_cost").unique("customer_id"),
                   on="customer_id", how="left"))
    return pl.concat([
        first.filter(between("first", s)).select(pl.lit(p).alias("period"),
                                                 pl.col("acquisition_cost").mean().alias("cac"))
        for p, s in periods.items()
    ])


def touch_kpis(transactions: pl.LazyFrame, touchpoints: pl.LazyFrame,
               periods: dict[str, tuple[dt.date, dt.date]]) -> pl.LazyFrame:
    """Per period: conversion rate of touched customers and marketing cost."""
    day = pl.col("timestamp").dt.date().alias("day")
    touches = touchpoints.with_columns(day)
    has_cost = "cost" in names(touchpoints)
    parts = []
    for p, s in periods.items():
        touched = touches.filter(between("day", s))
        buyers = transactions.filter(pl.col("amount") > 0, between("order_date", s)).select("customer_id").unique()
        reached = touched.select("customer_id").unique()
        parts.append(reached.join(buyers.with_columns(pl.lit(True).alias("_b")), on="customer_id", how="left")
                     .select(pl.lit(p).alias("period"),
                             pl.when(pl.len() > 0).then(pl.col("_b").is_not_null().mean()).alias("conversion_rate"))
                     .join(touched.select(pl.lit(p).alias("period"),
                                          (pl.col("cost").sum() if has_cost else pl.lit(None, pl.Float64))
                                          .alias("marketing_cost")), on="period"))
    return pl.concat(parts)


def survey_kpis(survey: pl.LazyFrame, periods: dict[str, tuple[dt.date, dt.date]]) -> pl.LazyFrame:
    cols = names(survey)
    parts = []
    for p, s in periods.items():
        answers = survey.filter(between("response_date", s))
        exprs = [pl.lit(p).alias("period"), pl.len().alias("survey_responses")]
        if "nps" in cols:
            n = pl.col("nps").count()
            exprs.append(pl.when(n > 0).then(
                100 * ((pl.col("nps") >= 9).sum().cast(pl.Int64) - (pl.col("nps") <= 6).sum().cast(pl.Int64))
                / n).alias("nps"))
        if "csat" in cols:
            exprs.append(pl.col("csat").cast(pl.Float64).mean().alias("csat"))
        parts.append(answers.select(exprs))
    return pl.concat(parts, how="vertical_relaxed")
