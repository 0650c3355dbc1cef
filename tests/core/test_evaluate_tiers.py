"""report tiers: movement, time in tier and retention on a hand-worked ledger."""

import datetime as dt

import polars as pl
import pytest

from core.errors import AnalysisError
from core.evaluate.tiers import tiers
from core.registry.run import run_analysis
from core.workspace import Workspace
from tests.conftest import SAMPLE

D = dt.date
# On 2024-06-30 (the start): A bronze, B gold, C silver, D silver; E has no tier yet.
# By 2024-12-31: A upgraded to silver (and earns), B downgraded to silver, C stays (no earning
# after the start), D went gold and back to silver (a stay, with two ended spells), E new in bronze.
LEDGER = pl.LazyFrame({
    "customer_id": ["A", "A", "B", "B", "C", "D", "D", "D", "E"],
    "date": [D(2024, 1, 1), D(2024, 8, 1), D(2024, 3, 1), D(2024, 9, 1), D(2024, 2, 1),
             D(2024, 1, 1), D(2024, 7, 1), D(2024, 10, 1), D(2024, 11, 1)],
    "points": [10.0] * 9,
    "kind": ["earn"] * 9,
    "tier": ["bronze", "silver", "gold", "silver", "silver", "silver", "gold", "silver", "bronze"],
})


@pytest.fixture(scope="module")
def hand():
    return tiers(LEDGER, start=D(2024, 6, 30), as_of=D(2024, 12, 31))


def test_movement_between_two_dates(hand):
    h = hand.headline
    assert (h["upgrades"], h["downgrades"], h["stays"], h["new_to_tiers"]) == (1, 1, 2, 1)
    assert h["upgrade_rate"] == pytest.approx(1 / 4)
    matrix = {r["from_tier"]: r for r in hand.tables["movement"].iter_rows(named=True)}
    assert list(matrix) == ["(none)", "bronze", "silver", "gold"]  # the known ladder, lowest first
    assert (matrix["bronze"]["silver"], matrix["gold"]["silver"], matrix["silver"]["silver"]) == (1, 1, 2)
    assert matrix["(none)"]["bronze"] == 1 and matrix["gold"]["customers"] == 1


def test_time_in_tier_and_retention(hand):
    spells = {r["tier"]: r for r in hand.tables["time_in_tier"].iter_rows(named=True)}
    # gold: B 2024-03-01 -> 09-01 (184 days), D 07-01 -> 10-01 (92 days); both ended.
    assert (spells["gold"]["spells"], spells["gold"]["spells_ended"]) == (2, 2)
    assert spells["gold"]["mean_days_of_ended_spells"] == (184 + 92) / 2
    assert spells["gold"]["median_days_in_tier"] == 92  # S drops to 0.5 at the shorter spell
    retained = {r["tier"]: (r["customers"], r["retained"]) for r in hand.tables["retention"].iter_rows(named=True)}
    assert retained == {"bronze": (1, 1), "silver": (2, 1), "gold": (1, 1)}  # C earned nothing after the start


def test_tier_order_and_bad_input():
    odd = LEDGER.with_columns(pl.col("tier").replace({"bronze": "blue", "silver": "red", "gold": "black"}))
    result = tiers(odd, start=D(2024, 6, 30), as_of=D(2024, 12, 31), order=["blue", "red", "black"])
    assert result.headline["upgrades"] == 1 and result.headline["downgrades"] == 1
    assert any("alphabetically" in n for n in tiers(odd, start=D(2024, 6, 30)).notes)
    with pytest.raises(AnalysisError, match="'black' are in the ledger but not in --order"):
        tiers(odd, order=["blue", "red"])
    with pytest.raises(AnalysisError, match="needs column"):
        tiers(LEDGER.drop("tier"))
    with pytest.raises(AnalysisError, match="not before the as-of date"):
        tiers(LEDGER, start=D(2025, 1, 1), as_of=D(2024, 12, 31))


def test_sample_tiers_move_both_ways():
    result = run_analysis("report.tiers", Workspace.open(SAMPLE), {})
    h = result.headline
    assert h["upgrades"] > h["downgrades"] > 0  # the sample's customers grow into tiers more than out
    assert result.tables["movement"]["customers"].sum() == h["customer_count"]
