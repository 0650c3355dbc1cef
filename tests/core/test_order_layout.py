"""The transactions' order layout (core.order_layout): counted by the data checks, remembered
per file, and what lets features and the channels report count orders without proving it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from core.check_cache import CheckCache, source_key
from core.order_layout import NOT_COUNTED, OrderLayout, orders_adjacent
from core.validate import check
from core.workspace import Workspace

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample"
HEADER = "customer_id,order_id,order_date,amount,channel\n"
# Each order's purchase lines adjacent, on one customer, day and channel; o2 has a return line
# after its purchases, o4's return is on another day (returns are not purchase lines).
ADJACENT = [
    "a,o1,2024-01-10,5,web", "a,o1,2024-01-10,6,web", "b,o3,2024-01-12,7,store",
    "a,o2,2024-02-03,8,web", "a,o2,2024-02-03,2,web", "a,o2,2024-02-03,-1,web",
    "b,o4,2024-02-05,9,app", "b,o5,2024-02-05,3,app", "c,o6,2024-02-25,4,web",
    "b,o4,2024-03-02,-9,app", "c,o8,2024-03-08,11,store",
]


def _lines(case: str) -> list[str]:
    lines = list(ADJACENT)
    if case == "split":  # another order's line between o1's two
        lines[1], lines[2] = lines[2], lines[1]
    elif case == "spans a day":
        lines[1] = "a,o1,2024-01-11,6,web"
    elif case == "changes channel":
        lines[1] = "a,o1,2024-01-10,6,store"
    elif case == "return inside":  # o2's return line between its purchase lines
        lines[4], lines[5] = lines[5], lines[4]
    elif case == "missing id":
        lines[7] = "b,,2024-02-05,3,app"
    return lines


def _workspace(make_workspace, case: str) -> Path:
    return make_workspace({"transactions.csv": HEADER + "\n".join(_lines(case)) + "\n"})


def _layout(folder: Path) -> OrderLayout | None:
    ws = Workspace.open(folder)
    return CheckCache(folder).layout(source_key(ws.sources["transactions"]))


@pytest.mark.parametrize(("case", "expected"), [
    # counted by hand: purchase lines without an id, lines continuing an order elsewhere,
    # lines starting an order, distinct order ids of purchases (not counted when the first
    # two already show the layout does not hold)
    ("adjacent", OrderLayout(0, 0, 7, 7)),
    ("split", OrderLayout(0, 0, 8, 7)),  # o1 starts twice
    ("spans a day", OrderLayout(0, 1, 7, NOT_COUNTED)),
    ("changes channel", OrderLayout(0, 1, 7, NOT_COUNTED)),
    ("return inside", OrderLayout(0, 0, 8, 7)),  # o2 starts again after its return line
    ("missing id", OrderLayout(1, 0, 7, NOT_COUNTED)),
])
@pytest.mark.parametrize("budget", ["", "16"], ids=["one pass", "in passes"])
def test_the_checks_count_the_layout_and_remember_it(make_workspace, monkeypatch, case, expected, budget):
    # a 16-byte budget counts the distinct order ids in passes (four for each start)
    monkeypatch.setenv("LOYALIST_MEMORY_LIMIT", budget)
    folder = _workspace(make_workspace, case)
    assert not orders_adjacent(Workspace.open(folder))  # not known before the checks
    check(Workspace.open(folder), errors_only=True)
    assert _layout(folder) == expected
    assert orders_adjacent(Workspace.open(folder)) is (case == "adjacent")


def test_a_rewritten_file_is_counted_again(make_workspace):
    folder = _workspace(make_workspace, "adjacent")
    check(Workspace.open(folder), errors_only=True)
    assert orders_adjacent(Workspace.open(folder))
    (folder / "transactions.csv").write_text(HEADER + "\n".join(_lines("split")) + "\n" + "c,o9,2024-03-09,1,web\n")
    assert not orders_adjacent(Workspace.open(folder))  # what was found is about the old file
    check(Workspace.open(folder), errors_only=True)
    assert not orders_adjacent(Workspace.open(folder))


def test_nothing_is_known_without_order_ids_or_when_the_checks_are_not_kept(make_workspace):
    no_ids = make_workspace({"transactions.csv": "customer_id,order_date,amount\na,2024-01-10,5\n"})
    check(Workspace.open(no_ids), errors_only=True)
    assert _layout(no_ids) is None and not orders_adjacent(Workspace.open(no_ids))
    uncached = _workspace(make_workspace, "adjacent")
    check(Workspace.open(uncached), errors_only=True, use_cache=False)
    assert not orders_adjacent(Workspace.open(uncached))


def test_data_convert_leaves_its_copy_counted(make_workspace):
    from core.convert import convert_to_parquet

    folder = _workspace(make_workspace, "adjacent")
    convert_to_parquet(Workspace.open(folder))
    ws = Workspace.open(folder)
    assert ws.sources["transactions"].origin is not None  # the copy is what analyses read
    assert orders_adjacent(ws)


def _sample_with_checks(tmp_path) -> Workspace:
    import shutil

    folder = Path(shutil.copytree(SAMPLE, tmp_path / "sample"))
    check(Workspace.open(folder), errors_only=True)
    ws = Workspace.open(folder)
    assert orders_adjacent(ws)
    return ws


def test_features_counting_orders_on_the_layout_found_equal_the_per_customer_distinct_count(tmp_path):
    # customer_features counts each customer's distinct order ids (n_unique): the reference
    from core.features import customer_features, customer_features_at

    tx = _sample_with_checks(tmp_path).scan("transactions")
    last = tx.select(pl.col("order_date").max()).collect().item()
    dates = [last - dt.timedelta(days=180), last - dt.timedelta(days=90), last]
    read = customer_features_at(tx, dates, orders_adjacent=True)
    for day in dates:
        assert_frame_equal(read.features[day], customer_features(tx, as_of=day).collect())


def test_the_channels_tables_on_the_layout_found_equal_the_proved_ones(tmp_path):
    from core.evaluate.channels import reduced_tables
    from core.features import default_as_of

    tx = _sample_with_checks(tmp_path).scan("transactions")
    as_of = default_as_of(tx)
    trusted, proved = reduced_tables(tx, as_of, True, orders_adjacent=True), reduced_tables(tx, as_of, True)
    assert proved is not None and set(trusted) == set(proved)
    for name in proved:
        assert_frame_equal(trusted[name], proved[name], check_row_order=False)


def test_the_analyses_are_told_what_the_checks_found(tmp_path, monkeypatch):
    from core.evaluate import channels
    from core.predict import churn
    from core.registry.run import run_analysis

    told = {}

    def spy(module, name):
        original = getattr(module, name)

        def recorded(*args, **kwargs):
            told[name] = kwargs.get("orders_adjacent", args[3] if len(args) > 3 else None)
            return original(*args, **kwargs)
        monkeypatch.setattr(module, name, recorded)

    from core import features
    from core.evaluate import value

    spy(channels, "reduced_tables")
    spy(churn, "one_pass_snapshots")
    spy(value, "customer_features")
    spy(features, "read_features")
    ws = _sample_with_checks(tmp_path)
    run_analysis("report.channels", ws)
    run_analysis("predict.churn", ws, {"with_clv": False})
    run_analysis("report.program", ws)
    run_analysis("segment.kmeans", ws)
    assert told == {"reduced_tables": True, "one_pass_snapshots": True, "customer_features": True,
                    "read_features": True}


@pytest.mark.parametrize("passes", [None, 1000])
def test_one_date_features_counting_orders_on_the_layout_equal_the_distinct_count(tmp_path, monkeypatch, passes):
    # in one pass and in many over disjoint customers (each still sees its rows in file order)
    from core import features
    from core.evaluate.value import customer_table

    monkeypatch.setattr(features, "ROWS_PER_PASS", passes)
    ws = _sample_with_checks(tmp_path)
    tx, customers = ws.scan("transactions"), ws.scan("customers")
    last = tx.select(pl.col("order_date").max()).collect().item()
    for day in (last - dt.timedelta(days=200), last):
        assert_frame_equal(features.customer_features(tx, as_of=day, customers=customers, orders_adjacent=True).collect(),
                           features.customer_features(tx, as_of=day, customers=customers).collect())
        assert_frame_equal(customer_table(tx, day, orders_adjacent=True).collect(), customer_table(tx, day).collect())
    assert_frame_equal(features.read_features(tx, orders_adjacent=True).table, features.read_features(tx).table)


def test_one_date_features_trust_the_layout_they_are_given():
    # o1's lines apart in the file: told (wrongly) that the file is laid out order by order, the
    # starts count o1 twice. That is why only the checks' count of the file may say so.
    from core.features import customer_features

    d = dt.date(2024, 1, 10)
    split = pl.LazyFrame({"customer_id": ["a", "a", "a"], "order_id": ["o1", "o2", "o1"],
                          "order_date": [d, d, d], "amount": [5.0, 6.0, 7.0]})
    orders = {adjacent: customer_features(split, as_of=d, orders_adjacent=adjacent).collect()["orders"].item()
              for adjacent in (False, True)}
    assert orders == {False: 2, True: 3}


def test_a_pos_export_is_counted_on_the_values_the_analyses_read(make_workspace):
    # GB18030, semicolons, decimal commas, ids padded with spaces on continuation lines (as some
    # POS exports write them): read as the analyses read it, o1's lines are one customer's
    from core.features import customer_features

    text = ("customer_id;order_id;order_date;amount;channel\n"
            "C1;O1;2024-01-05;10,50;门店\n C1 ;O1;2024-01-05;2,25;门店\nC2;O2;2024-01-06;3,00;网店\n"
            "C1;O3;2024-01-07;1,00;网店\n")
    folder = make_workspace({"transactions.csv": text.encode("gb18030")})
    check(Workspace.open(folder), errors_only=True)
    assert _layout(folder) == OrderLayout(0, 0, 3, 3)
    ws = Workspace.open(folder)
    assert orders_adjacent(ws)
    tx = ws.scan("transactions")
    trusted = customer_features(tx, orders_adjacent=True).collect()
    assert dict(zip(trusted["customer_id"], trusted["orders"])) == {"C1": 2, "C2": 1}
    assert_frame_equal(trusted, customer_features(tx).collect())
