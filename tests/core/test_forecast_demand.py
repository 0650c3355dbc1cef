"""predict demand on the sample (the planted holiday peaks and weekend lift are recovered,
the model beats seasonal naive) and on small made-up data (bad input, groups, the CLI)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from commands.app import app
from core.demo import params
from core.errors import AnalysisError, InputError
from core.forecast.demand import demand_forecast
from core.registry import run_analysis
from core.workspace import Workspace

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample"
runner = CliRunner()


@pytest.fixture(scope="module")
def sample_tx():
    return Workspace.open(SAMPLE).scan("transactions")


@pytest.fixture(scope="module")
def daily_effects(sample_tx):
    """Daily orders over the sample's last two years (the first year is the customer base's
    ramp-up, where log(1 + y) of a few orders a day would shrink every multiplier)."""
    result = demand_forecast(sample_tx, measure="orders", freq="day", since=dt.date(2024, 1, 1),
                             backtest_origins=0, horizon=14)
    return {row["term"]: row for row in result.tables["effects"].iter_rows(named=True)}


@pytest.mark.parametrize("holiday", sorted(params.FESTIVAL_MULTIPLIERS))
def test_planted_holiday_peaks_are_recovered_within_their_intervals(daily_effects, holiday):
    row = daily_effects[holiday]
    planted = params.FESTIVAL_MULTIPLIERS[holiday]
    assert row["effect_low"] <= planted <= row["effect_high"], row
    assert row["effect_low"] > 1.0  # each planted peak is told apart from no effect


def test_planted_weekend_lift_is_recovered(daily_effects):
    planted = dict(zip(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), params.WEEKDAY_MULTIPLIERS))
    for day in ("tue", "wed", "thu", "fri", "sat", "sun"):  # relative to Monday
        row = daily_effects[day]
        assert row["effect_low"] <= planted[day] / planted["mon"] <= row["effect_high"], row


def test_holidays_without_a_planted_peak_show_none(daily_effects):
    # New Year's Day is left out: the sample's seasonality steps from December's 1.45 to
    # January's 0.85 on that very day, which a smooth yearly curve cannot follow.
    for holiday in ("labour_day", "national_day", "valentines_day", "easter", "cyber_monday"):
        row = daily_effects[holiday]
        assert row["effect_low"] <= 1.0 <= row["effect_high"], row


def test_the_model_beats_seasonal_naive_on_the_sample_and_says_by_how_much(sample_tx):
    result = demand_forecast(sample_tx, measure="orders", freq="week", horizon=13)
    h = result.headline
    assert h["beats_naive"] is True and h["model_mase"] < h["naive_mase"]
    assert 0 < h["forecast_error"] < h["naive_error"]
    assert result.notes[0].startswith(f"Forecast error ±{h['forecast_error']:.0%} (backtest MAPE")
    forecast = result.tables["forecast"]
    assert forecast.height == 13 and forecast["period"][0] == dt.date(2026, 1, 1)
    assert (forecast["forecast_low"] <= forecast["forecast"]).all()
    assert (forecast["forecast"] <= forecast["forecast_high"]).all()
    # the forecast continues the level of the last weeks, not a number from nowhere
    last = result.tables["series"].drop_nulls("actual")["actual"].tail(13).mean()
    assert 0.5 * last < forecast["forecast"].mean() < 1.5 * last


def test_a_backtest_is_scored_on_points_after_each_origin_only(sample_tx):
    """Refits see only the past: a forecast of next year cannot have seen next year, so a
    series whose last 8 weeks are multiplied by five shows a larger backtest error there, not a
    smaller one (the two origins are 8 weeks apart: the last one forecasts those weeks)."""
    base = demand_forecast(sample_tx, measure="orders", freq="week", horizon=8, backtest_origins=2)
    shocked = sample_tx.with_columns(
        pl.when(pl.col("order_date") > dt.date(2025, 11, 5)).then(pl.col("amount") * 5).otherwise(pl.col("amount"))
        .alias("amount"))
    worse = demand_forecast(shocked, measure="revenue", freq="week", horizon=8, backtest_origins=2)
    plain = demand_forecast(sample_tx, measure="revenue", freq="week", horizon=8, backtest_origins=2)
    assert worse.headline["forecast_error"] > plain.headline["forecast_error"] + 0.2
    assert base.tables["backtest"]["origins"][0] == 2


# --- small made-up data -------------------------------------------------------------------

def _daily(start: str, days: int, per_day: float = 20.0, category: str = "a", seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pl.date_range(dt.date.fromisoformat(start), dt.date.fromisoformat(start) + dt.timedelta(days=days - 1),
                          "1d", eager=True)
    counts = rng.poisson(per_day, size=days)
    day = np.repeat(np.arange(days), counts)
    return pl.DataFrame({"customer_id": [f"C{i % 50}" for i in range(len(day))],
                         "order_id": [f"{category}{i}" for i in range(len(day))],
                         "order_date": dates.gather(day), "amount": rng.gamma(2.0, 20.0, size=len(day)).round(2),
                         "quantity": np.ones(len(day), dtype=np.int64), "category": category})


def test_too_short_a_history_says_how_much_is_needed():
    tx = _daily("2025-01-01", 200).lazy()
    with pytest.raises(AnalysisError, match=r"needs 104 weeks of history \(two years\), the longest has 2\d") as err:
        demand_forecast(tx, freq="week")
    assert "--no-yearly" in str(err.value) and err.value.exit_code == 1
    result = demand_forecast(tx, freq="week", yearly=False, horizon=4)
    assert result.tables["forecast"].height == 4


def test_sales_within_one_partial_week_say_there_is_no_weekly_series(make_workspace):
    # two days of sales (a Friday and a Saturday): the week ending on the last day starts before the
    # first sale, so it is partial and left out, and no week is left
    tx = _daily("2024-01-05", 2, per_day=3)
    with pytest.raises(AnalysisError, match="fill no whole week") as err:
        demand_forecast(tx.lazy(), freq="week", yearly=False)
    assert "--freq day" in str(err.value)
    folder = make_workspace({"transactions.csv": tx.write_csv()})
    result = runner.invoke(app, ["predict", "demand", "-w", str(folder)])
    assert result.exit_code == 1 and "fill no whole week" in result.output and "internal error" not in result.output


def test_units_without_quantities_are_an_error_or_a_counted_note():
    tx = _daily("2024-01-01", 800)
    with pytest.raises(InputError, match="has a quantity \\(the column is empty\\)") as err:
        demand_forecast(tx.with_columns(quantity=pl.lit(None, pl.Int64)).lazy(), measure="units", freq="week")
    assert err.value.column == "quantity" and "--measure revenue" in err.value.fix
    # a few lines without a quantity: counted as 0 units, and said so
    gaps = tx.with_columns(quantity=pl.when(pl.int_range(pl.len()) % 100 == 0).then(None).otherwise("quantity"))
    result = demand_forecast(gaps.lazy(), measure="units", freq="week", horizon=4, backtest_origins=1)
    missing = gaps["quantity"].null_count()
    assert missing > 0 and any(n.startswith(f"{missing} sale lines without a quantity count as 0 units")
                               for n in result.notes)


def test_short_groups_are_skipped_and_counted_and_gaps_are_zeros():
    long = _daily("2023-01-01", 800, category="long")
    short = _daily("2025-01-01", 69, category="short", seed=1)  # all three end on 10 March 2025
    gappy = _daily("2023-01-01", 800, per_day=0.7, category="sparse", seed=2)  # many days without a sale
    tx = pl.concat([long, short, gappy]).lazy()
    result = demand_forecast(tx, freq="day", by="category", horizon=7, backtest_origins=1)
    assert set(result.tables["forecast"]["group"]) == {"long", "sparse"}
    assert result.headline["groups"] == 2 and result.headline["groups_skipped"] == 1
    assert any("1 category series with under 730 days of history were skipped" in n for n in result.notes)
    assert any("days with no sales count as zero" in n for n in result.notes)
    # the sparse series has empty days: modelled on the raw scale, said so, never below zero
    assert any(n.startswith("1 category series have days without sales, so they were modelled on the raw scale")
               for n in result.notes)
    assert (result.tables["forecast"]["forecast_low"] >= 0).all()
    scales = dict(result.tables["effects"].select("group", "scale").unique().iter_rows())
    assert scales == {"long": "multiplier", "sparse": "added"}


def test_returns_are_left_out_and_said_so():
    tx = _daily("2025-01-01", 120)
    returns = tx.head(30).with_columns(-pl.col("amount"), -pl.col("quantity"))
    result = demand_forecast(pl.concat([tx, returns]).lazy(), measure="units", freq="day", yearly=False,
                             horizon=7, backtest_origins=1)
    assert any(n.startswith("30 return lines (negative amount or quantity) were left out") for n in result.notes)
    assert (result.tables["forecast"]["forecast"] >= 0).all()


def test_units_without_quantity_and_an_unknown_group_column_are_input_errors():
    tx = _daily("2025-01-01", 120)
    with pytest.raises(InputError, match="quantity"):
        demand_forecast(tx.drop("quantity").lazy(), measure="units", freq="day", yearly=False)
    with pytest.raises(InputError, match="--by 'brand' is not a column"):
        demand_forecast(tx.lazy(), by="brand", freq="day", yearly=False)


def test_custom_holidays_from_loyalist_toml_get_their_own_effect(make_workspace):
    tx = _daily("2025-01-01", 150)
    brand = [dt.date(2025, 2, 8), dt.date(2025, 3, 8), dt.date(2025, 4, 8)]
    peak = pl.concat([_daily(d.isoformat(), 1, per_day=60, category=f"peak{i}", seed=i) for i, d in enumerate(brand)])
    folder = make_workspace({"transactions.csv": pl.concat([tx, peak]).write_csv(),
                             "loyalist.toml": '[[holidays]]\nname = "brand_day"\nmonth_day = "08-08"\n\n'
                                              '[[holidays]]\nname = "monthly_eighth"\n'
                                              'date = [2025-02-08, 2025-03-08, 2025-04-08]\n'})
    result = run_analysis("predict.demand", Workspace.open(folder),
                          {"freq": "day", "yearly": False, "measure": "orders", "holidays": "none", "horizon": 80})
    effects = {r["term"]: r for r in result.tables["effects"].iter_rows(named=True)}
    assert "brand_day" not in effects  # 8 August is in the forecast, not in the history
    assert effects["monthly_eighth"]["effect_low"] > 2.0  # about 80 orders on those days against 20
    assert any("brand_day" in n and "not seen in the history" in n for n in result.notes)


def test_cli_json_has_the_documented_keys():
    result = runner.invoke(app, ["predict", "demand", "-w", str(SAMPLE), "--measure", "orders", "--horizon", "4",
                                 "--backtest", "2", "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["name"] == "predict.demand"
    assert {"forecast_total", "forecast_error", "naive_error", "beats_naive", "forecast", "backtest",
            "effects", "series"} <= set(out)
    assert len(out["forecast"]) == 4
    assert set(out["forecast"][0]) == {"period", "forecast", "forecast_low", "forecast_high"}
    assert "trend_per_year" not in out and out["params"]["trend"] is False
    trended = runner.invoke(app, ["predict", "demand", "-w", str(SAMPLE), "--measure", "orders", "--horizon", "4",
                                  "--backtest", "0", "--trend", "--format", "json"])
    assert trended.exit_code == 0, trended.output
    out = json.loads(trended.stdout)
    assert out["trend_per_year"] > 1 and any(row["term"] == "trend" for row in out["effects"])


def test_cli_too_short_is_exit_one(make_workspace):
    folder = make_workspace({"transactions.csv": _daily("2025-01-01", 100).write_csv()})
    result = runner.invoke(app, ["predict", "demand", "-w", str(folder)])
    assert result.exit_code == 1
    assert "104 weeks" in result.output


def test_by_a_customers_column_joins_on_customer_id():
    tx = _daily("2025-01-01", 120)
    customers = pl.DataFrame({"customer_id": [f"C{i}" for i in range(50)],
                              "tier": ["gold" if i < 10 else "basic" for i in range(50)]})
    result = demand_forecast(tx.lazy(), by="tier", customers=customers.lazy(), freq="day", yearly=False,
                             horizon=7, backtest_origins=1)
    forecast = result.tables["forecast"]
    assert set(forecast["group"]) == {"gold", "basic"}
    gold, basic = (forecast.filter(pl.col("group") == g)["forecast"].mean() for g in ("gold", "basic"))
    assert 2.0 < basic / gold < 8.0  # 40 basic customers against 10 gold ones buy alike


def _trending_weeks(slope: float, yearly: bool, seed: int = 4, years: int = 4) -> pl.LazyFrame:
    """Weekly revenue, one line a week, whose log grows by `slope` a year. Yearly: a yearly cycle
    plus errors whose 52-week difference is AR(1) (phi 0.5); otherwise a random walk with drift
    and AR(1) steps. These are the two weekly models' own assumptions."""
    rng = np.random.default_rng(seed)
    n = 52 * years + 1
    t = np.arange(n)
    shock = np.zeros(n)
    for i in range(1, n):
        shock[i] = 0.5 * shock[i - 1] + rng.normal(0, 0.03)
    if yearly:
        error = shock.copy()
        for i in range(52, n):
            error[i] += error[i - 52]
        z = 6.0 + 0.3 * np.sin(2 * np.pi * t * 7 / 365.25) + error
    else:
        z = 6.0 + np.cumsum(shock)
    z += slope * t * 7 / 365.25
    start = dt.date(2021, 1, 4)
    return pl.LazyFrame({"order_id": [f"O{i}" for i in t], "customer_id": "C1",
                         "order_date": [start + dt.timedelta(days=7 * int(i)) for i in t], "amount": np.exp(z)})


@pytest.mark.parametrize(("yearly", "slope"), [(True, 0.15), (False, 0.8)])
def test_a_planted_trend_is_recovered_within_its_interval(yearly, slope):
    # log revenue grows `slope` a year (x1.16, x2.2); a random walk's drift is known less well.
    # Over 30 draws each interval covered the truth 27 times (95% intervals).
    result = demand_forecast(_trending_weeks(slope, yearly), trend=True, yearly=yearly, backtest_origins=0)
    row = result.tables["effects"].filter(pl.col("term") == "trend").row(0, named=True)
    assert row["scale"] == "multiplier"
    assert row["effect_low"] <= np.exp(slope) <= row["effect_high"], row
    assert row["effect_low"] > 1.0  # growth is found, not just allowed
    assert result.headline["trend_per_year"] == pytest.approx(row["effect"])
    assert any(note.startswith("Trend: x") for note in result.notes)
    # Without the trend term the forecast stays near the last year's level; with it, it grows.
    flat = demand_forecast(_trending_weeks(slope, yearly), yearly=yearly, backtest_origins=0)
    assert "trend" not in flat.tables["effects"]["term"].to_list()
    assert result.headline["forecast_total"] > flat.headline["forecast_total"]


def test_the_chart_draws_history_forecast_and_the_interval_band():
    from core.export.charts import chart_svg

    result = demand_forecast(_trending_weeks(0.1, True), horizon=8, backtest_origins=0)
    (chart,) = result.charts_to_draw
    table = result.tables[chart.table]
    future = table.filter(pl.col("actual").is_null())
    assert future.height == 8 and (future["forecast_low"] <= future["forecast"]).all()
    assert (future["forecast"] <= future["forecast_high"]).all()
    assert table.filter(pl.col("actual").is_not_null())["forecast_low"].null_count() == table.height - 8
    svg = chart_svg(chart, table)
    for line in ("actual", "forecast"):
        assert f'data-series="{line}"' in svg
    assert '<polygon class="band"' in svg  # the interval, shaded around the forecast
    by = demand_forecast(_trending_weeks(0.1, True).with_columns(pl.lit("a").alias("category")), by="category",
                         horizon=8, backtest_origins=0)
    assert [c.y for c in by.charts] == [("actual",), ("forecast",)]
    assert all('data-series="a"' in chart_svg(c, by.tables[c.table]) for c in by.charts_to_draw)


# --- where growth comes from (core.forecast.growth) -------------------------------------------------


def test_the_planted_trend_is_recovered_as_orders_per_shopping_day(sample_tx):
    # The plant copies each order of day d Poisson(m_d - 1) times, same customer and day, with
    # m_d = (1 + 0.05 x years since the start) x weekday x holiday: orders per shopping day grow
    # by 5% of the first weeks' level a year, whatever the customer base does.
    result = demand_forecast(sample_tx, measure="orders", trend=True, backtest_origins=0, horizon=4)
    growth = {r["part"]: r for r in result.tables["growth"].iter_rows(named=True)}
    per_day = growth["orders per shopping day"]
    assert per_day["growth_low"] <= params.TREND_PER_YEAR <= per_day["growth_high"], per_day
    assert per_day["growth_low"] > 0  # growth found, not merely allowed
    # The customer base, still being acquired, is where orders grow most, and the series' own
    # trend (all growth together) is far above the planted 5%.
    assert growth["shopping days"]["growth_low"] > per_day["growth_high"]
    assert result.headline["trend_per_year"] > 1 + 2 * params.TREND_PER_YEAR
    assert any("orders per shopping day +" in note for note in result.notes)
    plain = demand_forecast(sample_tx, measure="orders", backtest_origins=0, horizon=4)
    assert "growth" not in plain.tables


def _shoppers(intensity: float, seed: int = 3) -> pl.LazyFrame:
    """Three years of days: shoppers per day grow from 20 to 80; each shopper places
    1 + Poisson(1.3 (1 + intensity t) - 1) orders that day (t in years)."""
    rng = np.random.default_rng(seed)
    days = np.arange(3 * 364)
    t = days / 365.25
    shoppers = rng.poisson(20 + 20 * t)
    day = np.repeat(days, shoppers)
    orders = 1 + rng.poisson(1.3 * (1 + intensity * day / 365.25) - 1)
    cust = np.repeat(np.arange(len(day)), orders)
    start = dt.date(2022, 1, 3)
    return pl.LazyFrame({"order_id": [f"O{i}" for i in range(len(cust))], "customer_id": [f"C{c}" for c in cust],
                         "order_date": [start + dt.timedelta(days=int(d)) for d in day[cust]],
                         "amount": rng.gamma(2.0, 20.0, size=len(cust)).round(2) + 1})


@pytest.mark.parametrize("intensity", [0.0, 0.1])
def test_growth_is_split_into_shoppers_and_orders_per_shopping_day(intensity):
    result = demand_forecast(_shoppers(intensity), measure="orders", trend=True, holidays="none",
                             backtest_origins=0, horizon=4)
    growth = {r["part"]: r for r in result.tables["growth"].iter_rows(named=True)}
    per_day = growth["orders per shopping day"]
    assert per_day["growth_low"] <= intensity <= per_day["growth_high"], per_day
    # shoppers grow by 20 a day a year from 20: +100% of the first weeks' level
    assert growth["shopping days"]["growth_low"] <= 1.0 <= growth["shopping days"]["growth_high"]
    assert growth["revenue per order"]["growth_low"] <= 0.0 <= growth["revenue per order"]["growth_high"]
