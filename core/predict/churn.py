"""Churn risk: will a customer make no purchase in the next N days?

Three dates, each N days apart by default, keep the future out of the past:

    train_as_of ----N----> test_as_of ----N----> as_of
    features      labels   features     labels   features (scored, no labels yet)

- the model is trained on features as of ``train_as_of`` and labels from
  (train_as_of, train_as_of + N], which must end on or before ``test_as_of``;
- it is tested on features as of ``test_as_of`` and labels from (test_as_of, test_as_of + N],
  so every test outcome happens strictly after everything the model was trained on;
- the at-risk list scores customers as of ``as_of`` (the last day of data by default).

A feature snapshot as of a date is produced by ``features(date)`` (default:
core.features.customer_features), which sees only data dated on or before that date.
Two models: logistic regression (baseline) and gradient boosting. With ``model="best"``
the one with the higher AUC on validation customers is chosen: when the models are fitted
on a sample of the training customers (MAX_TRAIN_ROWS), both are fitted on it and judged on
training customers left out of the sample, and the chosen fit is the model; otherwise on a
stratified quarter held out of fitting, and the chosen one is refitted on all of them. Only
the chosen model meets the test set, so its test AUC is not flattered by the choice. The
test-window predictions are a table of their own, so anyone can recompute the metrics. Each listed customer's strongest risk factors
are the features whose change to a typical (training median) value would lower their
churn probability most.
"""

from __future__ import annotations

import datetime as dt
import importlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from core.errors import AnalysisError, InputError
from core.result import Chart, Result

if TYPE_CHECKING:
    from core.engines import Reducer

Features = Callable[[dt.date], "pl.LazyFrame | pl.DataFrame"]
MODELS = ("logistic", "boosting")
MIN_CLASS = 10  # churners and stayers needed in each of train and test
MAX_TRAIN_ROWS = 100_000  # training customers the models are fitted on (a stratified sample above it)
NOT_FEATURES = ("customer_id",)
TOP_FACTORS = 3
MIN_EFFECT = 0.005  # a factor must move the probability by half a point to be named
VALIDATION_SHARE = 0.25  # of training customers held out to choose the model
# validation customers drawn from those left out of the training sample: a quarter of the
# sample's size, as many as a quarter held out of MAX_TRAIN_ROWS would be
VALIDATION_ROWS = round(VALIDATION_SHARE * MAX_TRAIN_ROWS)
# What the model work imports (make_model, training_sample, auc): with the CLV's models, about
# 1.5 s of one thread holding the GIL, which import_beside moves beside the feature read
MODEL_MODULES = ("scipy.stats", "sklearn.ensemble", "sklearn.impute", "sklearn.linear_model",
                 "sklearn.model_selection", "sklearn.pipeline", "sklearn.preprocessing")


def import_beside(modules: Sequence[str]) -> threading.Thread:
    """Import `modules` on a thread started now, so they load while the caller's Polars collects
    run (they release the GIL) instead of after them. Nothing else is needed before first use:
    an `import` of a module the thread is importing waits for it (Python's per-module import
    locks), and one that failed there is simply imported again, raising its own error. Not a
    daemon: the interpreter never exits in the middle of an import."""
    def load() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except ImportError:  # the caller's own import says so, where it is needed
                return

    thread = threading.Thread(target=load, name="churn-imports")
    thread.start()
    return thread


@dataclass(frozen=True)
class ChurnDates:
    train_as_of: dt.date
    test_as_of: dt.date
    as_of: dt.date
    horizon_days: int

    @property
    def train_label_end(self) -> dt.date:
        return self.train_as_of + dt.timedelta(days=self.horizon_days)

    @property
    def test_label_end(self) -> dt.date:
        return self.test_as_of + dt.timedelta(days=self.horizon_days)

    def check(self, last_date: dt.date) -> None:
        if self.horizon_days < 1:
            raise InputError("the churn horizon must be at least one day", fix="e.g. --horizon 90")
        if self.train_label_end > self.test_as_of:
            raise InputError(
                f"training labels run to {self.train_label_end}, after the test date "
                f"{self.test_as_of}: the test would overlap the training data",
                fix=f"choose a training date at least {self.horizon_days} days before "
                    "the test date",
            )
        if self.test_label_end > last_date:
            raise InputError(
                f"test labels need purchases up to {self.test_label_end}, but the data end on "
                f"{last_date}", fix="choose an earlier test date or a shorter horizon",
            )
        if self.as_of < self.test_as_of:
            raise InputError("the scoring date is before the test date",
                             fix="score on the latest date (the default)")


def churn_dates(
    last_date: dt.date,
    horizon_days: int,
    *,
    as_of: dt.date | None = None,
    test_as_of: dt.date | None = None,
    train_as_of: dt.date | None = None,
) -> ChurnDates:
    """Fill in the defaults: as_of = the last day of data, each earlier date N days back."""
    step = dt.timedelta(days=horizon_days)
    as_of = as_of or last_date
    test_as_of = test_as_of or min(as_of, last_date) - step
    train_as_of = train_as_of or test_as_of - step
    dates = ChurnDates(train_as_of, test_as_of, as_of, horizon_days)
    dates.check(last_date)
    return dates


def churn_labels(
    transactions: pl.LazyFrame, as_of: dt.date, horizon_days: int
) -> pl.LazyFrame:
    """customer_id of everyone with a purchase (positive amount) in (as_of, as_of + N]."""
    end = as_of + dt.timedelta(days=horizon_days)
    return (
        transactions.filter(
            pl.col("order_date") > as_of, pl.col("order_date") <= end, pl.col("amount") > 0
        )
        .select("customer_id")
        .unique()
        .with_columns(_bought=pl.lit(True))
    )


def snapshot(
    transactions: pl.LazyFrame,
    features: Features,
    as_of: dt.date,
    horizon_days: int | None,
    max_recency_days: int | None = None,
    labels: Callable[[dt.date, int], pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """Features of customers with a purchase on or before ``as_of``, plus ``churned``
    (1 = no purchase in the next ``horizon_days``) unless the horizon is None; ``labels``
    makes churn_labels' table elsewhere (core.engines' buyers)."""
    bought = None
    if horizon_days is not None:
        bought = (labels(as_of, horizon_days).lazy() if labels is not None
                  else churn_labels(transactions, as_of, horizon_days))
    return _labelled(features(as_of), bought, max_recency_days)


def _labelled(frame: pl.LazyFrame | pl.DataFrame, bought: pl.LazyFrame | None,
              max_recency_days: int | None, *, sorted_by_id: bool = False) -> pl.DataFrame:
    """A feature snapshot kept to buyers (and recent ones), with `churned` when the
    buyers of the next window (customer_id, _bought) are given. `sorted_by_id`: the frame
    already comes sorted by customer_id (customer_features_at), so its row order is kept
    instead of sorting the text ids again."""
    frame = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    schema = frame.collect_schema()
    if "frequency" in schema:  # only customers who have bought (not only returned)
        frame = frame.filter(pl.col("frequency") > 0)
    if max_recency_days is not None and "recency_days" in schema:
        frame = frame.filter(pl.col("recency_days") <= max_recency_days)
    if bought is not None:
        frame = frame.join(bought, on="customer_id", how="left", maintain_order="left").with_columns(
            churned=pl.col("_bought").is_null().cast(pl.Int8)).drop("_bought")
    # sorted, so models that sample rows (early-stopping splits) are reproducible; the filters
    # and the join keep the order of a frame already sorted
    return (frame if sorted_by_id else frame.sort("customer_id")).collect()


def one_pass_snapshots(
    transactions: pl.LazyFrame, dates: ChurnDates, max_recency_days: int | None = None, *,
    with_summary: bool = False, after_group_by: Callable[[], object] | None = None, orders_adjacent: bool = False,
    known_ids: pl.LazyFrame | None = None, **tables,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame | None]:
    """The training, test and scoring snapshots of customer_features (with `tables`:
    customers, touchpoints, survey) and both label windows from one read of the
    transactions (core.features.customer_features_at); each equals snapshot() with
    customer_features at its date. `with_summary` adds, from the same read, the BTYD
    per-customer reductions as of the scoring date (btyd_summary's per_customer), else None;
    `after_group_by`, `orders_adjacent` and `known_ids` are customer_features_at's."""
    from core.features import customer_features_at

    train_window = (dates.train_as_of, dates.train_label_end)
    test_window = (dates.test_as_of, dates.test_label_end)
    read = customer_features_at(transactions, [dates.train_as_of, dates.test_as_of, dates.as_of],
                                purchase_windows=[train_window, test_window],
                                summary_at=dates.as_of if with_summary else None,
                                after_group_by=after_group_by, orders_adjacent=orders_adjacent,
                                known_ids=known_ids, **tables)

    def buyers(window):
        return read.purchased[window].lazy().filter("bought").select("customer_id", _bought=pl.lit(True))

    return (_labelled(read.features[dates.train_as_of], buyers(train_window), max_recency_days, sorted_by_id=True),
            _labelled(read.features[dates.test_as_of], buyers(test_window), max_recency_days, sorted_by_id=True),
            _labelled(read.features[dates.as_of], None, max_recency_days, sorted_by_id=True),
            read.purchase_summary)


def feature_columns(frame: pl.DataFrame) -> list[str]:
    return [
        c for c, t in frame.schema.items()
        if c not in NOT_FEATURES and c != "churned" and (t.is_numeric() or t == pl.Boolean)
    ]


def _matrix(frame: pl.DataFrame, columns: list[str]) -> np.ndarray:
    present = [pl.col(c).cast(pl.Float64) if c in frame.columns
               else pl.lit(None, dtype=pl.Float64).alias(c) for c in columns]
    return frame.select(present).to_numpy().astype(float, copy=False)  # already float64: no second copy


def make_model(kind: str, random_state: int = 0):
    # scikit-learn is imported here: its submodules load rich, which core must not pull
    # in at import time (tests/test_layers.py)
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "logistic":
        return make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(max_iter=2000),
        )
    if kind == "boosting":
        # early stopping on a 10% validation split keeps small data fast and unfitted
        return HistGradientBoostingClassifier(
            max_iter=200, learning_rate=0.1, early_stopping=True, validation_fraction=0.1,
            n_iter_no_change=10, random_state=random_state,
        )
    raise InputError(f"unknown churn model {kind!r}", fix=f"use one of {', '.join(MODELS)}")


def auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve: the chance a churner outranks a stayer (ties count half)."""
    # imported here, so importing this module does not load scipy (import_beside)
    from scipy.stats import rankdata

    positives = y == 1
    n1, n0 = int(positives.sum()), int((~positives).sum())
    ranks = rankdata(p)
    return float((ranks[positives].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def classification_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    flagged = p >= threshold
    tp = float((flagged & (y == 1)).sum())
    return {
        "auc": auc(y, p),
        "precision": tp / flagged.sum() if flagged.any() else float("nan"),
        "recall": tp / (y == 1).sum(),
        "flagged_share": float(flagged.mean()),
        "brier": float(np.mean((p - y) ** 2)),
        "base_rate": float(y.mean()),
    }


def gains_table(y: np.ndarray, p: np.ndarray, groups: int = 10) -> pl.DataFrame:
    """Customers sorted by risk and cut into equal groups: decile 1 is the riskiest."""
    order = np.argsort(-p, kind="stable")
    decile = np.empty(len(p), dtype=np.int64)
    decile[order] = np.arange(len(p)) * groups // len(p) + 1
    base = y.mean()
    return (
        group_means(decile, y, p, "decile")
        .select("decile", "customers", pl.col("churn_total").round().cast(pl.Int64).alias("churners"),
                pl.col("p_mean").alias("mean_probability"))
        .with_columns(churn_rate=pl.col("churners") / pl.col("customers"))
        .with_columns(
            lift=pl.col("churn_rate") / base,
            cumulative_gain=pl.col("churners").cum_sum() / y.sum(),
            cumulative_lift=(pl.col("churners").cum_sum() / pl.col("customers").cum_sum()) / base,
        )
    )


def calibration_table(y: np.ndarray, p: np.ndarray, groups: int = 10) -> pl.DataFrame:
    """Mean predicted probability against the observed churn rate, by predicted decile."""
    edges = np.unique(np.quantile(p, np.linspace(0, 1, groups + 1)))
    bin_ = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(len(edges) - 2, 0)) + 1
    return group_means(bin_, y, p, "bin").select(
        "bin", "customers", pl.col("p_mean").alias("mean_predicted"),
        (pl.col("churn_total") / pl.col("customers")).alias("observed_rate"))


def group_means(group: np.ndarray, y: np.ndarray, p: np.ndarray, name: str) -> pl.DataFrame:
    """Per group (1..G, sorted): customers, churners' total and mean probability.

    numpy's bincount adds in row order every run; a Polars group_by adds floats in the
    order its threads meet them, which moves the last digits from run to run."""
    labels, index = np.unique(group, return_inverse=True)
    counts = np.bincount(index)
    return pl.DataFrame({
        name: labels.astype(np.int64), "customers": counts.astype(np.int64),
        "churn_total": np.bincount(index, weights=y.astype(float)),
        "p_mean": np.bincount(index, weights=p) / counts,
    }).with_columns(pl.col("customers").cast(pl.UInt32))


def risk_factors(model, x: np.ndarray, typical: np.ndarray, names: list[str], top: int):
    """Per row, the features whose move to the typical value lowers risk most.

    Returns (indices, effects): the top features' column indices and the drop in churn
    probability each would bring, (rows, top) arrays; effect <= MIN_EFFECT means none.
    """
    base = model.predict_proba(x)[:, 1]
    effects = np.empty_like(x)
    for j in range(x.shape[1]):  # one batch prediction per feature, over all rows
        moved = x.copy()
        moved[:, j] = typical[j]
        effects[:, j] = base - model.predict_proba(moved)[:, 1]
    idx = np.argsort(-effects, axis=1, kind="stable")[:, :top]
    return idx, np.take_along_axis(effects, idx, axis=1)


def _format_factor(name: str, value: float, effect: float) -> str | None:
    if not effect > MIN_EFFECT:
        return None
    shown = "missing" if np.isnan(value) else f"{value:.3g}"
    return f"{name} = {shown} (+{100 * effect:.0f} pts)"


def _check_classes(y: np.ndarray, what: str, date: dt.date) -> None:
    churners, stayers = int(y.sum()), int(len(y) - y.sum())
    if min(churners, stayers) < MIN_CLASS:
        raise AnalysisError(
            f"the {what} snapshot as of {date} has {churners} churners and {stayers} "
            f"customers who bought again; each needs at least {MIN_CLASS} (more data, another "
            "date or another horizon)"
        )


def _choose(x_train, y_train, model, random_state, validation=None) -> tuple[pl.DataFrame, str, object]:
    """The models table (model, validation_auc, chosen), the model to use, and its fit on all of
    x_train when the choice made it (else None).

    With "best", each model is judged by its AUC on validation customers the test set plays no
    part in: `validation` (x, y), training customers left out of x_train, when given, with
    each model fitted on all of x_train (so the chosen fit is the model); otherwise a held-out
    quarter of x_train (stratified, seeded), with each model fitted on the other three. A
    model named by the caller is used without a validation fit.
    """
    if model != "best":
        return pl.DataFrame({"model": [model], "validation_auc": [None], "chosen": [True]},
                            schema={"model": pl.String, "validation_auc": pl.Float64,
                                    "chosen": pl.Boolean}), model, None
    if validation is not None:
        x_fit, y_fit, (x_valid, y_valid) = x_train, y_train, validation
    else:
        from sklearn.model_selection import train_test_split

        fit, held_out = train_test_split(np.arange(len(y_train)), test_size=VALIDATION_SHARE,
                                         stratify=y_train, random_state=random_state)
        x_fit, y_fit, x_valid, y_valid = x_train[fit], y_train[fit], x_train[held_out], y_train[held_out]
    fitted = [make_model(kind, random_state).fit(x_fit, y_fit) for kind in MODELS]
    scores = [auc(y_valid, estimator.predict_proba(x_valid)[:, 1]) for estimator in fitted]
    best = int(np.argmax(scores))
    chosen = MODELS[best]
    return (pl.DataFrame({"model": list(MODELS), "validation_auc": scores,
                          "chosen": [kind == chosen for kind in MODELS]}), chosen,
            fitted[best] if validation is not None else None)


def fit_model(x: np.ndarray, y: np.ndarray, model: str, random_state: int = 0, validation=None):
    """(models table, chosen kind, the chosen model fitted on all of x): _choose, then the refit
    when the choice fitted on part of x only."""
    models, chosen, estimator = _choose(x, y, model, random_state, validation)
    return models, chosen, estimator if estimator is not None else make_model(chosen, random_state).fit(x, y)


def validation_rows(y: np.ndarray, fit_rows: np.ndarray, random_state: int = 0) -> np.ndarray | None:
    """Sorted row indices of VALIDATION_ROWS training customers left out of `fit_rows` (drawn within
    churners and stayers, seeded), on which the models fitted on `fit_rows` are judged; None when
    fewer are left out, or the draw holds fewer than MIN_CLASS of either (the choice then holds a
    quarter of `fit_rows` out). The final model is then the chosen fit itself, with no refit: at
    10m this took the choice from 3.2 s to 2.3 s of one thread, on the command's critical path."""
    rest = np.setdiff1d(np.arange(len(y)), fit_rows, assume_unique=True)
    if len(rest) < VALIDATION_ROWS:
        return None
    rows = np.sort(rest[training_sample(y[rest], VALIDATION_ROWS, random_state)])
    churners = int(y[rows].sum())
    return rows if min(churners, len(rows) - churners) >= MIN_CLASS else None


def validation_set(x: np.ndarray, y: np.ndarray, fit_rows: np.ndarray, random_state: int = 0):
    """(x, y) of validation_rows, the customers the models fitted on `fit_rows` are judged on
    (fit_model's `validation`); None when there are none."""
    rows = validation_rows(y, fit_rows, random_state)
    return None if rows is None else (x[rows], y[rows])


def training_sample(y: np.ndarray, size: int, random_state: int = 0) -> np.ndarray:
    """Sorted row indices of a random `size` of the training customers, drawn within churners
    and stayers (stratified, seeded) so the sample keeps the churn rate; all rows when
    there are no more. The learning curve flattens by about MAX_TRAIN_ROWS (`python -m
    bench.churn --learning-curve`), so fitting on more costs time without raising the test
    AUC beyond the spread between samples."""
    if len(y) <= size:
        return np.arange(len(y))
    from sklearn.model_selection import train_test_split

    rows, _ = train_test_split(np.arange(len(y)), train_size=size, stratify=y, random_state=random_state)
    return np.sort(rows)


def tested(estimator, x_test: np.ndarray, y_test: np.ndarray, threshold: float) -> tuple[np.ndarray, dict]:
    """The chosen model's churn probabilities for the test customers, and its metrics on them."""
    p_test = estimator.predict_proba(x_test)[:, 1]
    return p_test, classification_metrics(y_test, p_test, threshold)


def _at_risk_list(scored, x_scored, estimator, names, typical, clv, top):
    """Ranked list (by value at risk with a CLV, else by probability) with risk factors."""
    p_scored = estimator.predict_proba(x_scored)[:, 1]
    keep = [c for c in ("recency_days", "frequency", "monetary") if c in scored.columns]
    # _row ties each row to x_scored, whatever order joins and sorts leave the rows in
    table = scored.select("customer_id", *keep).insert_column(
        1, pl.Series("churn_probability", p_scored)
    ).with_row_index("_row")
    rank_by, notes = "churn_probability", []
    if clv is not None:
        table = table.join(clv.select("customer_id", "clv"), on="customer_id", how="left")
        table = table.with_columns(value_at_risk=pl.col("clv") * pl.col("churn_probability"))
        rank_by = "value_at_risk"
        if missing := table["clv"].null_count():
            notes.append(f"{missing} scored customers have no CLV; their value at risk is empty.")
    else:
        notes.append("No CLV given: the at-risk list is ranked by churn probability alone.")
    table = table.sort(rank_by, "churn_probability", "customer_id",
                       descending=[True, True, False], nulls_last=True)
    total = float(table["value_at_risk"].sum()) if clv is not None else None
    if top is not None:
        table = table.head(top)
    listed = table["_row"].to_numpy()
    idx, effects = risk_factors(estimator, x_scored[listed], typical, names, TOP_FACTORS)
    factors = {
        f"risk_factor_{k + 1}": pl.Series([
            _format_factor(names[j], x_scored[r, j], e)
            for r, j, e in zip(listed, idx[:, k], effects[:, k])
        ], dtype=pl.String)
        for k in range(TOP_FACTORS)
    }
    table = table.drop("_row").with_columns(**factors).with_row_index("rank", offset=1)
    return table, p_scored, total, notes


def _on_one_thread(function, *args):
    """function(*args) with OpenMP on one thread in the calling thread too: OpenMP's thread count
    is set per thread, so the caller's threadpool_limits does not reach a worker thread's."""
    with threadpool_limits(limits=1, user_api="openmp"):
        return function(*args)


def _raise_first(job: Future | None) -> None:
    """Raise the job's own error, if it had one (waits for it)."""
    if job is not None and (error := job.exception()) is not None:
        raise error


def _model_inputs(train, test, dates, random_state):
    """Feature names, the training sample's matrix and labels (the rows the models are fitted on),
    the validation customers' (x, y) left out of that sample (validation_rows; None when all are
    fitted on or too few are left), all training and test labels, the typical (training median)
    values and notes on left-out features and the training sample. Only the sample's and the
    validation's rows of the training matrix are kept, and the test and scoring
    matrices are built after the fit (_matrix(frame, names)): at 10m each is about 120 MB,
    which held beside the fit and the CLV's set the command's peak."""
    names = feature_columns(train)
    if not names:
        raise AnalysisError("the feature snapshot has no numeric feature columns")
    y_train = train["churned"].to_numpy().astype(int)
    y_test = test["churned"].to_numpy().astype(int)
    _check_classes(y_train, "training", dates.train_as_of)
    _check_classes(y_test, "test", dates.test_as_of)
    x_train = _matrix(train, names)

    notes = []
    # A feature with no value at all in training (e.g. NPS before the first survey) teaches
    # nothing, and gradient boosting cannot bin it: left out, and said so.
    empty = np.isnan(x_train).all(axis=0)
    if empty.any():
        notes.append(f"Left out features with no value in the training snapshot as of "
                     f"{dates.train_as_of}: {', '.join(n for n, e in zip(names, empty) if e)}.")
        names = [n for n, e in zip(names, empty) if not e]
        x_train = x_train[:, ~empty]
    fit_rows = training_sample(y_train, MAX_TRAIN_ROWS, random_state)
    if len(fit_rows) < len(y_train):
        notes.append(f"Models were fitted on a random {len(fit_rows):,} of the {len(y_train):,} training "
                     "customers, drawn within churners and stayers so the churn rate stays the same (on "
                     "the 10m bench data all 655k raised the test AUC by 0.002, within the spread between "
                     "samples).")
    typical = np.nanmedian(x_train, axis=0)
    typical = np.where(np.isnan(typical), 0.0, typical)
    validation = validation_set(x_train, y_train, fit_rows, random_state)
    return names, x_train[fit_rows], y_train[fit_rows], validation, y_train, y_test, typical, notes


def churn_analysis(
    transactions: pl.LazyFrame,
    *,
    features: Features | None = None,
    horizon_days: int = 90,
    as_of: dt.date | None = None,
    test_as_of: dt.date | None = None,
    train_as_of: dt.date | None = None,
    threshold: float = 0.5,
    clv: pl.DataFrame | Callable[[dt.date, pl.DataFrame | None], pl.DataFrame | None] | None = None,
    top: int | None = 100,
    max_recency_days: int | None = None,
    model: str = "best",
    random_state: int = 0,
    engine: Reducer | None = None,
    customers: pl.LazyFrame | None = None,
    touchpoints: pl.LazyFrame | None = None,
    survey: pl.LazyFrame | None = None,
    preload: Sequence[str] = (),
    orders_adjacent: bool = False,
    every_customer_known: bool = False,
) -> Result:
    """Train, test and score churn models; see the module docstring for the dates.

    ``features(date)`` returns one row per customer as of the date (default
    core.features.customer_features, with the `customers`, `touchpoints` and `survey`
    tables given); ``clv`` (customer_id, clv) adds value at risk; a callable ``clv(as_of,
    per_customer)`` is called after the feature read with the BTYD per-customer reductions
    as of the scoring date from that same read (None when the snapshots were not made in
    one pass) and returns the table or None. With an `engine`
    (core.engines) the last date and the labels are reduced there too. MODEL_MODULES and
    `preload` (what `clv` imports) are imported beside the feature read (import_beside): in one
    pass, once its big group_by has run, so they do not add to that peak. `orders_adjacent`: the
    data checks found the transactions laid out order by order (core.order_layout), so the one
    read need not prove it. `every_customer_known`: they found every customer id of the
    transactions in `customers` (core.validate.every_customer_known), so the one read takes the
    distinct ids from there.
    """
    tables = {"customers": customers, "touchpoints": touchpoints, "survey": survey}
    if not 0 < threshold < 1:
        raise InputError(f"the threshold must be between 0 and 1, got {threshold}",
                         fix="e.g. --threshold 0.5")
    if model not in (*MODELS, "best"):
        raise InputError(f"unknown churn model {model!r}", fix="use logistic, boosting or best")
    # On Polars with the default features, the three snapshots and both label windows
    # come from one read of the transactions; a features callable is called per date.
    one_pass = features is None and engine is None
    if features is None:
        from core.features import customer_features

        def features(d: dt.date) -> pl.LazyFrame:
            return customer_features(transactions, as_of=d, engine=engine, **tables)

    last = (engine.last_date(dt.date.max)[0] if engine is not None
            else transactions.select(pl.col("order_date").max()).collect().item())
    if last is None:
        raise AnalysisError("the transactions hold no dated rows")
    dates = churn_dates(last, horizon_days, as_of=as_of, test_as_of=test_as_of,
                        train_as_of=train_as_of)
    labels = engine.buyers if engine is not None else None
    summary = None
    modules = (*MODEL_MODULES, *preload)
    if one_pass:
        train, test, scored, summary = one_pass_snapshots(transactions, dates, max_recency_days,
                                                          with_summary=callable(clv), **tables,
                                                          orders_adjacent=orders_adjacent,
                                                          known_ids=customers if every_customer_known else None,
                                                          after_group_by=lambda: import_beside(modules))
    else:
        import_beside(modules)
        train = snapshot(transactions, features, dates.train_as_of, horizon_days, max_recency_days, labels)
        test = snapshot(transactions, features, dates.test_as_of, horizon_days, max_recency_days, labels)
        scored = snapshot(transactions, features, dates.as_of, None, max_recency_days)
    # load scikit-learn's OpenMP runtime first: threadpool_limits caps only loaded ones
    import sklearn.ensemble  # noqa: F401

    # Model work runs on one thread: gradient boosting's OpenMP threads spin while they wait,
    # so at 75k customers two threads cost 2.5x the CPU of one and, on a machine with other
    # work (Polars's own threads included), more wall time too. The fitted model is the same.
    # (Predictions too: on a busy machine two threads took twice the CPU and more wall time.)
    # The second core works beside it instead: the CLV fits for value at risk (scipy) while the
    # models are chosen and refitted, then the test predictions while the customers are scored;
    # sklearn's Cython and scipy's ufuncs release the GIL, and each job gets the same inputs and
    # seeds as one after the other, so the figures are the same.
    with threadpool_limits(limits=1), ThreadPoolExecutor(max_workers=1, thread_name_prefix="churn") as beside:
        clv_job = beside.submit(clv, dates.as_of, summary) if callable(clv) else None
        try:
            names, x_fit, y_fit, validation, y_train, y_test, typical, notes = _model_inputs(
                train, test, dates, random_state)
            models, chosen, estimator = fit_model(x_fit, y_fit, model, random_state, validation)
        except Exception:
            _raise_first(clv_job)  # as before, when the CLV was made first, its error comes first
            raise
        validated_on = None if validation is None else len(validation[1])
        del x_fit, validation
        test_job = beside.submit(_on_one_thread, tested, estimator, _matrix(test, names), y_test, threshold)
        x_scored = _matrix(scored, names)
        if clv_job is not None:
            clv = clv_job.result()
        at_risk, p_scored, value_at_risk, list_notes = _at_risk_list(
            scored, x_scored, estimator, names, typical, clv, top
        )
        p_test, metrics = test_job.result()
    gains = gains_table(y_test, p_test)
    headline = {
        "model": chosen,
        "horizon_days": horizon_days,
        "train_as_of": dates.train_as_of,
        "train_label_end": dates.train_label_end,
        "test_as_of": dates.test_as_of,
        "test_label_end": dates.test_label_end,
        "as_of": dates.as_of,
        "n_train": len(y_train),
        "n_test": len(y_test),
        "n_scored": len(p_scored),
        "train_churn_rate": float(y_train.mean()),
        **{f"test_{k}": v for k, v in metrics.items()},
        **{f"validation_auc_{kind}": v for kind, v in zip(models["model"], models["validation_auc"])
           if v is not None},
        "threshold": threshold,
        "top_decile_lift": float(gains["lift"][0]),
        "customers_flagged": int((p_scored >= threshold).sum()),
    }
    if value_at_risk is not None:
        headline["value_at_risk_total"] = value_at_risk
    notes = [
        f"Trained on features as of {dates.train_as_of} with purchases up to "
        f"{dates.train_label_end}; tested on features as of {dates.test_as_of} against "
        f"purchases from {dates.test_as_of + dt.timedelta(days=1)} to {dates.test_label_end}, "
        "all strictly after the training data.",
        f"Churn = no purchase in the {horizon_days} days after the as-of date. The {chosen} "
        f"model (test AUC {metrics['auc']:.3f}) scores customers as of {dates.as_of}.",
        (f"The {chosen} model was chosen by its AUC on "
         + ("a quarter of the training customers held out of its fit, then refitted with that quarter back in (AUC "
            if validated_on is None else
            f"{validated_on:,} training customers left out of the models' fit (AUC ")
         + ", ".join(f"{k} {v:.3f}" for k, v in zip(models["model"], models["validation_auc"]))
         + "); only it was tested, so the test figures are not flattered by the choice."
         if model == "best" else f"The {chosen} model was named (--model); no choice was made."),
        f"At the threshold {threshold:g} it flags {metrics['flagged_share']:.0%} of test "
        f"customers with precision {metrics['precision']:.0%} and recall "
        f"{metrics['recall']:.0%}; the riskiest tenth churned at {gains['lift'][0]:.1f}x the "
        "average rate.",
        "Risk factors: the features whose move to a typical value (the training median) "
        "would cut the customer's churn probability most, in percentage points.",
        *notes,
        *list_notes,
    ]
    return Result(
        name="predict.churn",
        title=f"Churn risk: no purchase in the next {horizon_days} days",
        tables={"at_risk": at_risk, "models": models, "gains": gains,
                "calibration": calibration_table(y_test, p_test),
                "risk_distribution": risk_distribution(p_scored),
                "test_predictions": pl.DataFrame({
                    "customer_id": test["customer_id"], "churn_probability": p_test,
                    "churned": y_test.astype(np.int8)})},
        headline=headline,
        charts=(
            Chart("line", "Cumulative gains", "gains", "decile", "cumulative_gain"),
            Chart("line", "Calibration", "calibration", "mean_predicted", "observed_rate"),
            Chart("histogram", "Churn probability across scored customers", "risk_distribution", "bin_start",
                  "customers"),
        ),
        params={"horizon_days": horizon_days, "threshold": threshold, "top": top,
                "model": model, "max_recency_days": max_recency_days,
                "features": names, "random_state": random_state},
        notes=tuple(notes),
        kinds={"risk_distribution/bin_start": "percent"},
    )


RISK_BANDS = 20  # the churn-probability histogram's bins: 0-5%, 5-10%, ... 95-100%


def risk_distribution(p_scored: np.ndarray) -> pl.DataFrame:
    """Scored customers per band of churn probability (bin_start 0, 0.05, ... 0.95; 1 joins the top band),
    so the whole scored list's spread can be drawn when the at-risk list shows only its top."""
    bands = np.clip(np.floor(np.asarray(p_scored, dtype=float) * RISK_BANDS), 0, RISK_BANDS - 1).astype(np.int64)
    counts = np.bincount(bands, minlength=RISK_BANDS)
    return pl.DataFrame({"bin_start": np.arange(RISK_BANDS) / RISK_BANDS, "customers": counts.astype(np.int64)})
