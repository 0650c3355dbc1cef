"""One customer's history as a Result: orders, orders by channel, survey answers, profile
attributes and scores. Built in a thread worker by the customer view.

This is a lookup, not an analysis: it filters the workspace's tables to one customer
(lazily, so only that customer's rows are collected) and totals their orders by channel.
Scores (RFM scores, cluster, segment, per-customer features) are passed in by the screen
that knows them, so nothing here re-segments anyone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import polars as pl

from core.errors import InputError
from core.export.display import format_value
from core.result import Chart, Result
from core.workspace import Workspace

NO_CHANNEL = "(no channel)"


def customer_history(ws: Workspace, customer_id: str, *, scores: Mapping[str, Any] | None = None,
                     segmentation: str | None = None, as_of: dt.date | None = None,
                     loyalty: pl.DataFrame | None = None) -> Result:
    """Result "customer.history": tables orders, channels, survey, profile and scores.

    `loyalty` is a scale's per-customer table (customer_id, score, tier) when one has been
    computed; the customer's loyalty score and tier join their other scores.
    """
    tx = ws.scan("transactions").filter(pl.col("customer_id") == customer_id)
    if as_of is not None:
        tx = tx.filter(pl.col("order_date") <= as_of)
    plans = {"orders": tx.sort("order_date", descending=True, maintain_order=True)}
    if ws.has("customers"):
        plans["customer"] = ws.scan("customers").filter(pl.col("customer_id") == customer_id).head(1)
    if ws.has("survey"):
        survey = ws.scan("survey").filter(pl.col("customer_id") == customer_id)
        if "response_date" in survey.collect_schema():
            survey = survey.sort("response_date", descending=True, nulls_last=True)
        plans["survey"] = survey
    frames = dict(zip(plans, pl.collect_all(list(plans.values()))))
    orders = frames["orders"]
    customer = frames.get("customer")
    if orders.is_empty() and (customer is None or customer.is_empty()):
        raise InputError(f"no customer {customer_id!r} in the transactions or customers tables",
                         fix="check the customer id")
    channels = by_channel(orders)
    profile = _facts(customer.row(0, named=True) if customer is not None and customer.height else {},
                     skip={"customer_id"})
    scores = dict(scores or {})
    if loyalty is not None:
        mine = loyalty.filter(pl.col("customer_id") == customer_id)
        if mine.height:
            scores |= {"loyalty_score": mine["score"][0], "loyalty_tier": mine["tier"][0]}
    score_facts = _facts(scores, skip={"customer_id"})
    survey = _survey_long(frames["survey"]) if "survey" in frames else _survey_long(pl.DataFrame())
    name = customer["name"][0] if customer is not None and customer.height and "name" in customer.columns else None
    purchases = orders.filter(pl.col("amount") > 0)
    title = f"Customer {customer_id}" + (f" · {name}" if name else "")
    return Result(
        name="customer.history",
        title=title,
        tables={"orders": orders, "channels": channels, "survey": survey, "profile": profile,
                "scores": score_facts},
        headline={
            "customer_id": customer_id,
            "name": name,
            "orders": int(channels["orders"].sum()) if channels.height else 0,
            "net_spend": round(float(orders["amount"].sum()), 2) if orders.height else 0.0,
            "first_order": purchases["order_date"].min() if purchases.height else None,
            "last_order": purchases["order_date"].max() if purchases.height else None,
            "channels": int((channels["orders"] > 0).sum()) if channels.height else 0,
            "survey_responses": survey["response"].n_unique() if survey.height else 0,
        },
        charts=(Chart("bar", "Net spend by channel", "channels", x="channel", y="net_spend"),),
        params={"customer_id": customer_id, "as_of": as_of, "segmentation": segmentation},
        notes=("orders: purchases (positive amounts), counted once per order id; returns are "
               "negative amounts and reduce net spend",),
    )


def by_channel(orders: pl.DataFrame) -> pl.DataFrame:
    """Per channel: orders, net spend, returns, first and last order, share of net spend."""
    channel = (pl.col("channel").fill_null(NO_CHANNEL) if "channel" in orders.columns
               else pl.lit(NO_CHANNEL)).alias("channel")
    buy = pl.col("amount") > 0
    order_key = pl.col("order_id") if "order_id" in orders.columns else pl.int_range(pl.len())
    table = (
        orders.with_columns(channel, _key=pl.when(buy).then(order_key.cast(pl.String)))
        .group_by("channel")
        .agg(orders=pl.col("_key").drop_nulls().n_unique().cast(pl.Int64),
             net_spend=pl.col("amount").sum().round(2),
             returns=(~buy).sum().cast(pl.Int64),
             returned_value=(-pl.col("amount").filter(~buy)).sum().round(2),
             first_order=pl.col("order_date").filter(buy).min(),
             last_order=pl.col("order_date").filter(buy).max())
    )
    total = table["net_spend"].sum() if table.height else 0.0
    return (table.with_columns(spend_share=pl.col("net_spend") / total if total > 0
                               else pl.lit(None, pl.Float64))
            .sort(["net_spend", "channel"], descending=[True, False]))


def _survey_long(survey: pl.DataFrame) -> pl.DataFrame:
    """One row per answer: response (1 = latest), response_date, question, answer."""
    schema = {"response": pl.Int64, "response_date": pl.Date, "question": pl.String, "answer": pl.String}
    questions = [c for c in survey.columns if c not in ("customer_id", "response_date")]
    if survey.is_empty() or not questions:
        return pl.DataFrame(schema=schema)
    dated = "response_date" in survey.columns
    rows = [
        (i + 1, row["response_date"] if dated else None, q, format_value(row[q]))
        for i, row in enumerate(survey.iter_rows(named=True))  # one customer's few responses
        for q in questions if row[q] is not None and row[q] != ""
    ]
    return pl.DataFrame(rows, schema=schema, orient="row")


def _facts(values: Mapping[str, Any], skip: set[str]) -> pl.DataFrame:
    rows = [(k, format_value(v)) for k, v in values.items() if k not in skip]
    return pl.DataFrame(rows, schema={"field": pl.String, "value": pl.String}, orient="row")
