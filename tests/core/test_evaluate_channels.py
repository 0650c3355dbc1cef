"""Channels report: hand-worked tables, pandas/numpy references and statsmodels intervals."""

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttest_ind

from core.errors import AnalysisError, MissingTableError
from core.evaluate.channels import channels

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample"

D, T = dt.date, dt.datetime


def small():
    transactions = pl.LazyFrame({
        "order_id": ["o1", "o2", "o3", "o4", "o5", "o6", "o7"],
        "customer_id": ["a", "a", "a", "b", "b", "c", "c"],
        "order_date": [D(2024, 1, 1), D(2024, 1, 5), D(2024, 2, 1), D(2024, 1, 3), D(2024, 1, 20),
                       D(2024, 1, 10), D(2024, 1, 12)],
        "amount": [100.0, 50.0, 30.0, 80.0, -20.0, 40.0, 60.0],
        "channel": ["web", "web", "store", "store", "store", "web", "app"],
    })
    touchpoints = pl.LazyFrame({
        "customer_id": ["a", "b", "b", "c", "d"],
        "timestamp": [T(2024, 1, 4, 9), T(2023, 11, 1), T(2024, 1, 2), T(2024, 1, 25), T(2024, 1, 1)],
        "channel": ["email", "email", "social", "email", "social"],
        "campaign_id": [None, None, "C1", None, "C1"],
        "cost": [0.5, 0.5, None, 0.5, None],
    })
    campaigns = pl.LazyFrame({"campaign_id": ["C1"], "channel": ["social"], "spend": [10.0]})
    return transactions, touchpoints, campaigns


def test_per_channel_table_worked_by_hand():
    transactions, touchpoints, campaigns = small()
    result = channels(transactions, touchpoints=touchpoints, campaigns=campaigns, window_days=30)
    rows = {r["channel"]: r for r in result.tables["channels"].iter_rows(named=True)}
    assert rows["web"]["customers"] == 2 and rows["web"]["orders"] == 3
    assert rows["web"]["revenue"] == 190 and rows["web"]["aov"] == pytest.approx(190 / 3)
    assert rows["web"]["repeat_rate"] == 0.5  # a bought twice on web, c once
    assert rows["store"]["revenue"] == 90  # 30 + 80 - 20 (a return)
    assert rows["store"]["aov"] == pytest.approx(110 / 2)
    # email: a (bought Jan 5, a day after), b (Nov 1: no purchase within 30 days), c (after the
    # last purchase): 1 of 3 converts. social: b (Jan 3, next day) and d (never buys).
    assert rows["email"]["touches"] == 3 and rows["email"]["reached"] == 3
    assert rows["email"]["conversion_rate"] == pytest.approx(1 / 3)
    assert rows["social"]["conversion_rate"] == pytest.approx(1 / 2)
    # The last touch within 30 days before each purchase day gets its value (returns are
    # not purchases, so b's -20 on Jan 20 is credited to nobody).
    assert rows["email"]["attributed_revenue"] == pytest.approx(50 + 30)  # a on Jan 5 and Feb 1
    assert rows["social"]["attributed_revenue"] == pytest.approx(80)  # b on Jan 3
    # Costs: email touches cost 0.5 each; C1's touches carry no cost, so its spend counts.
    assert rows["email"]["cost"] == pytest.approx(1.5)
    assert rows["social"]["cost"] == pytest.approx(10.0)
    assert rows["social"]["roi"] == pytest.approx((80 - 10) / 10)
    assert rows["web"]["touches"] is None  # not a marketing channel: empty, not zero
    # Acquisition channel without a customers table: the channel of the first purchase.
    assert rows["web"]["new_customers"] == 2 and rows["store"]["new_customers"] == 1  # a, c; b
    assert rows["app"]["new_customers"] is None
    overlap = result.tables["overlap"]
    assert overlap.columns == ["channel", "app", "store", "web"]
    assert overlap.rows() == [("app", 1, 0, 1), ("store", 0, 2, 1), ("web", 1, 1, 2)]


def random_shop(seed=0, n=600):
    rng = np.random.default_rng(seed)
    customers = np.arange(n)
    multi = rng.random(n) < 0.4
    rows = []
    for c in customers:
        k = rng.integers(1, 10) + (4 if multi[c] else 0)
        chans = ["web", "store", "app"] if multi[c] else [rng.choice(["web", "store", "app"])]
        days = rng.integers(0, 900 if multi[c] else 500, k)
        for d in days:
            rows.append((f"c{c}", D(2022, 1, 1) + dt.timedelta(days=int(d)), float(rng.gamma(2, 30)),
                         str(rng.choice(chans))))
    df = pl.DataFrame(rows, schema=["customer_id", "order_date", "amount", "channel"], orient="row")
    return df.with_row_index("order_id").with_columns(pl.col("order_id").cast(pl.String))


def test_random_shop_matches_pandas_and_numpy():
    df = random_shop()
    result = channels(df.lazy(), as_of=D(2024, 6, 30))
    table = result.tables["channels"].sort("channel")
    pdf = df.to_pandas()
    grouped = pdf.groupby("channel")
    assert table["customers"].to_list() == grouped["customer_id"].nunique().sort_index().tolist()
    assert table["revenue"].to_numpy() == pytest.approx(grouped["amount"].sum().sort_index().to_numpy())
    days = pdf.groupby(["channel", "customer_id"])["order_date"].nunique()
    repeat = (days >= 2).groupby(level="channel").mean().sort_index()
    assert table["repeat_rate"].to_numpy() == pytest.approx(repeat.to_numpy())
    # Overlap = X'X for the customer x channel indicator matrix.
    x = pd.crosstab(pdf["customer_id"], pdf["channel"]).clip(upper=1)
    expected = x.T.to_numpy() @ x.to_numpy()
    overlap = result.tables["overlap"]
    assert overlap.drop("channel").to_numpy() == pytest.approx(expected)
    # Radar without touchpoints: customers share, orders per customer, repeat rate; best = 100.
    radar = result.tables["radar"]
    assert radar["reach_score"].max() == 100
    assert radar["reach"].to_numpy() == pytest.approx(table["customers"].to_numpy() / df["customer_id"].n_unique())


def test_multi_channel_comparison_matches_statsmodels():
    df = random_shop(seed=4)
    as_of = D(2024, 6, 30)
    result = channels(df.lazy(), as_of=as_of)
    comp = {r["metric"]: r for r in result.tables["single_vs_multi"].iter_rows(named=True)}
    per = df.filter(pl.col("order_date") <= as_of).group_by("customer_id").agg(
        pl.col("channel").n_unique().alias("n"), pl.col("order_date").n_unique().alias("frequency"),
        ((pl.col("order_date") > D(2022, 6, 30)) & (pl.col("order_date") <= D(2023, 6, 30))).any().alias("base"),
        (pl.col("order_date") > D(2023, 6, 30)).any().alias("later"),
    )
    multi = per.filter(pl.col("n") >= 2)
    single = per.filter(pl.col("n") == 1)
    a, b = multi["frequency"].to_numpy().astype(float), single["frequency"].to_numpy().astype(float)
    _, p, _ = ttest_ind(a, b, usevar="unequal")
    lo, hi = CompareMeans(DescrStatsW(a), DescrStatsW(b)).tconfint_diff(usevar="unequal")
    row = comp["purchase_frequency"]
    assert (row["multi"], row["single"]) == pytest.approx((a.mean(), b.mean()))
    assert row["p_value"] == pytest.approx(p, rel=1e-9)
    assert (row["diff_ci_low"], row["diff_ci_high"]) == pytest.approx((lo, hi), rel=1e-9)
    # Retained: bought in the year before last and again in the last year.
    kept = [(g.filter(pl.col("base"))["later"].sum(), g["base"].sum()) for g in (multi, single)]
    (xm, nm), (xs, ns) = kept
    lo, hi = confint_proportions_2indep(xm, nm, xs, ns, compare="diff", method="newcomb")
    row = comp["customers_retained"]
    assert (row["multi"], row["single"]) == pytest.approx((xm / nm, xs / ns))
    assert (row["diff_ci_low"], row["diff_ci_high"]) == pytest.approx((lo, hi))
    assert row["diff"] > 0  # multi-channel customers here buy over a longer span
    assert result.headline["multi_vs_single_customers_retained_diff"] == pytest.approx(xm / nm - xs / ns)


def test_clv_uses_each_groups_retention():
    df = random_shop(seed=5)
    as_of = D(2024, 6, 30)
    result = channels(df.lazy(), as_of=as_of, discount_rate=0.1)
    comp = {r["metric"]: r for r in result.tables["single_vs_multi"].iter_rows(named=True)}
    r = comp["customers_retained"]["multi"]
    per = df.group_by("customer_id").agg(pl.col("channel").n_unique().alias("n"), pl.sum("amount"),
                                         pl.col("order_date").min().alias("first"))
    per = per.with_columns(t=(pl.lit(as_of) - pl.col("first")).dt.total_days())
    multi = per.filter(pl.col("n") >= 2)
    annual = multi["amount"].to_numpy() * 365 / np.maximum(multi["t"].to_numpy() + 1, 365)
    assert comp["clv"]["multi"] == pytest.approx(annual.mean() * r / (1.1 - r))


def test_clear_errors():
    transactions, _, _ = small()
    with pytest.raises(MissingTableError, match="transactions"):
        channels(None, workspace="shop")
    with pytest.raises(AnalysisError, match="'channel'"):
        channels(transactions.drop("channel"))
    with pytest.raises(AnalysisError, match="fewer than two customers"):
        channels(transactions, as_of=D(2023, 1, 1))


def twice(frame: pl.LazyFrame) -> pl.LazyFrame:
    """The same shop twice, under other customer and order ids: two customers per group."""
    copy = frame.with_columns(pl.col("customer_id") + "2", pl.col("order_id") + "2")
    return pl.concat([frame, copy])


def test_an_order_spanning_two_days_is_counted_once():
    """The report sums distinct orders over customer x channel x day rows only when no order
    spans two of them; here o1 (web) is split over Jan 1 and Jan 2, so that sum would count
    it twice. Worked by hand: web has o1, o2, o3 (and their copies)."""
    transactions = twice(pl.LazyFrame({
        "order_id": ["o1", "o1", "o2", "o3", "o4"],
        "customer_id": ["a", "a", "a", "b", "b"],
        "order_date": [D(2024, 1, 1), D(2024, 1, 2), D(2024, 1, 9), D(2024, 1, 3), D(2024, 1, 4)],
        "amount": [10.0, 20.0, 30.0, 40.0, 50.0],
        "channel": ["web", "web", "web", "web", "store"],
    }))
    result = channels(transactions)
    rows = {r["channel"]: r for r in result.tables["channels"].iter_rows(named=True)}
    assert rows["web"]["orders"] == 6 and rows["web"]["aov"] == pytest.approx(200 / 6)
    assert rows["store"]["orders"] == 2
    aov = result.tables["single_vs_multi"].filter(pl.col("metric") == "aov")
    assert aov["single"][0] == pytest.approx(60 / 2)  # a: 60 over o1 and o2
    assert aov["multi"][0] == pytest.approx(90 / 2)  # b: 90 over o3 and o4


def test_an_order_whose_lines_are_apart_in_the_file_is_counted_once():
    """The day table counts an order at the line that starts it, which holds only when an
    order's lines are adjacent in the file; here o1's two lines have o2 between them.
    Worked by hand: web has o1, o2, o4, o5 (and their copies)."""
    transactions = twice(pl.LazyFrame({
        "order_id": ["o1", "o2", "o1", "o3", "o4", "o5"],
        "customer_id": ["a", "a", "a", "a", "b", "b"],
        "order_date": [D(2024, 1, 1), D(2024, 1, 1), D(2024, 1, 1), D(2024, 1, 2), D(2024, 1, 3), D(2024, 1, 4)],
        "amount": [10.0, 5.0, 20.0, 30.0, 40.0, 50.0],
        "channel": ["web", "web", "web", "store", "web", "web"],
    }))
    result = channels(transactions)
    rows = {r["channel"]: r for r in result.tables["channels"].iter_rows(named=True)}
    assert rows["web"]["orders"] == 8 and rows["store"]["orders"] == 2
    aov = result.tables["single_vs_multi"].filter(pl.col("metric") == "aov")
    assert aov["multi"][0] == pytest.approx(65 / 3)  # a: o1, o2, o3
    assert aov["single"][0] == pytest.approx(90 / 2)  # b: o4, o5


def test_an_order_whose_adjacent_lines_change_channel_counts_in_both():
    """o1's adjacent lines are one in web and one in store: it is an order of each channel,
    not only of the channel of its first line."""
    transactions = twice(pl.LazyFrame({
        "order_id": ["o1", "o1", "o2", "o3", "o4"],
        "customer_id": ["a", "a", "a", "b", "b"],
        "order_date": [D(2024, 1, 1), D(2024, 1, 1), D(2024, 1, 5), D(2024, 1, 3), D(2024, 1, 4)],
        "amount": [10.0, 20.0, 30.0, 40.0, 50.0],
        "channel": ["web", "store", "web", "store", "store"],
    }))
    result = channels(transactions)
    rows = {r["channel"]: r for r in result.tables["channels"].iter_rows(named=True)}
    assert rows["store"]["orders"] == 6 and rows["web"]["orders"] == 4
    aov = result.tables["single_vs_multi"].filter(pl.col("metric") == "aov")
    assert aov["multi"][0] == pytest.approx(60 / 2)  # a: o1 and o2
    assert aov["single"][0] == pytest.approx(90 / 2)  # b: o3 and o4


def test_a_purchase_without_order_id_counts_as_one_order_per_day():
    transactions = twice(pl.LazyFrame({
        "order_id": ["o1", None, None, "o2", "o3"],
        "customer_id": ["a", "a", "a", "b", "b"],
        "order_date": [D(2024, 1, 1), D(2024, 1, 2), D(2024, 1, 2), D(2024, 1, 3), D(2024, 1, 4)],
        "amount": [10.0, 20.0, 30.0, 40.0, 50.0],
        "channel": ["web", "web", "store", "web", "web"],
    }))
    result = channels(transactions)
    rows = {r["channel"]: r for r in result.tables["channels"].iter_rows(named=True)}
    # distinct (channel, order id) pairs of purchases, the missing id counted once per channel:
    # o1, o2, o3, their copies and one missing id on web
    assert rows["web"]["orders"] == 7 and rows["store"]["orders"] == 1
    aov = result.tables["single_vs_multi"].filter(pl.col("metric") == "aov")
    assert aov["multi"][0] == pytest.approx(60 / 2)  # a: o1 and one order on Jan 2
    assert aov["single"][0] == pytest.approx(90 / 2)  # b: o2 and o3


def test_the_reduced_tables_give_the_exact_paths_tables_on_the_sample():
    """On the sample (no order spans two days) the per customer x channel and customer x day
    tables must give the tables the row-by-row path makes, to the last digit of every money
    sum."""
    from polars.testing import assert_frame_equal

    from core.evaluate.channels import channel_parts, customer_table_from_days, parts_from_reduced, reduced_tables
    from core.evaluate.value import customer_table
    from core.features import default_as_of
    from core.workspace import Workspace

    ws = Workspace.open(SAMPLE)
    tx, customers, survey = ws.scan("transactions"), ws.scan("customers"), ws.scan("survey")
    as_of = default_as_of(tx)
    reduced = reduced_tables(tx, as_of, True)
    assert reduced is not None
    fast_parts = parts_from_reduced(reduced, True)
    fast = customer_table_from_days(fast_parts["by_channel"], fast_parts["purchases"], as_of, True,
                                    customers=customers, survey=survey, retention_days=365)
    assert_frame_equal(fast.collect().sort("customer_id"),
                       customer_table(tx, as_of, customers=customers, survey=survey).collect().sort("customer_id"))
    # the fast pairs count a channel's purchase days only up to two (all the repeat rate reads)
    capped = {"pairs": pl.col("_days").clip(upper_bound=2)}
    for name, exact in channel_parts(tx, as_of, True).items():
        keys = [c for c in ("channel", "customer_id", "order_date") if c in exact.collect_schema()]
        exact = exact.with_columns(capped[name]) if name in capped else exact
        assert_frame_equal(fast_parts[name].collect().sort(keys), exact.collect().sort(keys),
                           check_dtypes=False, check_exact=False, rel_tol=1e-12)


def same_day_touches(order: list[int]) -> pl.LazyFrame:
    """a is touched by social at 09:00 and by email at 15:00 on the day of their purchase, b by
    social at 20:00 on theirs; `order` is the file order of the three rows."""
    rows = pl.DataFrame({
        "customer_id": ["a", "a", "b"],
        "timestamp": [T(2024, 1, 5, 9), T(2024, 1, 5, 15), T(2024, 1, 5, 20)],
        "channel": ["social", "email", "social"],
        "cost": [1.0, 1.0, 1.0],
    })
    return rows[order].lazy()


@pytest.mark.parametrize("order", [[0, 1, 2], [1, 0, 2], [2, 1, 0]])
def test_a_days_last_touch_in_time_gets_the_credit_whatever_the_file_order(order):
    """The purchase is credited to the day's last touch by timestamp, whether the file lists
    the touches in time order (a key-only sort keeps it) or not (sorted on the timestamp)."""
    transactions = pl.LazyFrame({
        "order_id": ["o1", "o2"], "customer_id": ["a", "b"], "order_date": [D(2024, 1, 5), D(2024, 1, 5)],
        "amount": [100.0, 40.0], "channel": ["web", "web"],
    })
    result = channels(transactions, touchpoints=same_day_touches(order), window_days=30)
    rows = {r["channel"]: r for r in result.tables["channels"].iter_rows(named=True)}
    assert rows["email"]["attributed_revenue"] == pytest.approx(100)
    assert rows["social"]["attributed_revenue"] == pytest.approx(40)  # b's only touch
    assert rows["social"]["converted"] == 2 and rows["social"]["reached"] == 2


def test_a_touch_before_1970_converts_to_a_purchase_after_it():
    """The as-of joins read each touch's and purchase's customer off one integer key (customer
    code and day number): a day before 1970 is negative and must give the same customer as a
    day after. b's touch falls before a's purchase in key order yet credits only b's purchase."""
    transactions = pl.LazyFrame({
        "order_id": ["o1", "o2", "o3"], "customer_id": ["a", "b", "c"],
        "order_date": [D(1970, 1, 3), D(1970, 1, 2), D(1969, 12, 20)],
        "amount": [100.0, 40.0, 7.0], "channel": ["web", "web", "store"],
    })
    touchpoints = pl.LazyFrame({
        "customer_id": ["a", "b", "c"], "timestamp": [T(1969, 12, 28), T(1969, 12, 31), T(1969, 12, 25)],
        "channel": ["email", "social", "social"],
    })
    result = channels(transactions, touchpoints=touchpoints, window_days=30)
    rows = {r["channel"]: r for r in result.tables["channels"].iter_rows(named=True)}
    assert rows["email"]["converted"] == 1 and rows["email"]["attributed_revenue"] == pytest.approx(100)
    # c was touched after buying: reached, not converted, nothing credited
    assert rows["social"]["reached"] == 2 and rows["social"]["converted"] == 1
    assert rows["social"]["attributed_revenue"] == pytest.approx(40)


def test_touches_of_people_who_never_bought_reach_but_neither_convert_nor_take_credit():
    """The touch side is keyed before the buyers are known: a never-buyer's touches sit among
    the buyers' keys and must not convert or take a purchase's credit; the touched are counted
    once each, a null id once. z (seen before any purchase, so its code comes first) is touched
    on the day before a's purchase, y on b's purchase day, later than b's own touch. A channel
    whose touched never bought converted no one: 0, not an empty cell."""
    transactions = pl.LazyFrame({
        "order_id": ["o1", "o2"], "customer_id": ["a", "b"], "order_date": [D(2024, 1, 5), D(2024, 1, 9)],
        "amount": [100.0, 40.0], "channel": ["web", "web"],
    })
    touchpoints = pl.LazyFrame({
        "customer_id": ["z", "z", "a", None, None, "b", "y"],
        "timestamp": [T(2024, 1, 4), T(2024, 1, 4, 1), T(2023, 12, 20), T(2024, 1, 4), T(2024, 1, 6),
                      T(2024, 1, 9, 8), T(2024, 1, 9, 9)],
        "channel": ["email", "email", "social", "email", "email", "social", "social"],
    })
    result = channels(transactions, touchpoints=touchpoints, window_days=30)
    rows = {r["channel"]: r for r in result.tables["channels"].iter_rows(named=True)}
    assert rows["email"]["touches"] == 4 and rows["email"]["reached"] == 2  # z and the null id
    assert rows["email"]["converted"] == 0 and rows["email"]["conversion_rate"] == 0
    assert rows["email"]["attributed_revenue"] is None
    assert rows["social"]["reached"] == 3 and rows["social"]["converted"] == 2  # a, b; not y
    assert rows["social"]["attributed_revenue"] == pytest.approx(140)


def test_touch_costs_without_campaign_ids_leave_every_campaigns_spend_counted():
    """No touch can be tied to a campaign without touchpoints.campaign_id, so each campaign's
    spend is added to its channel's touch costs."""
    transactions = pl.LazyFrame({
        "order_id": ["o1", "o2"], "customer_id": ["a", "b"], "order_date": [D(2024, 1, 5), D(2024, 1, 7)],
        "amount": [100.0, 40.0], "channel": ["web", "web"],
    })
    campaigns = pl.LazyFrame({"campaign_id": ["C1"], "channel": ["email"], "spend": [10.0]})
    result = channels(transactions, touchpoints=same_day_touches([0, 1, 2]), campaigns=campaigns)
    rows = {r["channel"]: r for r in result.tables["channels"].iter_rows(named=True)}
    assert rows["email"]["cost"] == pytest.approx(1 + 10)
    assert rows["social"]["cost"] == pytest.approx(2)


def test_the_reduced_tables_in_several_passes_give_the_same_report(monkeypatch):
    """A large file is reduced in passes over disjoint customers (core.features' memory
    budget); every table must be the one a single pass gives."""
    from polars.testing import assert_frame_equal

    from core import features
    from core.workspace import Workspace

    ws = Workspace.open(SAMPLE)
    tables = {name: ws.scan(name) for name in ("transactions", "customers", "touchpoints", "survey", "campaigns")}
    one = channels(**tables)
    monkeypatch.setattr(features, "ROWS_PER_PASS", 10_000)  # the sample's 46k rows: five passes
    assert features.aggregation_passes(tables["transactions"]) > 1
    several = channels(**tables)
    assert one.headline == several.headline
    for name, table in one.tables.items():
        assert_frame_equal(table, several.tables[name])


@pytest.mark.parametrize("descending", [False, True])
def test_the_reduced_customer_table_matches_the_row_path_on_edge_cases(descending):
    """Two channels on a customer's last purchase day (the last channel is the first by
    name), returns only, a null channel, retained and lapsed customers: the customer table
    summed from the per-channel and per-day tables must equal core.features' row-by-row one.
    With the file reversed the order ids descend: the fast path then counts the distinct ids
    to check that no order starts twice, and must still be taken."""
    from polars.testing import assert_frame_equal

    from core.evaluate.channels import customer_table_from_days, parts_from_reduced, reduced_tables
    from core.evaluate.value import customer_table

    tx = pl.LazyFrame({
        "order_id": ["o1", "o2", "o3", "o4", "o5", "o6", "o7", "o8", "o9", "o9"],
        "customer_id": ["a", "a", "a", "b", "c", "c", "c", "d", "e", "e"],
        "order_date": [D(2023, 3, 1), D(2024, 6, 1), D(2024, 6, 1), D(2024, 5, 1), D(2022, 1, 1), D(2023, 2, 1),
                       D(2023, 9, 1), D(2024, 2, 1), D(2024, 6, 2), D(2024, 6, 2)],
        "amount": [10.0, 20.0, 5.0, -15.0, 30.0, 40.0, 50.0, 25.0, 60.0, 7.5],
        "channel": ["web", "web", "app", "store", "store", None, "web", "app", "store", "store"],
    })
    tx = tx.reverse() if descending else tx
    as_of = D(2024, 6, 2)
    reduced = reduced_tables(tx, as_of, True)
    assert reduced is not None
    parts = parts_from_reduced(reduced, True)
    fast = customer_table_from_days(parts["by_channel"], parts["purchases"], as_of, True, customers=None,
                                    survey=None, retention_days=365).collect()
    exact = customer_table(tx, as_of, retention_days=365).collect()
    assert_frame_equal(fast.sort("customer_id"), exact.sort("customer_id"))
    assert fast.filter(pl.col("customer_id") == "a")["last_channel"].item() == "app"
    # bought in the year before the last and again in the last: a (2023-03 and 2024-06), c (2023-02 and 2023-09)
    assert sorted(fast.filter(pl.col("retained"))["customer_id"].to_list()) == ["a", "c"]


@pytest.mark.parametrize(("rows_per_pass", "budget"), [(None, ""), (2, ""), (2, "16")])
def test_the_fast_path_is_taken_only_when_no_order_id_starts_twice(monkeypatch, rows_per_pass, budget):
    """Order ids of two systems interleaved in the file (each ascending, the text of one above
    the other's) are all distinct: the fast path is taken and counts the orders. An order id
    whose lines are apart in the file starts twice: the fast path is refused, in one pass or
    in several (where the distinct ids are counted after the passes, themselves in passes when
    the memory budget is small: 16 bytes, four passes for each start)."""
    from core import features
    from core.evaluate.channels import reduced_tables

    monkeypatch.setattr(features, "ROWS_PER_PASS", rows_per_pass)
    monkeypatch.setenv("LOYALIST_MEMORY_LIMIT", budget)
    interleaved = pl.LazyFrame({
        "order_id": ["O1", "O2", "PR-9", "PR-9", "O3", "PR-1"],
        "customer_id": ["a", "b", "a", "a", "c", "b"],
        "order_date": [D(2024, 1, 1)] * 6,
        "amount": [10.0, 20.0, 5.0, 6.0, 30.0, 40.0],
        "channel": ["web", "web", "web", "web", "store", "store"],
    })
    reduced = reduced_tables(interleaved, D(2024, 1, 1), True)
    assert reduced is not None
    assert reduced["by_channel"]["_orders"].sum() == 5
    # a's O1 again at the end: no adjacent line moves, yet an id starts twice
    apart = interleaved.with_columns(pl.Series("order_id", ["O1", "O2", "PR-9", "PR-9", "O3", "O1"]),
                                     pl.Series("customer_id", ["a", "b", "a", "a", "c", "a"]),
                                     pl.Series("channel", ["web", "web", "web", "web", "store", "web"]))
    assert reduced_tables(apart, D(2024, 1, 1), True) is None
    result = channels(apart)
    rows = {r["channel"]: r for r in result.tables["channels"].iter_rows(named=True)}
    assert rows["web"]["orders"] == 3 and rows["store"]["orders"] == 1  # O1, O2, PR-9; O3
    assert rows["web"]["aov"] == pytest.approx(81 / 3)


def test_grouping_on_the_packed_key_gives_the_groups_of_the_two_keys():
    """The reduction groups on one integer packing customer and channel (or customer and day):
    nulls, a day before 1970 and texts that differ only by case must stay groups of their own,
    and each key must come back as it was."""
    from polars.testing import assert_frame_equal

    from core.evaluate.channels import PackedKey

    rows = pl.LazyFrame({
        "customer_id": ["a", "a", None, "A", None, "b", "a", "b"],
        "channel": ["web", None, "web", "web", None, "web", "web", None],
        "order_date": [D(2024, 1, 1), D(1969, 12, 31), D(2024, 1, 1), D(1969, 12, 31), D(2024, 1, 1),
                       D(1900, 1, 1), D(2024, 1, 1), D(1900, 1, 1)],
        "amount": [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0],
    }).with_columns(pl.col("customer_id", "channel").cast(pl.Categorical))
    for keys in (("customer_id", "channel"), ("customer_id", "order_date")):
        packed = PackedKey(rows.collect_schema(), keys)
        got = rows.group_by(packed.key()).agg(pl.sum("amount")).select(*packed.unpacked(), "amount")
        want = rows.group_by(*keys).agg(pl.sum("amount"))
        assert_frame_equal(got.collect().sort(keys, nulls_last=True), want.collect().sort(keys, nulls_last=True))


def test_order_dates_as_datetimes_give_the_same_table():
    """A caller's frame with datetimes for order_date (the workspace gives dates) cannot be
    reduced on packed day numbers; the report takes the row-by-row path and gives the same
    channels table."""
    transactions, _, _ = small()
    as_dates = channels(transactions).tables["channels"]
    as_datetimes = channels(transactions.with_columns(pl.col("order_date").cast(pl.Datetime))).tables["channels"]
    assert as_datetimes.equals(as_dates)
