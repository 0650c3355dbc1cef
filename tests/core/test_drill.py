"""core.drill: the customers behind a report row, checked against pandas on the sample's files."""

import pandas as pd
import pytest

from core.drill import customers_behind, drill_column
from core.errors import InputError
from core.registry import run_analysis
from core.workspace import Workspace
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return Workspace.open(SAMPLE)


@pytest.fixture(scope="module")
def tx() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "transactions.csv", parse_dates=["order_date"], dtype={"customer_id": str})


def ids(result) -> set[str]:
    return set(result.tables["customers"]["customer_id"].to_list())


def test_a_channel_row_lists_its_buyers(ws, tx) -> None:
    report = run_analysis("report.channels", ws)
    row = report.tables["channels"].filter(report.tables["channels"]["channel"] == "store").row(0, named=True)
    drilled = customers_behind(report, "channels", row, ws)
    as_of = pd.Timestamp(report.params["as_of"])
    buys = tx[(tx.channel == "store") & (tx.amount > 0) & (tx.order_date <= as_of)]
    assert ids(drilled) == set(buys.customer_id)
    assert drilled.tables["customers"].height == row["customers"]  # the row's own figure
    top = drilled.tables["customers"].row(0, named=True)
    theirs = tx[(tx.channel == "store") & (tx.order_date <= as_of) & (tx.customer_id == top["customer_id"])]
    assert top["orders"] == theirs[theirs.amount > 0].order_id.nunique()
    assert top["revenue"] == pytest.approx(theirs.amount.sum())  # net: returns there subtracted
    assert top["name"]  # the customers table's name beside the id


def test_a_cohort_row_lists_customers_first_buying_in_that_month(ws, tx) -> None:
    report = run_analysis("report.cohorts", ws)
    row = report.tables["customer_retention"].row(5, named=True)
    drilled = customers_behind(report, "customer_retention", row, ws)
    first = tx[tx.amount > 0].groupby("customer_id").order_date.min().dt.strftime("%Y-%m")
    assert ids(drilled) == set(first[first == row["cohort"]].index)
    assert drilled.tables["customers"].height == row["customers"]


def test_a_campaign_row_lists_the_customers_it_reached_or_sold_to(ws, tx) -> None:
    report = run_analysis("report.campaign", ws)
    row = report.tables["campaigns"].row(0, named=True)
    drilled = customers_behind(report, "campaigns", row, ws)
    as_of = pd.Timestamp(report.params["as_of"])
    touches = pd.read_csv(SAMPLE / "touchpoints.csv", parse_dates=["timestamp"], dtype={"customer_id": str})
    tagged = tx[(tx.campaign_id == row["campaign_id"]) & (tx.order_date <= as_of)]
    reached = touches[(touches.campaign_id == row["campaign_id"]) & (touches.timestamp.dt.normalize() <= as_of)]
    assert ids(drilled) == set(tagged.customer_id) | set(reached.customer_id)
    assert drilled.tables["customers"]["tagged_revenue"].sum() == pytest.approx(row["tagged_revenue"])


def test_a_segment_row_lists_its_members(ws) -> None:
    rfm = run_analysis("segment.rfm", ws)
    row = rfm.tables["segments"].row(0, named=True)
    drilled = customers_behind(rfm, "segments", row, ws)
    members = rfm.tables["customers"].filter(rfm.tables["customers"]["segment"] == row["segment"])
    assert ids(drilled) == set(members["customer_id"]) and len(ids(drilled)) == row["customers"]


def test_tables_that_name_no_group_are_not_drillable(ws) -> None:
    assert drill_column("report.channels", "channels") == "channel"
    assert drill_column("report.channels", "overlap") is None and drill_column("report.nps", "summary") is None
    report = run_analysis("report.channels", ws)
    with pytest.raises(InputError, match="do not name a group"):
        customers_behind(report, "radar", report.tables["radar"].row(0, named=True), ws)


def test_a_cohort_cell_lists_the_cohorts_customers_active_in_that_period(ws, tx) -> None:
    report = run_analysis("report.cohorts", ws)
    matrix = report.tables["customer_retention"]
    row = matrix.row(4, named=True)
    drilled = customers_behind(report, "customer_retention", row, ws, "m3")
    # pandas: cohort = month of the first purchase; period = months from it to the order's month
    buys = tx[tx.amount > 0]
    first = buys.groupby("customer_id").order_date.min()
    months = lambda d: d.dt.year * 12 + d.dt.month  # noqa: E731
    cohort_of = first.dt.strftime("%Y-%m")
    members = set(cohort_of[cohort_of == row["cohort"]].index)
    later = tx.assign(k=months(tx.order_date) - months(tx.customer_id.map(first)))
    theirs = later[later.customer_id.isin(members) & (later.k == 3)]
    active = set(theirs[theirs.amount > 0].customer_id)
    assert ids(drilled) == active
    assert len(active) == round(row["m3"] * row["customers"])  # the cell's share of the cohort
    assert "active in m3" in drilled.title and drilled.params["period"] == "m3"
    top = drilled.tables["customers"].row(0, named=True)
    assert top["revenue"] == pytest.approx(theirs[theirs.customer_id == top["customer_id"]].amount.sum())


def test_a_cohort_cell_after_the_last_date_has_no_customers(ws) -> None:
    from core.errors import AnalysisError

    report = run_analysis("report.cohorts", ws)
    last = report.tables["customer_retention"].row(-1, named=True)
    with pytest.raises(AnalysisError, match="after the last date"):
        customers_behind(report, "customer_retention", last, ws, "m5")


def test_the_cohorts_long_table_and_other_columns_drill_the_whole_cohort(ws) -> None:
    report = run_analysis("report.cohorts", ws)
    row = report.tables["customer_retention"].row(4, named=True)
    whole = customers_behind(report, "customer_retention", row, ws, "customers")
    assert whole.tables["customers"].height == row["customers"] and "period" not in whole.params
