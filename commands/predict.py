"""`loyalist predict clv|churn|drivers`: lifetime value, churn risk and key drivers.

Output: `--format csv` prints the main table (clv: customers, one row per customer;
churn: at_risk; drivers: drivers) and `--output FILE` writes it (.csv/.tsv/.parquet/
.ndjson) or every table (.json/.xlsx/.html/.md). For clv, `table` and `json` leave the
per-customer table out (it can hold a million rows); churn's at-risk list is as long as
--top (default 100) and is shown everywhere.

JSON keys are stable: name, title, params, headline, tables, notes.
- clv: headline r, alpha, a, b (BG/NBD), p, q, gamma (Gamma-Gamma), log_likelihood
  (BG/NBD), gamma_gamma_log_likelihood, unit, customers, repeat_customers,
  frequency_spend_correlation, horizon, discount_rate, total_clv, mean_clv,
  mean_p_alive, expected_purchases_total, and with --holdout-end holdout_length,
  holdout_actual_total, holdout_predicted_total, holdout_total_error_pct, holdout_mae,
  holdout_rmse, holdout_correlation; tables.parameters (model, parameter, estimate, se,
  ci_lower, ci_upper) and tables.holdout (calibration_frequency 0..6 and 7+, customers,
  actual_mean, predicted_mean, actual_total, predicted_total).
- churn: headline model, the three dates (train_as_of, train_label_end, test_as_of,
  test_label_end, as_of), n_train, n_test, n_scored, test_auc, test_precision,
  test_recall, test_brier, test_base_rate, auc_logistic, auc_boosting, threshold,
  top_decile_lift, customers_flagged, value_at_risk_total; tables at_risk (rank,
  customer_id, churn_probability, recency_days, frequency, monetary, clv, value_at_risk,
  risk_factor_1..3), models, gains (by decile), calibration.
- drivers: headline outcome, method, n, r2, holdout_r2, cv_r2_mean, top_driver,
  top_share, summary; tables drivers (driver, correlation, beta and interval, share of
  explained variance and interval, permutation_importance, cross-validation spread,
  rank) and stability (fold, driver, share, rank).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from commands.options import FileFormat, FileFormatOpt, AsOfOpt, ForceOpt, FormatOpt, OutputFormat, OutputOpt, WorkspaceOpt, as_date
from commands.output import check_output, emit, stderr
from core.result import Result

app = typer.Typer(no_args_is_help=True)

class Unit(str, Enum):
    day = "day"
    week = "week"


class ChurnModel(str, Enum):
    best = "best"
    logistic = "logistic"
    boosting = "boosting"


class Importance(str, Enum):
    relative_weights = "relative_weights"
    shapley = "shapley"


def _show(result: Result, fmt: OutputFormat, output: Path | None, force: bool,
          file_format: FileFormat | None = None, hidden: tuple[str, ...] = (), ws=None) -> None:
    emit(result, fmt, output, force, file_format=file_format, hide=hidden, workspace=ws)


def _workspace(workspace: Path | None, *tables: str, analysis: str):
    from core.workspace import Workspace

    ws = Workspace.open(workspace)
    ws.require(*tables, analysis=analysis)
    return ws


@app.command("clv")
def clv(
    workspace: WorkspaceOpt = None,
    calibration_end: Annotated[dt.datetime | None, typer.Option(
        "--calibration-end", "--as-of", formats=["%Y-%m-%d"],
        help="Last day of the calibration period (inclusive) (default: last transaction date)")] = None,
    holdout_end: Annotated[dt.datetime | None, typer.Option(
        "--holdout-end", formats=["%Y-%m-%d"],
        help="Compare predictions with purchases after the calibration end up to this day")] = None,
    unit: Annotated[Unit, typer.Option(help="Time unit of recency, T, alpha and the horizon")] = Unit.week,
    horizon: Annotated[float | None, typer.Option(
        min=0.001, help="CLV and expected purchases over this many units (default: one year)")] = None,
    discount_rate: Annotated[float, typer.Option(
        min=0.0, max=0.999, help="Annual discount rate, as a fraction (0.1 = 10%)")] = 0.10,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """BG/NBD + Gamma-Gamma: P(alive), expected purchases and CLV per customer."""
    from core.predict.clv import clv_analysis

    check_output(output, force)
    ws = _workspace(workspace, "transactions", analysis="CLV")
    result = clv_analysis(
        ws.scan("transactions"), calibration_end=as_date(calibration_end),
        holdout_end=as_date(holdout_end), unit=unit.value, horizon=horizon,
        discount_rate=discount_rate,
    )
    _show(result, fmt, output, force, file_format, ws=ws, hidden=("customers",))


@app.command("churn")
def churn(
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    horizon: Annotated[int, typer.Option(
        "--horizon", min=1, help="Churn = no purchase in this many days after the as-of date")] = 90,
    test_date: Annotated[dt.datetime | None, typer.Option(
        "--test-date", formats=["%Y-%m-%d"],
        help="Features date of the test set (default: --as-of minus --horizon)")] = None,
    train_date: Annotated[dt.datetime | None, typer.Option(
        "--train-date", formats=["%Y-%m-%d"],
        help="Features date of the training set (default: --test-date minus --horizon)")] = None,
    threshold: Annotated[float, typer.Option(
        min=0.001, max=0.999, help="Churn probability from which a customer is flagged")] = 0.5,
    model: Annotated[ChurnModel, typer.Option(
        help="Model for the at-risk list (default: the higher test AUC)")] = ChurnModel.best,
    top: Annotated[int, typer.Option(min=0, help="Customers in the at-risk list (0 = all)")] = 100,
    max_recency: Annotated[int | None, typer.Option(
        "--max-recency", min=0, help="Only customers who bought within this many days")] = None,
    with_clv: Annotated[bool, typer.Option(
        "--clv/--no-clv", help="Value at risk = CLV (BG/NBD + Gamma-Gamma, one year) x churn probability")] = True,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """Churn risk: models trained on an earlier date, tested on a later one, a ranked at-risk list."""
    from core.errors import AnalysisError
    from core.features import customer_features, default_as_of
    from core.predict.churn import churn_analysis
    from core.predict.clv import clv_analysis

    check_output(output, force)
    ws = _workspace(workspace, "transactions", analysis="churn risk")
    tx = ws.scan("transactions")
    customers, touchpoints, survey = (ws.scan_if(t) for t in ("customers", "touchpoints", "survey"))

    def features(d: dt.date):
        return customer_features(tx, as_of=d, customers=customers, touchpoints=touchpoints,
                                 survey=survey)

    score_date = as_date(as_of) or default_as_of(tx)
    clv_table = None
    if with_clv:
        try:
            clv_table = clv_analysis(tx, calibration_end=score_date, unit="day").main_table
        except AnalysisError as exc:
            stderr.print(f"[yellow]no CLV, so no value at risk:[/yellow] {exc}")
    result = churn_analysis(
        tx, features=features, horizon_days=horizon, as_of=score_date,
        test_as_of=as_date(test_date), train_as_of=as_date(train_date), threshold=threshold,
        clv=clv_table, top=top or None, max_recency_days=max_recency, model=model.value,
    )
    _show(result, fmt, output, force, file_format, ws=ws)


@app.command("drivers")
def drivers(
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    outcome: Annotated[str, typer.Option(
        help="Survey column to explain (nps, csat, a loyalty score...) or 'retention'")] = "nps",
    predictors: Annotated[list[str] | None, typer.Option(
        "--predictor", "-p", help="Driver column or pattern such as 'sat_*' (repeatable) "
        "(default: every numeric survey column except outcomes)")] = None,
    method: Annotated[Importance, typer.Option(
        help="Share of explained variance by relative weights or Shapley R²")] = Importance.relative_weights,
    retention_days: Annotated[int, typer.Option(
        min=1, help="With --outcome retention: bought again within this many days")] = 180,
    bootstrap: Annotated[int, typer.Option(min=20, help="Bootstrap samples for the intervals")] = 500,
    holdout: Annotated[float, typer.Option(min=0.05, max=0.5, help="Share of rows held out")] = 0.25,
    folds: Annotated[int, typer.Option(min=2, max=20, help="Cross-validation folds")] = 5,
    seed: Annotated[int, typer.Option(help="Random seed (bootstrap, holdout, folds)")] = 0,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """Key drivers: which survey measures explain an outcome, with intervals and stability."""
    from core.predict.driver_data import RETENTION, driver_frame
    from core.predict.drivers import key_drivers

    check_output(output, force)
    needs = ("survey", "transactions") if outcome == RETENTION else ("survey",)
    ws = _workspace(workspace, *needs, analysis="key-driver analysis")
    frame, names, notes = driver_frame(
        ws.scan("survey"), outcome, predictors, transactions=ws.scan_if("transactions"),
        retention_days=retention_days, as_of=as_date(as_of),
    )
    result = key_drivers(frame, outcome, names, method=method.value, n_boot=bootstrap,
                         holdout=holdout, n_folds=folds, random_state=seed)
    if notes:
        result = dataclasses.replace(result, notes=(*result.notes, *notes))
    _show(result, fmt, output, force, file_format, ws=ws)
