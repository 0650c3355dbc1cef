"""Dates as exports write them beyond ISO: two-digit years (13/01/24) and month names
(05-JAN-24, Jan 5, 2024). A two-digit year read by a four-digit format is the year 24, which
silently made every recency two thousand years long; such a date is now never chosen, and one
that gets through (a date_format set that way, a typed file) is an error with its rows."""

import datetime as dt

import polars as pl
import pytest

from core.validate import validate
from core.workspace import Workspace

JAN_13 = dt.date(2024, 1, 13)


def _dates(make_workspace, values, toml=None):
    rows = "".join(f"C{i},\"{v}\",10\n" for i, v in enumerate(values))
    files = {"transactions.csv": "customer_id,order_date,amount\n" + rows}
    if toml:
        files["loyalist.toml"] = toml
    return Workspace.open(make_workspace(files))


@pytest.mark.parametrize("values", [
    ["13/01/24", "14/02/24"],  # day first, two-digit year
    ["01/13/24", "02/14/24"],  # month first
    ["13.01.24", "14.02.24"],
    ["13-Jan-2024", "14-Feb-2024"],
    ["13-JAN-24", "14-FEB-24"],  # as databases write it
    ["Jan 13, 2024", "Feb 14, 2024"],
    ["13 January 2024", "14 February 2024"],
])
def test_dates_read_as_written(make_workspace, values):
    ws = _dates(make_workspace, values)
    assert ws.scan("transactions").collect()["order_date"].to_list() == [JAN_13, dt.date(2024, 2, 14)]
    assert validate(ws) == []


def test_a_two_digit_year_under_a_four_digit_format_is_an_error(make_workspace):
    ws = _dates(make_workspace, ["13/01/24", "14/02/24"], '[tables.transactions]\ndate_format = "%d/%m/%Y"\n')
    [finding] = [f for f in validate(ws) if f.rule == "implausible_date"]
    assert (finding.severity, finding.column, finding.rows) == ("error", "order_date", (2, 3))
    assert "%y" in finding.fix


def test_a_typed_date_before_1900_is_an_error(make_workspace, tmp_path):
    folder = make_workspace({})
    pl.DataFrame({"customer_id": ["C1", "C2"], "order_date": [dt.date(24, 1, 13), JAN_13],
                  "amount": [1.0, 2.0]}).write_parquet(folder / "transactions.parquet")
    [finding] = [f for f in validate(Workspace.open(folder)) if f.rule == "implausible_date"]
    assert finding.count == 1 and finding.rows == (1,)  # record numbers for Parquet
