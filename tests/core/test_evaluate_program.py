"""Loyalty program: matching against brute force, and a planted lift recovered."""

import datetime as dt

import numpy as np
import polars as pl
import pytest
from statsmodels.stats.weightstats import ttest_ind

from core.errors import AnalysisError, InputError, MissingTableError
from core.evaluate.matching import FEATURES, nearest_match
from core.evaluate.program import program

START, DAYS = dt.date(2021, 1, 1), 3 * 365
LIFT = 0.30


def shop(seed=1, n=1500, lift=LIFT):
    """Customers buying at their own steady rate; keener ones join more often, and after
    joining they buy `lift` more often (the program's true effect)."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(2.0, 1 / 40, n)  # purchases per day
    first = rng.integers(0, 300, n)
    member = rng.random(n) < np.clip(rate * 12, 0.05, 0.9)  # self-selection on the rate
    join = np.where(member, rng.integers(420, 900, n), DAYS + 1)
    pre = rng.poisson(rate * (np.minimum(join, DAYS) - first))
    post = rng.poisson(rate * (1 + lift) * np.maximum(DAYS - join, 0))
    cust = np.concatenate([np.repeat(np.arange(n), pre), np.repeat(np.arange(n), post)])
    lo = np.concatenate([np.repeat(first, pre), np.repeat(join, post)])
    hi = np.concatenate([np.repeat(np.minimum(join, DAYS), pre), np.repeat(np.full(n, DAYS), post)])
    day = (lo + rng.random(lo.size) * (hi - lo)).astype(int)
    ids = np.array([f"c{i}" for i in range(n)])
    # Everybody buys on their first day, so each customer has a history.
    cust, day = np.concatenate([np.arange(n), cust]), np.concatenate([first, day])
    transactions = pl.DataFrame({
        "customer_id": ids[cust],
        "order_date": pl.Series(day).map_elements(lambda d: START + dt.timedelta(days=int(d)), pl.Date),
        "amount": np.round(rng.gamma(2.0, 25.0, cust.size), 2),
    })
    customers = pl.DataFrame({
        "customer_id": ids, "is_member": member,
        "member_since": [START + dt.timedelta(days=int(j)) if m else None for j, m in zip(join, member)],
    })
    return transactions.lazy(), customers.lazy()


@pytest.fixture(scope="module")
def planted():
    transactions, customers = shop()
    return transactions, customers, program(transactions, customers, post_days=180, program_cost=5000.0)


def test_matched_lift_recovers_the_planted_lift_and_raw_overstates_it(planted):
    _, _, result = planted
    lift = {r["outcome"]: r for r in result.tables["lift"].iter_rows(named=True)}
    orders = lift["purchase_days"]
    assert orders["matched_relative_lift"] == pytest.approx(LIFT, abs=0.12)
    low, high = orders["matched_lift_ci_low"], orders["matched_lift_ci_high"]
    assert low / orders["matched_mean"] < LIFT < high / orders["matched_mean"]
    assert orders["raw_relative_lift"] > 1.0  # the keen self-select: raw says far more
    spend = lift["spend"]
    assert spend["matched_relative_lift"] == pytest.approx(LIFT, abs=0.15)  # order values unchanged
    assert result.headline["matched_spend_lift_relative"] == spend["matched_relative_lift"]
    # Matching makes members and their comparison customers alike before joining.
    balance = result.tables["balance"]
    assert balance["std_mean_diff_matched"].abs().sum() < balance["std_mean_diff"].abs().sum() / 2
    pre = balance.filter(pl.col("feature").str.starts_with("pre_"))
    assert pre["std_mean_diff_matched"].abs().max() < 0.1
    assert result.params["comparison"] == "future_members"


def test_never_members_as_comparison_also_work_without_dropout(planted):
    transactions, customers, _ = planted
    result = program(transactions, customers, post_days=180, comparison="non_members")
    orders = result.tables["lift"].filter(pl.col("outcome") == "purchase_days").row(0, named=True)
    assert orders["matched_relative_lift"] == pytest.approx(LIFT, abs=0.15)


def test_raw_comparison_and_roi(planted):
    transactions, customers, result = planted
    people = (transactions.group_by("customer_id").agg(pl.sum("amount"))
              .join(customers, on="customer_id").collect())
    a = people.filter(pl.col("is_member"))["amount"].to_numpy()
    b = people.filter(~pl.col("is_member"))["amount"].to_numpy()
    _, p, _ = ttest_ind(a, b, usevar="unequal")
    spend = result.tables["members_vs_non_members"].filter(pl.col("metric") == "spend").row(0, named=True)
    assert (spend["members"], spend["non_members"]) == pytest.approx((a.mean(), b.mean()))
    assert spend["p_value"] == pytest.approx(p, rel=1e-6)
    assert result.headline["participation_rate"] == pytest.approx(a.size / people.height)
    lift = result.tables["lift"].row(0, named=True)["matched_lift"]
    yearly = lift * 365 / 180 * a.size
    assert result.headline["roi"] == pytest.approx((yearly - 5000) / 5000)


def test_nearest_match_against_brute_force():
    rng = np.random.default_rng(3)
    def frame(n, shift):
        x = rng.gamma(2.0, 2.0 + shift, (n, len(FEATURES)))
        return pl.DataFrame({f: x[:, i] for i, f in enumerate(FEATURES)}).with_columns(
            pl.Series("y", rng.normal(10 + shift, 1, n)))
    treated, control = frame(40, 1.0), frame(200, 0.0)
    m = nearest_match(treated, control, "y")
    xt, xc = (np.log1p(f.select(FEATURES).to_numpy()) for f in (treated, control))
    scale = np.vstack([xt, xc]).std(axis=0)
    d = (((xt[:, None, :] - xc[None, :, :]) / scale) ** 2).sum(axis=2)
    nearest = d.argmin(axis=1)
    diffs = treated["y"].to_numpy() - control["y"].to_numpy()[nearest]
    assert m.effect == pytest.approx(diffs.mean())
    assert m.se == pytest.approx(diffs.std(ddof=1) / np.sqrt(diffs.size))
    assert m.n_controls == np.unique(nearest).size


def test_without_join_dates_only_the_raw_comparison():
    transactions, customers = shop(n=300)
    result = program(transactions, customers.drop("member_since"))
    assert "lift" not in result.tables
    assert any("member_since" in n for n in result.notes)


def test_clear_errors():
    transactions, customers = shop(n=200)
    with pytest.raises(MissingTableError, match="customers"):
        program(transactions, None, workspace="shop")
    with pytest.raises(AnalysisError, match="is_member"):
        program(transactions, customers.select("customer_id"))
    with pytest.raises(AnalysisError, match="needs program members; this data has none"):
        program(transactions, customers.with_columns(pl.lit(False).alias("is_member")))
    # the customers table writes its ids otherwise ("C-c1"): its members never meet a buyer
    with pytest.raises(InputError, match=r"none of the \d+ program members in the customers table") as err:
        program(transactions, customers.with_columns(("C-" + pl.col("customer_id")).alias("customer_id")))
    assert err.value.column == "customer_id" and "prefixes, leading zeros" in err.value.fix


def test_retention_flags_count_only_purchases_inside_each_window():
    """customer_table's in_base and retained, by hand: the earlier window is (as_of - 730,
    as_of - 365], the later one (as_of - 365, as_of]; a return, a zero or a blank amount is
    no purchase, and nothing after as_of counts."""
    from core.evaluate.value import customer_table

    as_of = dt.date(2024, 12, 31)
    later, earlier = as_of - dt.timedelta(days=365), as_of - dt.timedelta(days=730)
    day = dt.timedelta(days=1)
    rows = [
        ("both", later, 10.0), ("both", as_of, 5.0),  # the earlier window's last day, then the later one
        ("only_earlier", earlier + day, 10.0),
        ("edge_before", earlier, 10.0), ("edge_before", as_of, 10.0),  # before the earlier window
        ("later_only", later + day, 10.0),
        ("returned", later - day, -10.0), ("returned", as_of, 10.0),
        ("zero", later - day, 0.0), ("zero", as_of, 10.0),
        ("blank", later - day, None), ("blank", as_of, 10.0),
        ("future", later - day, 10.0), ("future", as_of + day, 10.0),  # the later purchase is after as_of
    ]
    tx = pl.DataFrame(rows, schema={"customer_id": pl.String, "order_date": pl.Date, "amount": pl.Float64},
                      orient="row")
    table = customer_table(tx.lazy(), as_of).collect()
    flags = {r["customer_id"]: (r["in_base"], r["retained"]) for r in table.iter_rows(named=True)}
    assert flags == {
        "both": (True, True), "only_earlier": (True, False), "edge_before": (False, None),
        "later_only": (False, None), "returned": (False, None), "zero": (False, None),
        "blank": (False, None), "future": (True, False),
    }
