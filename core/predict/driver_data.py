"""The table a key-driver analysis runs on, built from a workspace's survey.

One row per survey response with the outcome and the candidate drivers. The outcome is
a survey column (nps, csat, a Likert item, or any column joined in, such as a loyalty
score) or ``retention``: whether the respondent bought again (a positive amount) within
``retention_days`` after answering.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from fnmatch import fnmatchcase

import polars as pl

from core.errors import AnalysisError, InputError

RETENTION = "retention"
# Survey columns that are outcomes or bookkeeping, never default drivers.
NOT_DRIVERS = ("customer_id", "response_date", "nps", "csat", "ces", "comment")


def expand_predictors(patterns: Sequence[str], columns: Sequence[str]) -> list[str]:
    """Column names for names or shell-style patterns ('sat_*'), in table order."""
    chosen: list[str] = []
    for pattern in patterns:
        hits = [c for c in columns if fnmatchcase(c, pattern)]
        if not hits:
            raise InputError(f"no survey column matches {pattern!r}", column=pattern,
                             fix=f"columns are {', '.join(columns)}")
        chosen += [c for c in hits if c not in chosen]
    return chosen


def default_predictors(schema: pl.Schema, outcome: str) -> list[str]:
    return [c for c, t in schema.items()
            if c not in NOT_DRIVERS and c != outcome and t.is_numeric()]


def driver_frame(
    survey: pl.LazyFrame,
    outcome: str,
    predictors: Sequence[str] | None = None,
    *,
    transactions: pl.LazyFrame | None = None,
    retention_days: int = 180,
    as_of: dt.date | None = None,
) -> tuple[pl.DataFrame, list[str], list[str]]:
    """(frame, predictor names, notes): responses on or before ``as_of`` with outcome and
    predictors. ``predictors`` may hold patterns; default: every numeric survey column
    that is not an outcome or bookkeeping column."""
    schema = survey.collect_schema()
    dated = "response_date" in schema
    if as_of is not None and dated:
        survey = survey.filter(pl.col("response_date") <= as_of)
    names = (expand_predictors(predictors, list(schema)) if predictors
             else default_predictors(schema, outcome))
    notes: list[str] = []
    if outcome != RETENTION:
        if outcome not in schema:
            raise InputError(
                f"the survey has no column {outcome!r}", file="survey", column=outcome,
                fix=f"use --outcome with one of {', '.join(schema)} or {RETENTION}",
            )
        frame = survey.select(outcome, *names).collect()
        return _without_empty(frame, names, notes, [outcome, *names] if predictors else [outcome], as_of)
    if transactions is None:
        raise InputError("retention as the outcome needs the transactions table",
                         fix="add transactions to the workspace")
    if not dated:
        raise InputError("retention as the outcome needs survey response dates",
                         file="survey", column="response_date",
                         fix="add a response_date column or choose another --outcome")
    last = transactions.select(pl.col("order_date").max()).collect().item()
    if as_of is not None:
        last = min(last, as_of)
    window = dt.timedelta(days=retention_days)
    responses = survey.with_row_index("_response").filter(
        pl.col("response_date") + window <= last
    )
    bought = (
        responses.select("_response", "customer_id", "response_date")
        .join(transactions.filter(pl.col("amount") > 0).select("customer_id", "order_date"),
              on="customer_id")
        .filter(pl.col("order_date") > pl.col("response_date"),
                pl.col("order_date") <= pl.col("response_date") + window)
        .select("_response").unique().with_columns(_bought=pl.lit(1))
    )
    frame = (
        responses.join(bought, on="_response", how="left")
        .sort("_response")
        .with_columns(retention=pl.col("_bought").fill_null(0).cast(pl.Int64))
        .select(RETENTION, *names)
        .collect()
    )
    if frame.is_empty():
        raise AnalysisError(
            f"no survey response is at least {retention_days} days before the end of the "
            f"data ({last}), so retention cannot be observed; use a shorter --retention-days"
        )
    notes.append(
        f"retention = bought again within {retention_days} days of answering; responses "
        f"after {last - window} are left out (their window is not over yet)."
    )
    return _without_empty(frame, names, notes, names if predictors else [], as_of)


def _without_empty(frame: pl.DataFrame, names: list[str], notes: list[str],
                   chosen: Sequence[str], as_of: dt.date | None) -> tuple[pl.DataFrame, list[str], list[str]]:
    """An export's empty column (no answer in any response) is named, not met later as "0 complete
    rows": an error when the analyst chose it (or it is the outcome), else left out with a note."""
    if frame.is_empty():
        return frame, names, notes
    empty = [c for c in frame.columns if frame[c].null_count() == frame.height]
    for column in empty:
        if column in chosen:
            where = (f"on or before {as_of} has an answer in {column}" if as_of
                     else f"has an answer in {column} (the column is empty)")
            raise InputError(f"no survey response {where}", file="survey",
                             column=column, fix=f"fill in the {column} answers, or choose another column")
    if empty:
        names = [c for c in names if c not in empty]
        when = f"on or before {as_of}" if as_of else "(the column is empty)"
        notes.append(f"left out {', '.join(empty)}: no survey response has an answer there {when}.")
    return frame.drop(empty), names, notes
