"""report points: a hand-worked ledger gives every figure exactly; Kaplan-Meier matches
statsmodels; on the sample the planted ledger's totals, liability and earn rates come back."""

import datetime as dt
import json

import numpy as np
import polars as pl
import pytest

from core.errors import AnalysisError, MissingTableError
from core.evaluate.points import kaplan_meier, points
from core.registry.run import run_analysis
from core.workspace import Workspace
from tests.conftest import SAMPLE

D = dt.date
# C1: earns 100 on O1, a 50 bonus, redeems 120 (written as +120), loses 10 in a correction.
# C2: earns 200 on O2, all of it expires. C3: earns 300 on O3, redeems 100 ten days later.
# C4: redeems 50 without ever earning (a data fault: balance -50).
LEDGER = pl.LazyFrame({
    "customer_id": ["C1", "C1", "C1", "C1", "C2", "C2", "C3", "C3", "C4"],
    "date": [D(2024, 1, 1), D(2024, 1, 10), D(2024, 2, 1), D(2024, 3, 1), D(2024, 1, 5), D(2024, 6, 1),
             D(2024, 2, 1), D(2024, 2, 11), D(2024, 3, 1)],
    "points": [100.0, 50, 120, -10, 200, -200, 300, -100, -50],
    "kind": ["earn", "adjust", "redeem", "adjust", "earn", "expire", "earn", "Redeem", "兑换"],
    "order_id": ["O1", None, None, None, "O2", None, "O3", None, None],
    "tier": ["silver", "silver", "silver", "silver", "gold", "gold", "silver", "silver", None],
})
TX = pl.LazyFrame({"customer_id": ["C1", "C2", "C3"], "order_id": ["O1", "O2", "O3"],
                   "order_date": [D(2024, 1, 1), D(2024, 1, 5), D(2024, 2, 1)], "amount": [100.0, 100.0, 150.0]})
AS_OF = D(2024, 6, 30)


@pytest.fixture(scope="module")
def hand():
    return points(LEDGER, TX, point_value=0.5, as_of=AS_OF)


def test_hand_worked_totals_balance_and_liability(hand):
    h = hand.headline
    assert (h["points_issued"], h["points_redeemed"], h["points_expired"], h["points_adjusted_out"]) == \
        (650, 270, 200, 10)
    assert h["points_outstanding"] == 220  # 20 + 0 + 200; C4's -50 is not an asset
    assert h["liability"] == 110.0
    assert h["burn_rate"] == pytest.approx(270 / 650, abs=1e-12)
    assert h["breakage_rate"] == pytest.approx(200 / 650, abs=1e-12)
    assert h["used_points_expired_share"] == pytest.approx(200 / 470, abs=1e-12)
    assert h["liability_after_breakage"] == pytest.approx(110 * 270 / 470, abs=1e-12)
    assert h["redeemers"] == 3 and h["redemption_rate"] == pytest.approx(2 / 3)
    assert h["points_per_unit_spent"] == pytest.approx(600 / 350)
    assert any("1 customer(s) have a negative balance" in n for n in hand.notes)
    balances = dict(hand.tables["customers"].select("customer_id", "balance").iter_rows())
    assert balances == {"C1": 20, "C2": 0, "C3": 200, "C4": -50}


def test_hand_worked_breakdowns(hand):
    tiers = {r["tier"]: r for r in hand.tables["by_tier"].iter_rows(named=True)}
    assert (tiers["silver"]["customers"], tiers["silver"]["issued"], tiers["silver"]["outstanding"]) == (2, 450, 220)
    assert tiers["silver"]["points_per_unit_spent"] == pytest.approx(400 / 250)
    assert tiers["gold"]["breakage_rate"] == 1.0 and tiers["gold"]["points_per_unit_spent"] == 2.0
    month = hand.tables["by_month"].select("month", "issued", "redeemed", "net", "closing_balance")
    assert month.rows() == [(D(2024, 1, 1), 350, 0, 350, 350), (D(2024, 2, 1), 300, 220, 80, 430),
                            (D(2024, 3, 1), 0, 50, -60, 370), (D(2024, 6, 1), 0, 0, -200, 170)]
    bands = dict(hand.tables["balances"].select("band", "customers").iter_rows())
    assert bands == {"negative": 1, "0": 1, "1 to <100": 1, "100 to <500": 1, "500 to <1,000": 0,
                     "1,000 to <5,000": 0, "5,000+": 0}


def test_hand_worked_time_to_first_redemption(hand):
    # From the first issued points: C3 redeems after 10 days, C1 after 31, C2 censored at 177.
    km = {r["days"]: r["redeemed_share"] for r in hand.tables["first_redemption"].iter_rows(named=True)}
    assert km[30] == pytest.approx(1 / 3) and km[90] == pytest.approx(2 / 3) and km[365] == pytest.approx(2 / 3)
    assert hand.headline["median_days_to_first_redemption"] == 31


def test_kaplan_meier_matches_statsmodels():
    from statsmodels.duration.survfunc import SurvfuncRight

    rng = np.random.default_rng(3)
    durations = rng.integers(0, 60, 300).astype(float)
    events = rng.random(300) < 0.6
    times, at_risk, d, surv = kaplan_meier(durations, events)
    ref = SurvfuncRight(durations, events.astype(int))
    np.testing.assert_allclose(times, ref.surv_times)
    np.testing.assert_allclose(surv, ref.surv_prob, atol=1e-12)
    np.testing.assert_array_equal(at_risk, ref.n_risk)


def test_as_of_leaves_later_rows_out():
    early = points(LEDGER, TX, as_of=D(2024, 1, 31))
    assert early.headline["points_issued"] == 350 and early.headline["points_redeemed"] == 0


def test_bad_inputs_are_clear():
    with pytest.raises(MissingTableError):
        points(None)
    with pytest.raises(AnalysisError, match="point-value"):
        points(LEDGER, point_value=0)
    with pytest.raises(AnalysisError, match="--by 'nope'"):
        points(LEDGER, TX, by="nope")
    with pytest.raises(AnalysisError, match="needs customers with points on or before 2020-01-01; this data has none"):
        points(LEDGER, as_of=D(2020, 1, 1))


@pytest.fixture(scope="module")
def sample():
    return run_analysis("report.points", Workspace.open(SAMPLE), {"by": "segment"})


def test_sample_recovers_the_planted_ledger(sample):
    truth = json.loads((SAMPLE / "truth" / "truth.json").read_text())
    real, planted = truth["realised"]["points"], truth["planted"]["points"]
    h = sample.headline
    assert h["points_outstanding"] == real["outstanding"]
    assert h["liability"] == real["liability"]  # at the default point value, the planted 0.01
    assert h["point_value"] == planted["point_value"]
    assert h["points_issued"] == real["earned"] + real["adjusted"]
    assert h["breakage_rate"] == pytest.approx(real["expired"] / (real["earned"] + real["adjusted"]), abs=1e-12)
    assert h["redeemers"] == real["redeemers"]
    # Earn rates per tier: the planted multipliers, less what flooring each order's points loses.
    tiers = dict(sample.tables["by_tier"].select("tier", "points_per_unit_spent").iter_rows())
    for tier, multiplier in zip(planted["tiers"], planted["tier_multipliers"]):
        assert multiplier * 0.98 < tiers[tier] <= multiplier


def test_sample_breaks_down_by_segment_and_compares_redeemers(sample):
    by = sample.tables["by_segment"]
    assert by["customers"].sum() <= sample.headline["customer_count"] and "Champions" in by["segment"].to_list()
    compared = sample.tables["redeemers_vs_non_redeemers"]
    assert compared["outcome"].to_list() == ["spend", "purchase_days"]
    assert compared["n_redeemers"][0] >= 20
    assert any("association after matching" in n for n in sample.notes)
