"""The predict analyses run on a workspace: what `loyalist predict ...`, recipes and the
app's registry run (core/registry/catalog/predict.py declares their options); the
tables were checked before the call.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.errors import AnalysisError
from core.result import Result

if TYPE_CHECKING:
    from core.engines import Reducer

FEATURE_TABLES = ("customers", "touchpoints", "survey")


def clv(ws, *, calibration_end: dt.date | None = None, holdout_end: dt.date | None = None, unit: str = "week",
        horizon: float | None = None, discount_rate: float = 0.10, discount_period: str = "year",
        engine: Reducer | None = None) -> Result:
    from core.predict.clv import clv_analysis

    return clv_analysis(ws.scan("transactions"), calibration_end=calibration_end, holdout_end=holdout_end,
                        unit=unit, horizon=horizon, discount_rate=discount_rate,
                        discount_period=discount_period, engine=engine)


def churn(ws, *, as_of: dt.date | None = None, horizon_days: int = 90, test_as_of: dt.date | None = None,
          train_as_of: dt.date | None = None, threshold: float = 0.5, model: str = "best", top: int = 100,
          max_recency_days: int | None = None, with_clv: bool = True, engine: Reducer | None = None) -> Result:
    """Churn models on per-customer features (the customers, touchpoints and survey tables add theirs); value
    at risk from a one-year CLV when it can be fitted. With an `engine` (core.engines) every reduction of the
    transactions runs there."""
    from core.features import default_as_of
    from core.order_layout import orders_adjacent
    from core.predict.churn import churn_analysis
    from core.validate import every_customer_known

    tx = ws.scan("transactions")
    customers, touchpoints, survey = (ws.scan_if(t) for t in FEATURE_TABLES)

    score_date = as_of or default_as_of(tx, engine=engine)
    notes: list[str] = []

    def clv_table(day: dt.date, per_customer):
        # only each customer's clv: clv_analysis's numbers without its diagnostics and tables, from
        # the features' own read of the transactions when churn_analysis made one (per_customer)
        from core.predict.clv import customer_clv

        try:
            return customer_clv(tx, calibration_end=day, unit="day", engine=engine, per_customer=per_customer)
        except AnalysisError as exc:
            notes.append(f"No CLV, so no value at risk: {exc}")
            return None

    result = churn_analysis(tx, customers=customers, touchpoints=touchpoints, survey=survey,
                            horizon_days=horizon_days, as_of=score_date,
                            test_as_of=test_as_of, train_as_of=train_as_of, threshold=threshold,
                            clv=clv_table if with_clv else None, preload=("core.predict.clv",) if with_clv else (),
                            top=top or None, max_recency_days=max_recency_days, model=model, engine=engine,
                            orders_adjacent=orders_adjacent(ws, engine),
                            every_customer_known=engine is None and every_customer_known(ws))
    return dataclasses.replace(result, notes=(*result.notes, *notes)) if notes else result


def drivers(ws, *, outcome: str = "nps", predictors: Sequence[str] | None = None,
            method: str = "relative_weights", retention_days: int = 180, n_boot: int = 500,
            holdout: float = 0.25, n_folds: int = 5, confidence: float = 0.95, random_state: int = 0,
            as_of: dt.date | None = None) -> Result:
    from core.predict.driver_data import driver_frame
    from core.predict.drivers import key_drivers

    frame, names, notes = driver_frame(ws.scan("survey"), outcome, list(predictors) if predictors else None,
                                       transactions=ws.scan_if("transactions"), retention_days=retention_days,
                                       as_of=as_of)
    result = key_drivers(frame, outcome, names, method=method, n_boot=n_boot, holdout=holdout, n_folds=n_folds,
                         confidence=confidence, random_state=random_state)
    if outcome == "nps" and "comment" in ws.scan("survey").collect_schema().names():
        notes.append("What detractors and promoters write about: `loyalist report comment-drivers` (odds ratios of "
                     "comment themes).")
    return dataclasses.replace(result, notes=(*result.notes, *notes)) if notes else result
