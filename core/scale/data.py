"""The per-customer table a scale is built on, taken from a workspace.

One row per customer with a transaction on or before as_of (core.features), joined
with each customer's latest survey answers on or before as_of: every numeric survey
column (nps, csat, ces, Likert items). Collected once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from core.errors import InputError, LoyalistError
from core.features import customer_features, default_as_of
from core.features import latest_answers as features_latest_answers
from core.scale.validity import later_activity

SURVEY_NOT_ITEMS = ("customer_id", "response_date")


@dataclass(frozen=True)
class ScaleData:
    table: pl.DataFrame  # customer_id, features, survey answers
    as_of: dt.date
    survey_columns: tuple[str, ...]
    feature_columns: tuple[str, ...]
    left_out: tuple[str, ...] = ()  # tables the analysis left out because they have errors
    survey_error: LoyalistError | None = None  # why the survey's file could not be read (Workspace.unreadable)

    def require_items(self, spec) -> None:
        """Stop, naming why, when a spec's items would come from a survey left out for its errors
        or its unreadable file: "not a survey column" (check_columns) would send the analyst
        looking for a typo."""
        missing = [item.column for item in spec.items if item.column not in self.table.columns]
        if missing and self.survey_error is not None:
            raise self.survey_error
        if missing and "survey" in self.left_out:
            raise InputError(
                f"the scale's item{'s' if len(missing) > 1 else ''} {', '.join(missing)} would come from the survey "
                "table, which was left out of this analysis because it has errors", file="survey", column=missing[0],
                fix="correct them (loyalist data validate), or use the survey's valid rows: --skip-invalid, or "
                    'on_invalid = "skip" under [tables.survey] in loyalist.toml')


def latest_answers(survey: pl.LazyFrame, as_of: dt.date) -> tuple[pl.LazyFrame, list[str]]:
    """Each customer's latest non-null answer per numeric survey column, up to as_of, by the
    features' rule (core.features.latest_answers: latest response_date, the lowest of a day's
    answers, never the file's row order), so a scale and the features read the same NPS."""
    schema = survey.collect_schema()
    columns = [c for c, t in schema.items() if t.is_numeric() and c not in SURVEY_NOT_ITEMS]
    if not columns:  # comments only: nothing to join
        return survey.select("customer_id").unique(), columns
    return features_latest_answers(survey, as_of, columns), columns


def schema_columns(ws) -> tuple[list[str], list[str]]:
    """Numeric survey columns and numeric feature columns, read from schemas only."""
    features = customer_features(
        ws.scan("transactions"), as_of=dt.date.max, customers=ws.scan_if("customers"),
        touchpoints=ws.scan_if("touchpoints"), channels=[],
    ).collect_schema()
    survey: list[str] = []
    if ws.has("survey"):
        survey = [c for c, t in ws.scan("survey").collect_schema().items()
                  if t.is_numeric() and c not in SURVEY_NOT_ITEMS]
    numeric = [c for c, t in features.items()
               if t.is_numeric() and c != "customer_id" and c not in survey]
    return survey, numeric


def scale_data(ws, as_of: dt.date | None = None) -> ScaleData:
    """Customer features plus latest survey answers as of `as_of` (default: last transaction)."""
    transactions = ws.scan("transactions")
    if as_of is None:
        as_of = default_as_of(transactions)
    features = customer_features(
        transactions, as_of=as_of, customers=ws.scan_if("customers"),
        touchpoints=ws.scan_if("touchpoints"),
    )
    feature_cols = [c for c, t in features.collect_schema().items()
                    if t.is_numeric() and c != "customer_id"]
    survey_cols: list[str] = []
    if ws.has("survey"):
        answers, survey_cols = latest_answers(ws.scan("survey"), as_of)
        clash = set(survey_cols) & set(features.collect_schema().names())
        features = features.drop(sorted(clash)) if clash else features
        feature_cols = [c for c in feature_cols if c not in clash]
        features = features.join(answers, on="customer_id", how="left")
    return ScaleData(features.collect(), as_of, tuple(survey_cols), tuple(feature_cols), tuple(ws.left_out),
                     ws.unreadable.get("survey"))


def outcome(ws, as_of: dt.date, days: int) -> tuple[pl.DataFrame, list[str]]:
    """customer_id, active (bought within `days` after as_of), and notes on the window."""
    transactions = ws.scan("transactions")
    last = default_as_of(transactions)
    if last <= as_of:
        raise InputError(
            f"the transactions end on {last}, so nothing is known after the as-of date {as_of}",
            fix="score as of an earlier date (--as-of, or as_of in the spec) to leave an "
                "outcome window",
        )
    notes = []
    end = as_of + dt.timedelta(days=days)
    if last < end:
        notes.append(f"The outcome window ends on {end} but the transactions end on {last}: "
                     f"only {(last - as_of).days} of the {days} days are observed.")
    return later_activity(transactions, as_of, days).collect(), notes
