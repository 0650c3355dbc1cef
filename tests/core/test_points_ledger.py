"""The points table: mapped like every table (English and Chinese headers), its kinds read
either sign convention, and a ledger that does not add up is a finding naming its rows."""

import datetime as dt

import polars as pl

from core.validate import validate
from core.workspace import Workspace

TX = "customer_id,order_date,amount\nC1,2024-01-05,10\nC2,2024-01-06,20\n"


def findings(folder):
    return {(f.table, f.column, f.rule): f for f in validate(Workspace.open(folder), as_of=dt.date(2024, 12, 31))}


def test_chinese_headers_and_kinds_are_mapped(make_workspace):
    folder = make_workspace({"transactions.csv": TX, "points.csv":
                             "会员编号,积分日期,积分,积分类型,备注\nC1,2024-01-05,100,获得,消费\nC1,2024-02-01,-40,兑换,礼品\n"})
    ws = Workspace.open(folder)
    frame = ws.scan("points").collect()
    assert frame.columns[:4] == ["customer_id", "date", "points", "kind"]
    assert frame["points"].to_list() == [100.0, -40.0]
    assert findings(folder) == {}


def test_redemptions_the_balance_does_not_cover_are_findings_with_rows(make_workspace):
    ledger = ("customer_id,date,points,kind\n"
              "C1,2024-01-05,100,earn\n"
              "C1,2024-01-09,80,redeem\n"      # balance 20: fine (a positive redemption is still a redemption)
              "C1,2024-01-10,-50,redeem\n"     # balance -30: larger than the balance
              "C2,2024-01-03,-10,redeem\n"     # before C2 earned anything
              "C2,2024-01-04,30,earn\n"
              "C2,2024-01-04,20,Redeem\n")     # same day, after the earning: covered
    found = findings(make_workspace({"transactions.csv": TX, "points.csv": ledger}))
    over = found[("points", "points", "redemption_exceeds_balance")]
    assert (over.severity, over.count, over.rows) == ("warning", 1, (4,))
    early = found[("points", "points", "redeemed_before_earning")]
    assert (early.severity, early.count, early.rows) == ("warning", 1, (5,))


def test_unknown_kinds_are_errors_and_unknown_customers_warnings(make_workspace):
    ledger = "customer_id,date,points,kind\nC1,2024-01-05,100,earn\nC9,2024-01-06,5,gift\n"
    found = findings(make_workspace({"transactions.csv": TX, "customers.csv": "customer_id\nC1\nC2\n",
                                     "points.csv": ledger}))
    kind = found[("points", "kind", "unknown_points_kind")]
    assert (kind.severity, kind.rows) == ("error", (3,))
    assert "adjust" in kind.fix
    orphan = found[("points", "customer_id", "orphan_customer")]
    assert (orphan.severity, orphan.count, orphan.rows) == ("warning", 1, (3,))


def test_sample_ledger_is_clean_and_matches_its_truth(sample_copy):
    import json

    truth = json.loads((sample_copy / "truth" / "truth.json").read_text())["realised"]["points"]
    assert not [f for f in validate(Workspace.open(sample_copy)) if f.table == "points"]
    ledger = Workspace.open(sample_copy).scan("points").collect()
    assert ledger.filter(pl.col("kind") == "earn")["points"].sum() == truth["earned"]
    assert ledger["points"].sum() == truth["outstanding"]
