"""Drill-down: the customers behind one row of a result.

A row of some results names a group of customers: a channel (report.channels), a campaign
(report.campaign), an acquisition cohort (report.cohorts), a segment (segment.rfm,
segment.kmeans, segment.quadrant). `drill_column` says whether a table's rows can be
drilled and by which column; `customers_behind` returns those customers, one row each,
defined exactly as the report counted them (same as-of date, same rules), so the list's
length is the row's `customers` figure where the row has one. Results whose rows are
customers already (a customer_id column) are drilled one customer at a time by the app.

A cell of the cohort retention matrices (a cohort's row, a period's column m3 or w3) is
drilled to the cohort's customers active in that period (`period_of_cell`): as many as the
cohorts table's `active` figure for that cohort and period.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import polars as pl

from core.errors import AnalysisError, InputError
from core.result import Result
from core.workspace import Workspace

SEGMENT_KINDS = ("segment.rfm", "segment.kmeans", "segment.quadrant")
COHORT_TABLES = ("customer_retention", "revenue_retention", "cohorts")
MATRIX_TABLES = ("customer_retention", "revenue_retention")  # cohorts down, periods (m0, m1, ...) across
PERIOD_COLUMN = re.compile(r"^[mw](\d+)$")

# (result kind, table) -> the column of a row that names its customers' group
DRILLABLE: dict[tuple[str, str], str] = {
    ("report.channels", "channels"): "channel",
    ("report.campaign", "campaigns"): "campaign_id",
    ("report.campaign", "windows"): "campaign_id",
    **{("report.cohorts", t): "cohort" for t in COHORT_TABLES},
    **{(k, "segments"): "segment" for k in SEGMENT_KINDS},
}
WHAT = {"channel": "channel", "campaign_id": "campaign", "cohort": "cohort", "segment": "segment"}


def drill_column(kind: str, table: str) -> str | None:
    """The column naming a row's group of customers, or None when the rows cannot be drilled."""
    return DRILLABLE.get((kind, table))


def period_of_cell(kind: str, table: str, column: str | None) -> int | None:
    """The period k of a cohort matrix's column (m3 -> 3), or None when the cell is not one."""
    found = PERIOD_COLUMN.match(column or "") if kind == "report.cohorts" and table in MATRIX_TABLES else None
    return int(found[1]) if found else None


def customers_behind(result: Result, table: str, row: dict[str, Any], ws: Workspace | None,
                     cell: str | None = None) -> Result:
    """The customers behind `row` of `result.tables[table]`: customer_id first, then what they
    did within the group (orders, revenue, dates), largest revenue first. `cell`, a period
    column of a cohort matrix, narrows them to the cohort's customers active in that period."""
    column = drill_column(result.name, table)
    period = period_of_cell(result.name, table, cell)
    if column is None:
        raise InputError(f"the rows of {result.name}'s {table} table do not name a group of customers",
                         fix="drill from a channels, campaigns, cohorts or segments table")
    value = row.get(column)
    if value is None:
        raise AnalysisError(f"this row has no {WHAT[column]}, so no customers to list")
    if period is not None and row.get(cell) is None:
        raise AnalysisError(f"cohort {value} has no period {cell} yet: it ends after the last date, so no "
                            "customers to list")
    as_of = result.params.get("as_of")
    if result.name in SEGMENT_KINDS:
        members = result.tables["customers"].filter(pl.col("segment") == value).drop("segment")
        frame = members
    else:
        if ws is None:
            raise InputError("no workspace is open", fix="open the workspace the report was run on")
        tx = ws.scan("transactions")
        if as_of is not None:
            tx = tx.filter(pl.col("order_date") <= pl.lit(as_of, dtype=pl.Date))
        if column == "channel":  # its buyers, as the report counts them, and their orders there
            frame = _summary(tx.filter(pl.col("channel") == value))
        elif column == "cohort":
            frame = _cohort(tx, str(value), result.params, period)
        else:
            frame = _campaign(ws, tx, str(value), as_of)
    frame = _with_names(frame, ws)
    what = WHAT[column]
    title = f"Customers of {what} {value}" + (f" active in {cell}" if period is not None else "") \
        + (f" as of {as_of}" if as_of else "")
    return Result("drill.customers", title, {"customers": frame},
                  headline={"customers": frame.height},
                  kinds={"customers": "count", "orders": "count", "revenue": "money", "tagged_revenue": "money",
                         "touches": "count", "first_order": "date", "last_order": "date"},
                  params={"from": result.name, what: value, **({"period": cell} if period is not None else {}),
                          **({"as_of": as_of} if as_of else {})},
                  notes=(_defined("period" if period is not None else column, result.name),))


def _orders(tx: pl.LazyFrame) -> pl.Expr:
    """Orders as the reports count them: distinct order ids when the file has them (an order of
    several lines is one order), else rows."""
    return pl.col("order_id").n_unique() if "order_id" in tx.collect_schema().names() else pl.len()


def _summary(tx: pl.LazyFrame) -> pl.DataFrame:
    """Per customer with a purchase in `tx`: orders (returns are not orders), net revenue (returns
    subtracted), first and last purchase."""
    buys = tx.filter(pl.col("amount") > 0)
    orders = (pl.col("order_id").filter(pl.col("amount") > 0).n_unique()
              if "order_id" in tx.collect_schema().names() else (pl.col("amount") > 0).sum())
    return (tx.group_by("customer_id")
            .agg(orders.cast(pl.Int64).alias("orders"), pl.sum("amount").round(2).alias("revenue"),
                 pl.col("order_date").filter(pl.col("amount") > 0).min().alias("first_order"),
            pl.col("order_date").filter(pl.col("amount") > 0).max().alias("last_order"))
            .join(buys.select("customer_id").unique(), on="customer_id", how="semi")
            .sort(["revenue", "customer_id"], descending=[True, False]).collect())


def _cohort(tx: pl.LazyFrame, label: str, params: dict[str, Any], k: int | None = None) -> pl.DataFrame:
    """Customers whose first purchase (amount > 0) falls in the cohort's period, as
    core.evaluate.cohorts groups them; their orders from then to the as-of date. With `k`,
    those with a purchase in the cohort's k-th period after it, and their orders in it."""
    from core.evaluate.cohorts import period_label, period_number

    period = params.get("period") or "month"
    first = (tx.filter(pl.col("amount") > 0).group_by("customer_id")
             .agg(pl.col("order_date").min().alias("_first"))
             .with_columns(period_number(pl.col("_first"), period).alias("_cohort"))
             .filter(period_label(pl.col("_cohort"), period) == label))
    since = params.get("since")
    if since is not None:
        first = first.filter(pl.col("_first") >= pl.lit(since, dtype=pl.Date))
    if k is None:
        return _summary(tx.join(first.select("customer_id"), on="customer_id", how="semi"))
    within = (tx.join(first.select("customer_id", "_cohort"), on="customer_id")
              .filter(period_number(pl.col("order_date"), period) - pl.col("_cohort") == k).drop("_cohort"))
    return _summary(within)


def _campaign(ws: Workspace, tx: pl.LazyFrame, campaign: str, as_of: dt.date | None) -> pl.DataFrame:
    """Customers the campaign reached (a touchpoint with its campaign_id) or whose orders are
    tagged with it, up to the as-of date: their touches and tagged orders."""
    names = tx.collect_schema().names()
    parts = []
    if "campaign_id" in names:
        parts.append(tx.filter(pl.col("campaign_id") == campaign).group_by("customer_id").agg(
            _orders(tx).cast(pl.Int64).alias("orders"), pl.sum("amount").round(2).alias("tagged_revenue"),
            pl.max("order_date").alias("last_order")))
    touches = ws.scan_if("touchpoints")
    if touches is not None and "campaign_id" in touches.collect_schema().names():
        if as_of is not None:
            touches = touches.filter(pl.col("timestamp").cast(pl.Date) <= pl.lit(as_of, dtype=pl.Date))
        parts.append(touches.filter(pl.col("campaign_id") == campaign).group_by("customer_id").agg(
            pl.len().cast(pl.Int64).alias("touches")))
    if not parts:
        raise AnalysisError("neither the transactions nor the touchpoints have a campaign_id column, "
                            "so no customer can be tied to a campaign")
    frame = parts[0]
    for part in parts[1:]:
        frame = frame.join(part, on="customer_id", how="full", coalesce=True)
    columns = frame.collect_schema().names()
    fill = [pl.col(c).fill_null(0) for c in ("orders", "touches") if c in columns]
    fill += [pl.col("tagged_revenue").fill_null(0.0)] if "tagged_revenue" in columns else []
    order = [c for c in ("tagged_revenue", "touches") if c in columns]
    return frame.with_columns(fill).sort([*order, "customer_id"], descending=[*[True] * len(order), False]).collect()


def _with_names(frame: pl.DataFrame, ws: Workspace | None) -> pl.DataFrame:
    """The customer's name beside the id, when the customers table has one."""
    if ws is None or not ws.has("customers") or "name" in frame.columns:
        return frame
    customers = ws.scan("customers")
    if "name" not in customers.collect_schema().names():
        return frame
    names = customers.select("customer_id", "name").unique("customer_id", keep="first").collect()
    joined = frame.join(names, on="customer_id", how="left", maintain_order="left")
    return joined.select("customer_id", "name", pl.exclude("customer_id", "name"))


def _defined(column: str, kind: str) -> str:
    return {
        "channel": "Customers with a purchase (amount > 0) on this channel up to the as-of date, as the channels "
                   "report counts them; orders and net revenue (returns subtracted) are on this channel only.",
        "cohort": "Customers whose first purchase falls in this cohort's period, as the cohorts report groups "
                  "them; orders and net revenue are all of theirs up to the as-of date.",
        "campaign_id": "Customers the campaign reached (a touchpoint with its campaign_id) or whose orders are "
                       "tagged with it, up to the as-of date.",
        "segment": f"The customers {kind} put in this segment.",
        "period": "Customers of this cohort with a purchase (amount > 0) in this period after their first, as the "
                  "cohorts report counts them active; orders, net revenue and first and last order dates are theirs in "
                  "that period only.",
    }[column]
