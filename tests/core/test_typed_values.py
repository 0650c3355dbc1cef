"""Typed values from files: float ids, time-zone offsets, XLSX date cells, date formats."""

import polars as pl
from typer.testing import CliRunner

from commands.app import app
from core.validate import validate
from core.workspace import Workspace

runner = CliRunner()


def test_float_customer_ids_in_parquet_are_refused_when_not_whole(make_workspace):
    # pandas writes an id column holding a missing value as float64: 1001.0, 1002.0, ...
    folder = make_workspace({})
    pl.DataFrame({"customer_id": [1001.0, 1002.0, 1001.5, 1003.0], "order_date": ["2024-01-02"] * 4,
                  "amount": [10.0, 20.0, 30.0, 40.0]}).write_parquet(folder / "transactions.parquet")
    ids = Workspace.open(folder).scan("transactions").collect()["customer_id"].to_list()
    assert ids == ["1001", "1002", None, "1003"]  # no "1001.0"; 1001.5 is never "1001"
    errors = [f for f in validate(Workspace.open(folder)) if f.severity == "error"]
    assert [(f.column, f.rows) for f in errors] == [("customer_id", (3,))]  # record 3
    result = runner.invoke(app, ["report", "kpi", "-w", str(folder)])
    assert result.exit_code == 2, result.output
    assert "customer_id" in result.stderr and "rows 3" in result.stderr and "not whole" in result.stderr


def test_whole_float_ids_join_their_text_twins(make_workspace):
    folder = make_workspace({"customers.csv": "customer_id,signup_date\n1001,2023-05-01\n1002,2023-06-01\n"})
    pl.DataFrame({"customer_id": [1001.0, 1002.0], "order_date": ["2024-01-02"] * 2,
                  "amount": [10.0, 20.0]}).write_parquet(folder / "transactions.parquet")
    findings = validate(Workspace.open(folder))
    assert not [f for f in findings if f.rule == "orphan_customer"]  # "1001" matches "1001"


# A Shopify-style order export (offsets like -0500) and a web analytics export in UTC (Z).
SHOPIFY = ("Name,Email,Created at,Total,customer_id\n"
           "#1001,a@example.com,2024-03-01 23:30:00 -0500,12.50,C1\n"
           "#1002,b@example.com,2024-03-02 08:00:00 +0800,7.25,C2\n")
TOUCHES = ("customer_id,timestamp,channel\n"
           "C1,2024-03-01T16:45:00Z,email\nC2,2024-03-01T16:45:00.250+08:00,web\nC3,2024-03-01T09:00:00,app\n")


def _local(text: str, zone: str):
    """The independent reference: Python's own parser and zoneinfo."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    for fmt in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return dt.datetime.strptime(text.replace("Z", "+00:00"), fmt).astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        except ValueError:
            continue
    return dt.datetime.fromisoformat(text)  # no offset: already the workspace's wall time


def test_offsets_without_a_time_zone_are_refused_with_the_setting(make_workspace):
    folder = make_workspace({"transactions.csv": SHOPIFY})
    result = runner.invoke(app, ["data", "inspect", "-w", str(folder)])
    assert result.exit_code == 2 and "internal error" not in result.stderr
    assert "'Created at'" in result.stderr and "2024-03-01 23:30:00 -0500" in result.stderr
    assert 'time_zone = "Europe/Berlin"' in result.stderr and "loyalist.toml" in result.stderr


def test_offsets_are_converted_to_the_workspace_time_zone(make_workspace):
    zone = "Asia/Shanghai"
    folder = make_workspace({"transactions.csv": SHOPIFY, "touchpoints.csv": TOUCHES,
                             "loyalist.toml": f'time_zone = "{zone}"\n'})
    ws = Workspace.open(folder)
    dates = ws.scan("transactions").collect()["order_date"].to_list()
    assert dates == [_local("2024-03-01 23:30:00 -0500", zone).date(), _local("2024-03-02 08:00:00 +0800", zone).date()]
    assert str(dates[0]) == "2024-03-02"  # 23:30 in New York is the next morning in Shanghai
    times = ws.scan("touchpoints").collect()["timestamp"].to_list()
    assert times == [_local(line.split(",")[1], zone) for line in TOUCHES.splitlines()[1:]]
    assert not [f for f in validate(ws) if f.severity == "error"]


def test_time_aware_parquet_needs_a_zone_and_is_converted_to_it(make_workspace):
    import datetime as dt

    folder = make_workspace({})
    utc = dt.datetime(2024, 3, 1, 16, 45, tzinfo=dt.timezone.utc)
    pl.DataFrame({"customer_id": ["C1"], "timestamp": [utc], "channel": ["email"]}).write_parquet(
        folder / "touchpoints.parquet")
    pl.DataFrame({"customer_id": ["C1"], "order_date": [dt.date(2024, 3, 1)], "amount": [1.0]}).write_parquet(
        folder / "transactions.parquet")
    result = runner.invoke(app, ["data", "inspect", "-w", str(folder)])
    assert result.exit_code == 2 and "time zone UTC" in result.stderr and "time_zone" in result.stderr
    (folder / "loyalist.toml").write_text('time_zone = "Europe/Berlin"\n', encoding="utf-8")
    got = Workspace.open(folder).scan("touchpoints").collect()["timestamp"].to_list()
    assert got == [_local("2024-03-01T16:45:00Z", "Europe/Berlin")]  # 17:45 wall time in Berlin


def test_an_unknown_time_zone_is_refused(make_workspace):
    folder = make_workspace({"transactions.csv": SHOPIFY, "loyalist.toml": 'time_zone = "Europe/Berlinn"\n'})
    result = runner.invoke(app, ["data", "inspect", "-w", str(folder)])
    assert result.exit_code == 2 and "'Europe/Berlinn' is not a known time zone" in result.stderr


def test_a_bad_date_format_names_the_bad_directive(make_workspace):
    tx = "customer_id,order_date,amount\nC1,03/04/2024,5\n"
    for fmt, named in [("%d/%m/%Q", "%Q"), ("%d/%m/%Y %", "%"), ("dd/mm/yyyy", "no % directives")]:
        folder = make_workspace({"transactions.csv": tx,
                                 "loyalist.toml": f'[tables.transactions]\ndate_format = "{fmt}"\n'})
        result = runner.invoke(app, ["report", "kpi", "-w", str(folder)])
        assert result.exit_code == 2, (fmt, result.output)
        assert f"date_format '{fmt}'" in result.stderr and named in result.stderr
        assert "loyalist.toml" in result.stderr and "%d/%m/%Y" in result.stderr
    folder = make_workspace({"transactions.csv": tx,
                             "loyalist.toml": '[tables.transactions]\ndate_format = "%-d/%-m/%Y"\n'})
    assert str(Workspace.open(folder).scan("transactions").collect()["order_date"][0]) == "2024-04-03"


def test_xlsx_column_of_date_cells_with_text_dates_further_down_reads_both(make_workspace):
    import datetime as dt

    import xlsxwriter

    folder = make_workspace({})
    book = xlsxwriter.Workbook(folder / "transactions.xlsx")
    sheet, day_first = book.add_worksheet(), book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_row(0, 0, ["Kunde", "Datum", "Betrag"])
    expected = []
    for row in range(1, 151):  # real date cells, as a shop's back office writes them
        day = dt.date(2024, 3, 1) + dt.timedelta(days=row % 28)
        sheet.write_string(row, 0, f"K{row}")
        sheet.write_datetime(row, 1, dt.datetime.combine(day, dt.time()), day_first)
        sheet.write_number(row, 2, 10)
        expected.append(day)
    for row, (text, day) in enumerate([("2024-04-02", dt.date(2024, 4, 2)), ("13.04.2024", dt.date(2024, 4, 13))],
                                      start=151):  # typed in by hand later: text cells
        sheet.write_string(row, 0, f"K{row}")
        sheet.write_string(row, 1, text)
        sheet.write_number(row, 2, 10)
        expected.append(day)
    book.close()
    (folder / "loyalist.toml").write_text(
        '[tables.transactions.columns]\ncustomer_id = "Kunde"\norder_date = "Datum"\namount = "Betrag"\n',
        encoding="utf-8")
    ws = Workspace.open(folder)
    assert ws.scan("transactions").collect()["order_date"].to_list() == expected  # the text ones were null
    assert not [f for f in validate(ws) if f.severity == "error"]


def test_float_ids_too_long_to_be_exact_are_refused(make_workspace):
    folder = make_workspace({})
    # 2**53 + 1 cannot be held by a float: it would become 2**53, another customer's id
    pl.DataFrame({"customer_id": [float(2**53), 42.0], "order_date": ["2024-01-02"] * 2,
                  "amount": [1.0, 2.0]}).write_parquet(folder / "transactions.parquet")
    errors = [f for f in validate(Workspace.open(folder)) if f.severity == "error"]
    assert [(f.column, f.rows) for f in errors] == [("customer_id", (1,))]
    assert "too long to be exact" in errors[0].message
