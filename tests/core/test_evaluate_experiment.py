"""Experiment readout and plan calculator, checked against statsmodels and scipy."""

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import stats as st
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    proportions_ztest,
)
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttest_ind

from core.errors import AnalysisError, InputError, MissingTableError
from core.evaluate.experiment import experiment
from core.evaluate.plan import plan


def units(counts: dict[str, tuple[int, int]], name="e1", seed=0):
    """Units with exactly the given (units, conversions) per variant and random revenue."""
    rng = np.random.default_rng(seed)
    frames = []
    for variant, (n, x) in counts.items():
        converted = np.zeros(n, dtype=bool)
        converted[:x] = True
        revenue = np.where(converted, rng.gamma(2.0, 25.0 + 5 * len(frames), n), 0.0)
        frames.append(pl.DataFrame({
            "customer_id": [f"{variant}{i}" for i in range(n)], "experiment": name,
            "variant": variant, "converted": converted, "revenue": revenue,
        }))
    return pl.concat(frames)


def row(result, variant, table="comparisons"):
    return result.tables[table].filter(pl.col("variant") == variant).row(0, named=True)


def test_conversion_comparison_matches_statsmodels():
    data = units({"control": (2000, 200), "treatment": (2100, 252)})
    result = experiment(data.lazy(), interval="wald")
    r = row(result, "treatment")
    _, p = proportions_ztest([252, 200], [2100, 2000])  # pooled by default
    lo, hi = confint_proportions_2indep(252, 2100, 200, 2000, compare="diff", method="wald")
    rlo, rhi = confint_proportions_2indep(252, 2100, 200, 2000, compare="ratio", method="log")
    assert r["baseline"] == "control"
    assert r["diff"] == pytest.approx(252 / 2100 - 0.1)
    assert r["p_value"] == pytest.approx(p, rel=1e-10)
    assert (r["diff_ci_low"], r["diff_ci_high"]) == pytest.approx((lo, hi), rel=1e-10)
    assert r["relative_lift"] == pytest.approx((252 / 2100) / 0.1 - 1)
    assert (r["relative_lift_ci_low"], r["relative_lift_ci_high"]) == pytest.approx((rlo - 1, rhi - 1), rel=1e-9)


def test_revenue_comparison_is_welch_as_statsmodels_computes_it():
    data = units({"control": (300, 60), "treatment": (250, 70)}, seed=3)
    result = experiment(data.lazy(), confidence=0.9)
    a = data.filter(pl.col("variant") == "treatment")["revenue"].to_numpy()
    b = data.filter(pl.col("variant") == "control")["revenue"].to_numpy()
    _, p, _ = ttest_ind(a, b, usevar="unequal")
    lo, hi = CompareMeans(DescrStatsW(a), DescrStatsW(b)).tconfint_diff(alpha=0.1, usevar="unequal")
    r = row(result, "treatment")
    assert r["revenue_diff"] == pytest.approx(a.mean() - b.mean())
    assert r["revenue_p_value"] == pytest.approx(p, rel=1e-9)
    assert (r["revenue_diff_ci_low"], r["revenue_diff_ci_high"]) == pytest.approx((lo, hi), rel=1e-9)


def test_several_variants_get_holm_adjusted_p_values():
    data = units({"A": (1000, 100), "B": (1000, 130), "C": (1000, 118), "D": (1000, 104)})
    result = experiment(data.lazy())
    comparisons = result.tables["comparisons"].sort("variant")
    assert comparisons["baseline"].unique().to_list() == ["A"]  # "A" names the control
    expected = multipletests(comparisons["p_value"].to_numpy(), method="holm")[1]
    assert comparisons["p_value_holm"].to_numpy() == pytest.approx(expected, rel=1e-12)
    assert comparisons["significant"].to_list() == list(expected < 0.05)


def test_sample_ratio_mismatch_against_the_planned_split():
    data = units({"control": (5300, 500), "treatment": (4700, 470)})
    even = experiment(data.lazy())
    _, p_even = st.chisquare([5300, 4700])
    assert even.tables["srm"]["p_value"][0] == pytest.approx(p_even, rel=1e-10)
    assert row(even, "treatment")["srm_p_value"] == pytest.approx(p_even, rel=1e-10)
    assert even.headline["sample_ratio_mismatch"] == ["e1"]
    assert any("SAMPLE RATIO MISMATCH" in n for n in even.notes)
    planned = experiment(data.lazy(), split={"control": 53, "treatment": 47})
    _, p_planned = st.chisquare([5300, 4700], [5300, 4700])
    assert planned.tables["srm"]["p_value"][0] == pytest.approx(p_planned)
    assert planned.headline["sample_ratio_mismatch"] == []


def test_real_lift_is_significant_and_a_a_test_is_not():
    rng = np.random.default_rng(11)
    n = 8000
    frames = []
    for name, lift in (("real", 0.03), ("aa", 0.0)):
        variant = rng.choice(["control", "treatment"], n)
        converted = rng.random(n) < np.where(variant == "treatment", 0.10 + lift, 0.10)
        frames.append(pl.DataFrame({"customer_id": [f"{name}{i}" for i in range(n)], "experiment": name,
                                    "variant": variant, "converted": converted}))
    result = experiment(pl.concat(frames).lazy())
    verdict = dict(zip(result.tables["comparisons"]["experiment"], result.tables["comparisons"]["significant"]))
    assert verdict == {"real": True, "aa": False}
    assert "revenue_p_value" not in result.tables["comparisons"].columns  # no revenue measured
    assert result.headline["significant"] == 1


def test_outcomes_from_transactions_after_exposure():
    d = dt.date
    assignments = pl.LazyFrame({
        "customer_id": ["1", "2", "3", "4"], "experiment": "promo",
        "variant": ["control", "control", "treatment", "treatment"],
        "exposure_date": [d(2024, 3, 1)] * 4,
    })
    transactions = pl.LazyFrame({
        "customer_id": ["1", "2", "3", "3", "4"],
        "order_date": [d(2024, 2, 20), d(2024, 3, 5), d(2024, 3, 1), d(2024, 3, 20), d(2024, 4, 15)],
        "amount": [10.0, 20.0, 30.0, 5.0, 40.0],
    })
    result = experiment(assignments, transactions, window_days=30)
    variants = {r["variant"]: r for r in result.tables["variants"].iter_rows(named=True)}
    # 1 bought before exposure, 4 after the 30-day window: neither counts.
    assert variants["control"]["conversions"] == 1 and variants["control"]["revenue"] == 20
    assert variants["treatment"]["conversions"] == 1 and variants["treatment"]["revenue"] == 35


def test_clear_errors():
    with pytest.raises(MissingTableError, match="experiments"):
        experiment(None, workspace="shop")
    data = units({"control": (10, 1), "treatment": (10, 2)})
    with pytest.raises(InputError, match="no variant 'B'"):
        experiment(data.lazy(), control="B")
    with pytest.raises(AnalysisError, match="only one variant"):
        experiment(data.filter(pl.col("variant") == "control").lazy())
    with pytest.raises(AnalysisError, match="converted"):
        experiment(data.drop("converted").lazy())
    with pytest.raises(AnalysisError, match="no units"):
        experiment(data.lazy(), experiment="nope")


def test_zero_baseline_gives_unknown_lift_not_a_number():
    result = experiment(units({"control": (50, 0), "treatment": (50, 5)}).lazy())
    r = row(result, "treatment")
    assert r["relative_lift"] is None and r["relative_lift_ci_low"] is None
    assert r["p_value"] is not None


def test_plan_matches_statsmodels_power():
    result = plan(0.10, 0.10, alpha=0.05, power_target=0.8, units=5000)
    h = proportion_effectsize(0.11, 0.10)
    n = NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8, ratio=1)
    assert result.headline["units_control"] == int(np.ceil(n))
    assert result.headline["units_total"] == 2 * int(np.ceil(n))
    assert result.headline["power_at_units"] == pytest.approx(
        NormalIndPower().power(effect_size=h, nobs1=5000, alpha=0.05), rel=1e-9)
    mde_h = proportion_effectsize(result.headline["mde_rate"], 0.10)
    assert NormalIndPower().power(effect_size=mde_h, nobs1=5000, alpha=0.05) == pytest.approx(0.8, rel=1e-9)
    # statsmodels' own solver stops at a looser tolerance.
    assert mde_h == pytest.approx(NormalIndPower().solve_power(nobs1=5000, alpha=0.05, power=0.8), rel=1e-4)
    uneven = plan(0.05, 0.01, relative=False, power_target=0.9, alpha=0.01, ratio=2)
    h2 = proportion_effectsize(0.06, 0.05)
    n2 = NormalIndPower().solve_power(effect_size=h2, alpha=0.01, power=0.9, ratio=2)
    assert uneven.headline["units_control"] == int(np.ceil(n2))
    assert uneven.headline["units_variant"] == int(np.ceil(2 * np.ceil(n2) - 1e-9))
    sizes = result.tables["sample_sizes"]
    assert sizes["units_control"].is_sorted(descending=True)  # bigger lifts need fewer units


def test_plan_rejects_impossible_inputs():
    with pytest.raises(InputError, match="baseline"):
        plan(1.5, 0.1)
    with pytest.raises(InputError, match="target rate"):
        plan(0.6, 1.0)


def pre_period_units(n=600, seed=5, shift=4.0):
    """Revenue that follows last quarter's spend (rho ~ 0.8) plus a treatment effect."""
    rng = np.random.default_rng(seed)
    pre = rng.gamma(2.0, 30.0, 2 * n)
    treated = np.repeat([False, True], n)
    revenue = 10 + 0.6 * pre + rng.normal(0, 15, 2 * n) + shift * treated
    return pl.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(2 * n)], "experiment": "e1",
        "variant": np.where(treated, "treatment", "control"), "converted": revenue > 40,
        "revenue": revenue, "spend_last_quarter": pre,
    })


def test_cuped_is_the_regression_adjusted_estimate_statsmodels_gives():
    import statsmodels.api as sm

    data = pre_period_units()
    y, x = data["revenue"].to_numpy(), data["spend_last_quarter"].to_numpy()
    treated = (data["variant"] == "treatment").to_numpy()
    # θ as statsmodels fits it: the slope of revenue on the covariate over all units.
    theta = sm.OLS(y, sm.add_constant(x)).fit().params[1]
    adjusted = y - theta * (x - x.mean())
    lo, hi = CompareMeans(DescrStatsW(adjusted[treated]), DescrStatsW(adjusted[~treated])).tconfint_diff(
        alpha=0.05, usevar="unequal")
    _, p, _ = ttest_ind(adjusted[treated], adjusted[~treated], usevar="unequal")
    result = experiment(data.lazy(), covariate="spend_last_quarter")
    r = row(result, "treatment")
    assert r["revenue_diff"] == pytest.approx(adjusted[treated].mean() - adjusted[~treated].mean(), rel=1e-10)
    assert (r["revenue_diff_ci_low"], r["revenue_diff_ci_high"]) == pytest.approx((lo, hi), rel=1e-9)
    assert r["revenue_p_value"] == pytest.approx(p, rel=1e-6)
    assert r["revenue_diff_unadjusted"] == pytest.approx(y[treated].mean() - y[~treated].mean())
    # ...and it is the ANCOVA estimate: OLS of revenue on treatment + centred covariate.
    # (Equal to the last digit when both arms have the same covariate mean; close otherwise.)
    ols = sm.OLS(y, sm.add_constant(np.column_stack([treated, x - x.mean()]))).fit()
    se = (r["revenue_diff_ci_high"] - r["revenue_diff_ci_low"]) / (2 * st.t.ppf(0.975, 2 * 600 - 2))
    assert r["revenue_diff"] == pytest.approx(ols.params[1], abs=0.05 * ols.bse[1])
    assert se == pytest.approx(ols.bse[1], rel=0.02)
    raw = row(experiment(data.lazy()), "treatment")
    assert (hi - lo) < 0.7 * (raw["revenue_diff_ci_high"] - raw["revenue_diff_ci_low"])
    assert any("CUPED on spend_last_quarter" in n and "lower" in n for n in result.notes)


def test_cuped_equals_ancova_when_the_arms_share_the_covariate():
    import statsmodels.api as sm

    data = pre_period_units(n=400, seed=8)
    pre = data["spend_last_quarter"].to_numpy()
    data = data.with_columns(pl.Series("spend_last_quarter", np.concatenate([pre[:400], pre[:400]])))
    y, x = data["revenue"].to_numpy(), data["spend_last_quarter"].to_numpy()
    treated = (data["variant"] == "treatment").to_numpy()
    ols = sm.OLS(y, sm.add_constant(np.column_stack([treated, x - x.mean()]))).fit()
    r = row(experiment(data.lazy(), covariate="spend_last_quarter"), "treatment")
    assert r["revenue_diff"] == pytest.approx(ols.params[1], rel=1e-10)
    # Welch's and OLS's standard errors differ only by one residual degree of freedom here.
    se = (r["revenue_diff_ci_high"] - r["revenue_diff_ci_low"]) / (2 * st.t.ppf(0.975, 798))
    assert se == pytest.approx(ols.bse[1] * np.sqrt(797 / 798), rel=1e-3)


def test_cuped_pre_revenue_from_transactions_before_exposure():
    d = dt.date
    assignments = pl.LazyFrame({
        "customer_id": ["1", "2", "3", "4"], "experiment": "promo",
        "variant": ["control", "control", "treatment", "treatment"],
        "exposure_date": [d(2024, 3, 1)] * 4,
    })
    transactions = pl.LazyFrame({
        "customer_id": ["1", "2", "3", "4", "1", "2", "3", "4"],
        "order_date": [d(2024, 2, 10), d(2024, 2, 20), d(2024, 2, 25), d(2023, 6, 1)]
        + [d(2024, 3, 5)] * 4,
        "amount": [10.0, 20.0, 30.0, 99.0, 12.0, 21.0, 35.0, 4.0],
    })
    result = experiment(assignments, transactions, window_days=30, covariate="pre_revenue")
    # Spend before exposure (4's order is out of the 30-day window): 10, 20, 30, 0.
    x, y = np.array([10.0, 20.0, 30.0, 0.0]), np.array([12.0, 21.0, 35.0, 4.0])
    theta = np.polyfit(x, y, 1)[0]
    adjusted = y - theta * (x - x.mean())
    r = row(result, "treatment")
    assert r["revenue_diff"] == pytest.approx(adjusted[2:].mean() - adjusted[:2].mean(), rel=1e-10)


def test_cuped_refuses_what_it_cannot_use():
    data = pre_period_units(n=20)
    with pytest.raises(InputError, match="no covariate column 'pre_spend'"):
        experiment(data.lazy(), covariate="pre_spend")
    with pytest.raises(InputError, match="not numeric"):
        experiment(data.with_columns(pl.lit("x").alias("tier")).lazy(), covariate="tier")
    holes = data.with_columns(pl.when(pl.int_range(pl.len()) < 3).then(None)
                              .otherwise(pl.col("spend_last_quarter")).alias("spend_last_quarter"))
    with pytest.raises(InputError, match="empty on 3 experiments rows"):
        experiment(holes.lazy(), covariate="spend_last_quarter")
    with pytest.raises(InputError, match="exposure_date"):
        experiment(data.lazy(), covariate="pre_revenue")


@pytest.mark.parametrize("counts", [
    {"control": (40, 0), "treatment": (45, 3)},   # no conversion in the control
    {"control": (30, 0), "treatment": (30, 0)},   # none anywhere
    {"control": (12, 5), "treatment": (9, 0)},
    {"control": (2000, 200), "treatment": (2100, 252)},
])
@pytest.mark.parametrize(("interval", "statsmodels_method"), [
    ("newcombe", "newcomb"), ("wald", "wald"), ("agresti-caffo", "agresti-caffo")])
def test_each_interval_method_matches_statsmodels(counts, interval, statsmodels_method):
    (nc, xc), (nt, xt) = counts["control"], counts["treatment"]
    r = row(experiment(units(counts).lazy(), interval=interval, confidence=0.9), "treatment")
    lo, hi = confint_proportions_2indep(xt, nt, xc, nc, compare="diff", method=statsmodels_method, alpha=0.1)
    assert (r["diff_ci_low"], r["diff_ci_high"]) == pytest.approx((lo, hi), rel=1e-9, abs=1e-12)


def test_newcombe_is_the_default_and_wald_collapses_with_zero_conversions():
    data = units({"control": (40, 0), "treatment": (45, 3)})
    default = experiment(data.lazy())
    r = row(default, "treatment")
    lo, hi = confint_proportions_2indep(3, 45, 0, 40, compare="diff", method="newcomb")
    assert (r["diff_ci_low"], r["diff_ci_high"]) == pytest.approx((lo, hi), rel=1e-9)
    assert any("Newcombe" in n for n in default.notes) and default.params["interval"] == "newcombe"
    wald = row(experiment(data.lazy(), interval="wald"), "treatment")
    assert wald["diff_ci_high"] - wald["diff_ci_low"] < 0.8 * (hi - lo)  # too sure of itself
    with pytest.raises(InputError, match="unknown interval method 'exact'"):
        experiment(data.lazy(), interval="exact")


def savvi_readout(y: np.ndarray, treated: np.ndarray, confidence: float):
    """savvi's anytime-valid linear model (Lindon et al.'s own package), fed unit by unit."""
    from savvi.linear_regression import LinearRegression

    model = LinearRegression(alpha=1 - confidence, p=2, phi=100.0)
    for value, arm in zip(y, treated):
        model.update(np.array([value, 1.0, float(arm)]))
    return model.calculate_p_value()[1], model.calculate_conf_int()[1]


def test_sequential_test_matches_savvi_for_conversions_and_revenue():
    pytest.importorskip("savvi")
    data = units({"control": (900, 90), "treatment": (950, 124)}, seed=4)
    treated = (data["variant"] == "treatment").to_numpy()
    result = experiment(data.lazy(), sequential=True, confidence=0.9)
    r = row(result, "treatment")
    p, (lo, hi) = savvi_readout(data["converted"].to_numpy().astype(float), treated, 0.9)
    # savvi's recursive least squares starts from a vague prior (1e6): agreement to ~1e-6.
    assert r["sequential_p_value"] == pytest.approx(p, rel=1e-5)
    assert (r["sequential_diff_ci_low"], r["sequential_diff_ci_high"]) == pytest.approx((lo, hi), rel=1e-5)
    rp, (rlo, rhi) = savvi_readout(data["revenue"].to_numpy(), treated, 0.9)
    assert r["revenue_sequential_p_value"] == pytest.approx(rp, rel=1e-5)
    assert (r["revenue_sequential_ci_low"], r["revenue_sequential_ci_high"]) == pytest.approx((rlo, rhi), rel=1e-5)
    # The price of peeking: wider than the fixed-horizon interval, and it decides.
    assert hi - lo > r["diff_ci_high"] - r["diff_ci_low"]
    assert r["significant"] == (r["sequential_p_value_holm"] < 0.1)
    assert any("anytime-valid" in n for n in result.notes)


def test_peeking_every_day_at_an_a_a_test_rarely_fools_the_sequential_test():
    # 200 A/A experiments read after every 100 units: the fixed-horizon p-value dips under
    # 0.05 at some look far more often than 5%; the anytime-valid one does not.
    from core.evaluate import stats

    rng = np.random.default_rng(12)
    fooled_fixed = fooled_sequential = 0
    for _ in range(200):
        y = rng.normal(0, 1, (2, 3000))
        looks = np.arange(100, 3001, 100)
        means = np.array([[y[a, :k].mean() for k in looks] for a in (0, 1)])
        sds = np.array([[y[a, :k].var(ddof=1) for k in looks] for a in (0, 1)])
        p_fixed = stats.welch(means[1], sds[1], looks, means[0], sds[0], looks, 0.95)[5]
        p_seq = stats.anytime_valid_t(means[1], sds[1], looks, means[0], sds[0], looks, 0.95)[3]
        fooled_fixed += bool((p_fixed < 0.05).any())
        fooled_sequential += bool((p_seq < 0.05).any())
    assert fooled_fixed > 0.15 * 200
    assert fooled_sequential <= 0.05 * 200
