"""`loyalist predict ...`: lifetime value, churn risk and key drivers (core.predict.run); demand
forecasts (core.forecast.run)."""

from __future__ import annotations

from core.registry.catalog import AS_OF, CONFIDENCE, DISCOUNT_RATE, ENGINE, SINCE
from core.registry.model import Analysis, Group, When, register, register_group
from core.registry.options import BOOL, CHOICE, DATE, FLOAT, INT, LIST, TEXT, Option

register_group(Group("predict", "Predict", "CLV, churn risk, key drivers and demand forecasts.", screen="reports"))

register(Analysis(
    "predict.clv", "CLV", "BG/NBD and Gamma-Gamma models: probability alive, expected purchases and lifetime "
    "value per customer", run="core.predict.run:clv", per_customer=("customers",),
    options=(
        Option("calibration_end", DATE, flags=("--calibration-end", "--as-of"), title="As of",
               help="Last day of the calibration period (inclusive); empty: the last transaction date"),
        Option("holdout_end", DATE, help="Compare predictions with purchases after the calibration end up to "
               "this day"),
        Option("unit", CHOICE, "week", choices=("week", "day"), help="Time unit of recency, T, alpha and the horizon"),
        Option("horizon", FLOAT, low=0.001, help="CLV and expected purchases over this many units; empty: one year"),
        DISCOUNT_RATE,
        Option("discount_period", CHOICE, "year", choices=("year", "month"),
               help="year: the discount rate is annual (30.4375-day months); month: monthly, lifetimes' "
               "convention (30 days or 4.345 weeks a month, 12 of them by default)"),
        ENGINE,
    ),
))
register(Analysis(
    "predict.churn", "Churn risk", "Churn risk models trained on an earlier date and tested on a later one; a "
    "ranked list of customers at risk with their value at risk", run="core.predict.run:churn",
    uses=("customers", "touchpoints", "survey"), per_customer=("test_predictions",),
    options=(
        Option("as_of", DATE, title="Score as of", help="Score customers as of this day (inclusive); empty: the "
               "last transaction date"),
        Option("horizon_days", INT, 90, low=1, flags=("--horizon",), title="Horizon days",
               help="Churn = no purchase in this many days after the as-of date"),
        Option("test_as_of", DATE, flags=("--test-date",), title="Test date",
               help="Features date of the test set; empty: as of minus the horizon"),
        Option("train_as_of", DATE, flags=("--train-date",), title="Train date",
               help="Features date of the training set; empty: the test date minus the horizon"),
        Option("threshold", FLOAT, 0.5, low=0.001, high=0.999, help="Churn probability from which a customer "
               "is flagged"),
        Option("model", CHOICE, "best", choices=("best", "logistic", "boosting"),
               help="Model for the at-risk list (best: the higher AUC on training customers held out of "
               "the fit; only it is tested)"),
        Option("top", INT, 100, low=0, title="At-risk list", help="Customers in the at-risk list (0 = all)"),
        Option("max_recency_days", INT, low=0, flags=("--max-recency",),
               help="Only customers who bought within this many days; empty: all"),
        Option("with_clv", BOOL, True, flags=("--clv/--no-clv",), title="Value at risk",
               help="Value at risk = one-year CLV (BG/NBD + Gamma-Gamma) x churn probability"),
        ENGINE,
    ),
))
register(Analysis(
    "predict.drivers", "Key drivers", "Key drivers: which survey measures explain an outcome (NPS, CSAT, "
    "retention), with intervals and stability", run="core.predict.run:drivers", needs=("survey",),
    uses=("transactions",), when=(When("outcome", "retention", needs=("transactions",)),),
    noun="key-driver analysis",
    options=(
        AS_OF,
        Option("outcome", TEXT, "nps", help="Survey column to explain (nps, csat, a loyalty score...) or "
               "'retention'"),
        Option("predictors", LIST, flags=("--predictor", "-p"), repeat=True, sample='["sat_*"]',
               help="Driver columns or patterns such as 'sat_*'; empty: every numeric survey column except "
               "outcomes"),
        Option("method", CHOICE, "relative_weights", choices=("relative_weights", "shapley"),
               help="Share of explained variance by relative weights or Shapley R²"),
        Option("retention_days", INT, 180, low=1, help="With outcome retention: bought again within this many days"),
        Option("n_boot", INT, 500, low=20, flags=("--bootstrap",), title="Bootstrap",
               help="Bootstrap samples for the intervals"),
        Option("holdout", FLOAT, 0.25, low=0.05, high=0.5, help="Share of rows held out"),
        Option("n_folds", INT, 5, low=2, high=20, flags=("--folds",), title="Folds", help="Cross-validation folds"),
        CONFIDENCE,
        Option("random_state", INT, 0, flags=("--seed",), title="Seed",
               help="Random seed (bootstrap, holdout, folds)"),
    ),
))
register(Analysis(
    "predict.demand", "Demand forecast", "Revenue, orders or units by day or week, overall or per category, "
    "channel or customers column, with prediction intervals, holiday effects and a rolling-origin backtest "
    "against seasonal naive", run="core.forecast.run:demand", uses=("customers",),
    options=(
        Option("measure", CHOICE, "revenue", choices=("revenue", "orders", "units"),
               help="What to forecast: revenue (sum of amount), orders, or units (sum of quantity)"),
        Option("freq", CHOICE, "week", choices=("week", "day"), help="Forecast per week (ending on the as-of "
               "day) or per day"),
        Option("by", TEXT, title="Break down by", help="A transactions column (category, channel) or a customers "
               "column (tier, region...): one forecast per value; empty: one overall forecast"),
        Option("horizon", INT, low=1, high=730, help="Periods to forecast; empty: 13 weeks or 28 days"),
        CONFIDENCE,
        AS_OF,
        SINCE,
        Option("holidays", CHOICE, "both", choices=("both", "china", "western", "none"),
               help="Built-in holiday calendar (Chinese festivals and shopping days, Western holidays); "
               "loyalist.toml [[holidays]] adds your own"),
        Option("yearly", BOOL, True, flags=("--yearly/--no-yearly",), title="Yearly seasonality",
               help="Model yearly seasonality (needs two years of history)"),
        Option("trend", BOOL, False, flags=("--trend/--no-trend",), title="Trend",
               help="Add a linear trend (drift) and forecast it: growth per year in the effects table. Off: "
               "a drift fitted on a ramp-up (a growing customer base) would extrapolate it"),
        Option("transform", CHOICE, "log", choices=("log", "none"),
               help="log: model log(1 + y), effects are multipliers; none: the raw series, effects add"),
        Option("errors", CHOICE, "ar", choices=("ar", "auto"), title="Weekly errors",
               help="Weekly model with yearly seasonality: ar = AR(1) errors; auto = AR(1), MA(1) or ARMA(1,1), "
               "the lowest AIC per series (MA terms need numerical MLE: 7 to 20 times slower per series)"),
        Option("backtest_origins", INT, 4, low=0, high=20, flags=("--backtest",), title="Backtest origins",
               help="Rolling origins of the backtest (0: none)"),
        Option("top", INT, 200, low=0, help="With --by: forecast the largest this many series (0 = all)"),
    ),
))
