"""What the Reports screen lists: the eight evaluation reports of core.evaluate.REPORTS and
the predict analyses (CLV, churn, key drivers), each with its option fields and the call
into core that runs it on a workspace.

The evaluation reports' fields come from their functions' signatures; the predict
analyses need a little glue (which tables, the per-customer features for churn), the same
calls their CLI twins make. Nothing here touches a widget: `run` is called in a worker.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from core.errors import AnalysisError
from core.evaluate import REPORTS, run_report
from core.features import customer_features, default_as_of
from core.predict.churn import churn_analysis
from core.predict.clv import clv_analysis
from core.predict.driver_data import RETENTION, driver_frame
from core.predict.drivers import key_drivers
from core.result import Result
from tui.widgets.options_form import BOOL, CHOICE, DATE, INT, LIST, TEXT, Field, fields_from

AS_OF = {"help": "Last day of data the analysis knows (inclusive); empty: the last transaction"}
CONFIDENCE = {"low": 0.5, "high": 0.999, "help": "Confidence level of intervals and tests"}
DISCOUNT = {"low": 0.0, "high": 0.999, "help": "Annual discount rate of future value, as a fraction (0.1 = 10%)"}
RETENTION_DAYS = {"low": 1, "help": "A customer counts as retained with a purchase within this many days"}
SINCE = {"help": "First day to include (YYYY-MM-DD); empty: from the start"}
MAX_CONTROLS = {"low": 100, "help": "Comparison customers drawn at most (matching is quadratic)"}

OPTIONS: dict[str, dict[str, dict[str, Any]]] = {
    "channels": {
        "as_of": AS_OF, "confidence": CONFIDENCE, "discount_rate": DISCOUNT, "retention_days": RETENTION_DAYS,
        "window_days": {"low": 1, "help": "Days after a touch in which a purchase counts as its conversion"},
    },
    "attribution": {
        "as_of": AS_OF,
        "lookback_days": {"low": 1, "help": "Days before a purchase whose touchpoints are on its path"},
        "half_life_days": {"low": 0.01, "help": "Time decay: days for a touch's weight to halve"},
        "markov_order": {"low": 1, "high": 4, "help": "Markov chain order (touches remembered)"},
    },
    "experiment": {
        "as_of": AS_OF, "confidence": CONFIDENCE,
        "experiment": {"help": "Experiment to read; empty: all of them"},
        "control": {"help": "The control variant; empty: control, A, A1 or the first"},
        "split": {"title": "Planned split", "help": "Planned shares for the sample-ratio check, "
                  "e.g. control=50, treatment=50; empty: equal"},
        "window_days": {"low": 1, "help": "Days after exposure in which purchases count"},
    },
    "campaign": {
        "as_of": AS_OF, "confidence": CONFIDENCE, "max_controls": MAX_CONTROLS,
        "campaign_id": {"title": "Campaign", "help": "One campaign_id; empty: every campaign"},
    },
    "program": {
        "as_of": AS_OF, "confidence": CONFIDENCE, "discount_rate": DISCOUNT, "retention_days": RETENTION_DAYS,
        "max_controls": MAX_CONTROLS,
        "program_cost": {"low": 0, "help": "Yearly programme cost, for the ROI; empty: no ROI"},
        "post_days": {"low": 7, "help": "Days after joining in which spend is compared"},
        "pre_days": {"low": 30, "help": "Days before joining whose behaviour members are matched on"},
        "comparison": {"choices": ("future_members", "non_members"),
                       "help": "Who members are matched with"},
    },
    "nps": {
        "as_of": AS_OF, "confidence": CONFIDENCE, "since": SINCE,
        "by": {"title": "Break down by", "help": "Survey or customer columns, 'channel' or 'month', "
               "comma-separated; empty: the segment-like columns present"},
        "method": {"choices": ("wald", "adjusted-wald"), "help": "NPS interval method"},
        "min_responses": {"low": 1, "help": "Groups with fewer answers are flagged small_sample"},
    },
    "cohorts": {
        "as_of": AS_OF, "since": SINCE,
        "period": {"choices": ("month", "week"), "help": "Cohort and period length"},
        "max_periods": {"low": 1, "help": "Show at most this many periods after the first; empty: all"},
    },
    "kpi": {
        "discount_rate": DISCOUNT,
        "start": {"title": "From", "help": "First day of the period; empty: the last `days` days"},
        "end": {"title": "To (as of)", "help": "Last day of the period; empty: the last transaction"},
        "days": {"low": 1, "help": "Period length when From is empty"},
    },
}

ABOUT = {
    "channels": "Per channel customers, revenue, AOV, repeat and conversion rates, CAC and ROI; "
                "single- against multi-channel customers; channel overlap.",
    "attribution": "Conversions and value credited to channels by first/last touch, linear, "
                   "time decay, position based and Markov chain models.",
    "experiment": "A/B tests: conversion and revenue by variant with intervals, p-values "
                  "(Holm-adjusted) and a sample-ratio check.",
    "campaign": "Revenue before, during and after each campaign; incremental revenue against the "
                "holdout or matched customers; ROI.",
    "program": "Loyalty-programme members against non-members: raw and matched lift, "
               "participation, ROI with a cost.",
    "nps": "NPS with its interval, promoters, passives and detractors, CSAT and other scores, "
           "by segment, channel and month.",
    "cohorts": "Acquisition cohorts by period since first purchase: customer and revenue retention.",
    "kpi": "Brand, customer and sales KPIs for a period against the period before.",
    "clv": "BG/NBD and Gamma-Gamma models: probability alive, expected purchases and lifetime "
           "value per customer.",
    "churn": "Churn risk models trained on an earlier date and tested on a later one; a ranked "
             "list of customers at risk with their value at risk.",
    "drivers": "Key drivers: which survey measures explain an outcome (NPS, CSAT, retention), "
               "with intervals and stability.",
}

TITLES = {"channels": "Channels", "attribution": "Attribution", "experiment": "Experiments",
          "campaign": "Campaigns", "program": "Loyalty program", "nps": "NPS & CSAT",
          "cohorts": "Cohorts", "kpi": "KPI overview", "clv": "CLV", "churn": "Churn risk",
          "drivers": "Key drivers"}


@dataclass(frozen=True)
class ReportEntry:
    key: str
    title: str
    group: str  # "Reports" (core.evaluate) or "Predict" (core.predict)
    about: str
    needs: tuple[str, ...]
    uses: tuple[str, ...]
    fields: tuple[Field, ...]
    run: Callable[[Any, dict[str, Any]], Result]  # (workspace, options) -> Result

    def defaults(self) -> dict[str, Any]:
        return {f.name: f.default for f in self.fields}


def _evaluate(name: str, ws: Any, options: Mapping[str, Any]) -> Result:
    return run_report(name, ws, **options)


def run_clv(ws: Any, options: Mapping[str, Any]) -> Result:
    ws.require("transactions", analysis="CLV")
    return clv_analysis(ws.scan("transactions"), **options)


def run_churn(ws: Any, options: Mapping[str, Any]) -> Result:
    ws.require("transactions", analysis="churn risk")
    options = dict(options)
    tx = ws.scan("transactions")
    customers, touchpoints, survey = (ws.scan_if(t) for t in ("customers", "touchpoints", "survey"))

    def features(day):
        return customer_features(tx, as_of=day, customers=customers, touchpoints=touchpoints, survey=survey)

    score_date = options.pop("as_of", None) or default_as_of(tx)
    notes: list[str] = []
    clv_table = None
    if options.pop("with_clv", True):
        try:
            clv_table = clv_analysis(tx, calibration_end=score_date, unit="day").main_table
        except AnalysisError as exc:
            notes.append(f"No CLV, so no value at risk: {exc}")
    top = options.pop("top", 100)
    result = churn_analysis(tx, features=features, as_of=score_date, clv=clv_table, top=top or None, **options)
    return dataclasses.replace(result, notes=(*result.notes, *notes)) if notes else result


def run_drivers(ws: Any, options: Mapping[str, Any]) -> Result:
    options = dict(options)
    outcome = options.pop("outcome") or "nps"
    predictors = options.pop("predictors") or None
    needs = ("survey", "transactions") if outcome == RETENTION else ("survey",)
    ws.require(*needs, analysis="key-driver analysis")
    frame, names, notes = driver_frame(
        ws.scan("survey"), outcome, predictors, transactions=ws.scan_if("transactions"),
        retention_days=options.pop("retention_days"), as_of=options.pop("as_of"),
    )
    result = key_drivers(frame, outcome, names, **options)
    return dataclasses.replace(result, notes=(*result.notes, *notes)) if notes else result


def _predict_entries() -> tuple[ReportEntry, ...]:
    clv_fields = fields_from(clv_analysis, skip=("n_starts", "random_state"), overrides={
        "calibration_end": {"title": "As of", "help": "Last day of the calibration period; empty: the last "
                            "transaction"},
        "holdout_end": {"help": "Compare predictions with purchases after As of up to this day"},
        "unit": {"choices": ("week", "day"), "help": "Time unit of recency, T and the horizon"},
        "horizon": {"low": 0.001, "help": "CLV and expected purchases over this many units; empty: one year"},
        "discount_rate": DISCOUNT,
    })
    churn_fields = (*fields_from(churn_analysis, skip=("random_state",), overrides={
        "as_of": {**AS_OF, "title": "Score as of"},
        "horizon_days": {"low": 1, "title": "Horizon days", "help": "Churn = no purchase in this many days"},
        "test_as_of": {"title": "Test date", "help": "Features date of the test set; empty: As of minus horizon"},
        "train_as_of": {"title": "Train date", "help": "Features date of the training set; empty: test date "
                        "minus horizon"},
        "threshold": {"low": 0.001, "high": 0.999, "help": "Churn probability from which a customer is flagged"},
        "top": {"low": 0, "title": "At-risk list", "help": "Customers listed (0 = all)"},
        "max_recency_days": {"low": 0, "help": "Only customers who bought within this many days; empty: all"},
        "model": {"choices": ("best", "logistic", "boosting"), "help": "Model for the at-risk list "
                  "(best: the higher test AUC)"},
    }), Field("with_clv", BOOL, True, title="Value at risk",
              help="Value at risk = one-year CLV (BG/NBD + Gamma-Gamma) x churn probability"))
    drivers_fields = (
        Field("outcome", TEXT, "nps", help="Survey column to explain (nps, csat...) or 'retention'"),
        Field("predictors", LIST, None, optional=True,
              help="Driver columns or patterns such as sat_*, comma-separated; empty: every numeric "
                   "survey column except outcomes"),
        *fields_from(key_drivers, skip=("labels", "n_repeats"), overrides={
            "method": {"choices": ("relative_weights", "shapley"),
                       "help": "Share of explained variance by relative weights or Shapley R²"},
            "n_boot": {"low": 20, "title": "Bootstrap", "help": "Bootstrap samples for the intervals"},
            "holdout": {"low": 0.05, "high": 0.5, "help": "Share of rows held out"},
            "n_folds": {"low": 2, "high": 20, "title": "Folds", "help": "Cross-validation folds"},
            "confidence": CONFIDENCE,
            "random_state": {"title": "Seed", "help": "Random seed (bootstrap, holdout, folds)"},
        }),
        Field("retention_days", INT, 180, low=1, help="With outcome retention: bought again within this many days"),
        Field("as_of", DATE, None, optional=True, **AS_OF),
    )
    return (
        ReportEntry("clv", TITLES["clv"], "Predict", ABOUT["clv"], ("transactions",), (), clv_fields, run_clv),
        ReportEntry("churn", TITLES["churn"], "Predict", ABOUT["churn"], ("transactions",),
                    ("customers", "touchpoints", "survey"), churn_fields, run_churn),
        ReportEntry("drivers", TITLES["drivers"], "Predict", ABOUT["drivers"], ("survey",), ("transactions",),
                    drivers_fields, run_drivers),
    )


def _report_entries() -> tuple[ReportEntry, ...]:
    return tuple(
        ReportEntry(name, TITLES.get(name, name.title()), "Reports", ABOUT.get(name, ""), report.needs,
                    report.uses, fields_from(report.run, overrides=OPTIONS.get(name)), partial(_evaluate, name))
        for name, report in REPORTS.items()
    )


ENTRIES: tuple[ReportEntry, ...] = (*_report_entries(), *_predict_entries())
BY_KEY: dict[str, ReportEntry] = {e.key: e for e in ENTRIES}

__all__ = ["BY_KEY", "CHOICE", "ENTRIES", "ReportEntry"]
