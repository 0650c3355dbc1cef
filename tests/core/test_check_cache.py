"""The check cache (core.check_cache): a second command on unchanged files does not read them
again for the checks, and what it remembers is exactly what a fresh check finds; any change
to a file, its reading options or the as-of date is checked afresh; a damaged cache file is
ignored. The reference is always the same check run with the cache off."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from typer.testing import CliRunner

import core.validate as validate_module
from commands.app import app
from core.check_cache import cache_path
from core.validate import check, validate
from core.workspace import Workspace

AS_OF = dt.date(2024, 12, 31)
TX = ("customer_id,order_date,amount,order_id\nC1,2024-01-05,10,O1\nC2,2024-01-06,-20,O2\n"
      "C2,2024-01-06,-20,O2\nC3,2025-03-01,5,O3\n")  # a return, a duplicate order, a late date, an orphan
FILES = {"transactions.csv": TX, "customers.csv": "customer_id\nC1\nC2\n",
         "survey.csv": "customer_id,nps\nC1,9\nC2,11\n"}  # NPS 11: an error


def fresh(folder, **kwargs):
    return check(Workspace.open(folder), use_cache=False, **kwargs).findings


@pytest.fixture
def no_data_pass(monkeypatch):
    """Fail if the checks read any table's rows."""
    def refuse(*args, **kwargs):
        raise AssertionError("the checks read the data again")

    def on():
        monkeypatch.setattr(validate_module, "_summarise", refuse)
        monkeypatch.setattr(validate_module, "_orphan_queries", refuse)
    return on


def test_a_second_check_of_unchanged_files_reads_no_rows_and_finds_the_same(make_workspace, no_data_pass):
    folder = make_workspace(FILES)
    first = check(Workspace.open(folder), as_of=AS_OF)
    assert first.remembered == () and cache_path(folder).is_file()
    no_data_pass()
    second = check(Workspace.open(folder), as_of=AS_OF)
    assert set(second.remembered) == {"transactions", "customers", "survey"}
    assert second.findings == first.findings
    rules = {(f.table, f.rule): (f.count, f.rows) for f in second.findings}
    assert rules[("transactions", "negative_amount")] == (2, (3, 4))
    assert rules[("transactions", "duplicate_order")] == (2, (3, 4))
    assert rules[("transactions", "orphan_customer")] == (1, (5,))
    assert rules[("survey", "out_of_range")] == (1, (3,))


def test_warnings_still_show_on_the_second_run_from_the_cache(make_workspace):
    folder = make_workspace(FILES)
    runner = CliRunner()
    args = ["data", "validate", "-w", str(folder), "--as-of", "2024-12-31", "-f", "json"]
    first, second = runner.invoke(app, args), runner.invoke(app, args)
    assert first.exit_code == second.exit_code == 2  # NPS 11 is an error both times
    one, two = json.loads(first.stdout), json.loads(second.stdout)
    assert one["findings"] == two["findings"] and one["warnings"] == two["warnings"] == 4
    assert {f["rule"] for f in two["findings"] if f["severity"] == "warning"} >= {
        "negative_amount", "duplicate_order", "date_after_as_of", "orphan_customer"}
    assert one["notes"] == [] and "remembered from an earlier check" in two["notes"][0]


def test_an_errors_only_check_does_not_stand_in_for_the_full_one(make_workspace):
    """`data convert` checks errors only; `data validate` must still find the warnings."""
    folder = make_workspace({"transactions.csv": TX})
    assert validate(Workspace.open(folder), errors_only=True) == []
    full = check(Workspace.open(folder), as_of=AS_OF)
    assert full.remembered == () and len(full.findings) == 3
    assert full.findings == fresh(folder, as_of=AS_OF)


def test_each_as_of_date_is_judged_on_its_own(make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    early = dt.date(2024, 1, 5)
    validate(Workspace.open(folder), as_of=AS_OF)
    late = {f.rule: f.count for f in validate(Workspace.open(folder), as_of=early)}
    assert late["date_after_as_of"] == 3
    assert validate(Workspace.open(folder), as_of=early) == fresh(folder, as_of=early)


def _tomorrow(monkeypatch):
    """Run the rest of the test a day later, as far as the checks can tell."""
    import types

    import core.check_cache as cache_module

    class Tomorrow(dt.date):
        @classmethod
        def today(cls):
            return dt.date.today() + dt.timedelta(days=1)

    later = types.SimpleNamespace(**{name: getattr(dt, name) for name in dir(dt) if not name.startswith("__")})
    later.date = Tomorrow
    for module in (cache_module, validate_module):
        monkeypatch.setattr(module, "dt", later)


def test_a_check_that_found_no_future_date_holds_the_next_day(make_workspace, monkeypatch, no_data_pass):
    folder = make_workspace(FILES)  # every date before today: none can be after a later day
    first = check(Workspace.open(folder))
    _tomorrow(monkeypatch)
    no_data_pass()
    again = check(Workspace.open(folder))
    assert set(again.remembered) == {"transactions", "customers", "survey"}
    assert again.findings == first.findings


def test_a_check_that_found_a_future_date_is_made_again_the_next_day(make_workspace, monkeypatch):
    folder = make_workspace({"transactions.csv": TX + "C1,2999-01-01,3,O9\n"})
    first = check(Workspace.open(folder))
    assert {f.rule: f.count for f in first.findings}["date_after_as_of"] == 1
    _tomorrow(monkeypatch)
    again = check(Workspace.open(folder))
    assert again.remembered == ()  # rows dated after today may not be after tomorrow
    assert again.findings == first.findings


def test_a_file_whose_size_changed_is_checked_again(make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    validate(Workspace.open(folder), as_of=AS_OF)
    with (folder / "transactions.csv").open("a", encoding="utf-8") as handle:
        handle.write("C4,2024-02-02,-7,O4\n")
    again = check(Workspace.open(folder), as_of=AS_OF)
    assert again.remembered == ()
    assert {f.rule: f.count for f in again.findings}["negative_amount"] == 3
    assert again.findings == fresh(folder, as_of=AS_OF)


def test_a_file_rewritten_to_the_same_size_is_checked_again(make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    validate(Workspace.open(folder), as_of=AS_OF)
    path = folder / "transactions.csv"
    stat = path.stat()
    path.write_text(TX.replace("-20", "+20"), encoding="utf-8")  # same size, no more returns
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and even the same time stamp
    again = check(Workspace.open(folder), as_of=AS_OF)
    assert again.remembered == () and "negative_amount" not in {f.rule for f in again.findings}

    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched, not changed
    assert check(Workspace.open(folder), as_of=AS_OF).remembered == ()


def test_changed_reading_options_are_checked_again(make_workspace):
    folder = make_workspace(FILES)
    assert any(f.rule == "out_of_range" for f in validate(Workspace.open(folder), errors_only=True))
    (folder / "loyalist.toml").write_text("[tables.survey.ranges]\nnps = [0, 11]\n", encoding="utf-8")
    again = check(Workspace.open(folder), errors_only=True)
    assert "survey" not in again.remembered and again.findings == []


@pytest.mark.parametrize("content", ["{not json", '{"version": 1, "entries": {"x:errors": {"findings": [{}]}}}',
                                     '["a list"]', '{"version": 99, "entries": {}}'])
def test_a_damaged_cache_file_is_ignored_and_replaced(make_workspace, content):
    folder = make_workspace(FILES)
    path = cache_path(folder)
    path.parent.mkdir()
    path.write_text(content, encoding="utf-8")
    found = check(Workspace.open(folder), as_of=AS_OF)
    assert found.remembered == () and found.findings == fresh(folder, as_of=AS_OF)
    assert json.loads(path.read_text(encoding="utf-8"))["version"] == 1
    assert check(Workspace.open(folder), as_of=AS_OF).findings == found.findings


def test_a_damaged_entry_is_checked_again(make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    first = validate(Workspace.open(folder), as_of=AS_OF)
    path = cache_path(folder)
    saved = json.loads(path.read_text(encoding="utf-8"))
    for entry in saved["entries"].values():
        entry["findings"] = [{"severity": "warning"}]  # fields missing
    path.write_text(json.dumps(saved), encoding="utf-8")
    again = check(Workspace.open(folder), as_of=AS_OF)
    assert again.remembered == () and again.findings == first


def test_data_convert_leaves_its_copies_checked(make_workspace, no_data_pass):
    from core.convert import convert_to_parquet

    folder = make_workspace(FILES)
    convert_to_parquet(Workspace.open(folder))
    ws = Workspace.open(folder)
    assert ws.sources["transactions"].origin is not None  # the copy is what analyses read
    reference = fresh(folder, errors_only=True)
    no_data_pass()
    checked = check(ws, errors_only=True)
    assert set(checked.remembered) == {"transactions", "customers", "survey"}
    assert checked.findings == reference and [f.rule for f in reference] == ["out_of_range"]


def test_a_command_on_an_unchanged_workspace_uses_the_cache(make_workspace, monkeypatch):
    folder = make_workspace(FILES)
    runner = CliRunner()
    args = ["segment", "rfm", "-w", str(folder), "--as-of", "2024-12-31", "-f", "json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output

    def refuse(*args, **kwargs):
        raise AssertionError("the checks read the data again")

    monkeypatch.setattr(validate_module, "_summarise", refuse)
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["customer_count"] == json.loads(first.stdout)["customer_count"]


def test_all_remembered_says_whether_check_would_read_any_rows(make_workspace, no_data_pass) -> None:
    from core.validate import all_remembered

    folder = make_workspace(FILES)
    assert not all_remembered(Workspace.open(folder), as_of=AS_OF)
    check(Workspace.open(folder), as_of=AS_OF)
    ws = Workspace.open(folder)
    assert all_remembered(ws, as_of=AS_OF)
    assert all_remembered(ws, errors_only=True)  # a full check holds the errors-only one too
    assert not all_remembered(ws, as_of=dt.date(2025, 6, 30))  # another as-of date: judged afresh
    customers = folder / "customers.csv"
    stamp = customers.stat().st_mtime_ns + 5_000_000_000
    os.utime(customers, ns=(stamp, stamp))  # customers touched: its findings and the orphans are stale
    ws = Workspace.open(folder)
    assert not all_remembered(ws, as_of=AS_OF)
    assert not all_remembered(ws, ["transactions"], as_of=AS_OF)  # its own findings hold, its orphans not
    assert all_remembered(ws, ["transactions", "survey"], errors_only=True)
    no_data_pass()  # what it says is remembered is read from the cache, no rows
    assert set(check(ws, ["transactions", "survey"], errors_only=True).remembered) == {"transactions", "survey"}


def test_every_customer_known_only_when_the_checks_found_no_orphan_for_the_files_as_they_are(make_workspace):
    # predict churn then takes the distinct ids from customers (core.features' known_ids)
    import polars as pl

    from core.validate import every_customer_known

    known = {**FILES, "transactions.csv": TX.replace("C3,", "C1,"), "customers.csv": "customer_id\nC1\nC2\nC9\n"}
    folder = make_workspace(known)
    assert not every_customer_known(Workspace.open(folder))  # not checked yet: not known
    check(Workspace.open(folder), as_of=AS_OF)
    ws = Workspace.open(folder)
    assert every_customer_known(ws)
    view = ws.view(left_out=set(), frames={"customers": ws.scan("customers").filter(pl.col("customer_id") != "C1")})
    assert not every_customer_known(view)  # the valid rows of customers may have lost an id
    customers = folder / "customers.csv"
    customers.write_text("customer_id\nC2\nC9\n")  # C1's row gone: the remembered check no longer holds
    assert not every_customer_known(Workspace.open(folder))

    orphaned = make_workspace(FILES)  # C3 is no customer
    check(Workspace.open(orphaned), as_of=AS_OF)
    assert not every_customer_known(Workspace.open(orphaned))
