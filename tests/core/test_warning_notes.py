"""Warnings in the tables an analysis reads are counted in its notes: a user who runs only
`report channels` (never `data validate`) still learns that 'Web' and 'web' were counted as
two channels, and the note travels into every export."""

import json

from typer.testing import CliRunner

from commands.app import app
from core.registry import run_analysis
from core.workspace import Workspace

runner = CliRunner()
# a POS export and a web shop's, joined: one channel written two ways, and one order twice
TX = ("order_id,customer_id,order_date,amount,channel\n"
      "O1,C1,2024-01-05,10.00,web\nO2,C2,2024-01-06,20.00,store\nO3,C3,2024-01-07,30.00,Web\n"
      "O4,C4,2024-02-07,40.00,store\nO5,C1,2024-02-08,15.00,web\nO5,C1,2024-02-08,15.00,web\n"
      "O6,C9,2024-02-09,25.00,store\n")
CUSTOMERS = "customer_id,signup_date\nC1,2023-12-01\nC2,2023-12-01\nC3,2023-12-01\nC4,2023-12-01\n"


def _warning_notes(result):
    return [n for n in result.notes if n.startswith("The data checks warn")]


def test_a_channel_spelt_two_ways_is_noted_in_the_report(make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    result = run_analysis("report.channels", Workspace.open(folder))
    [note] = _warning_notes(result)
    assert "transactions.csv" in note
    assert "'web' (3), 'Web' (1): 1 row" in note
    assert "order ids that appear more than once: 2 rows" in note  # order O5 twice


def test_the_note_is_on_the_command_line_and_in_the_export(make_workspace, tmp_path):
    folder = make_workspace({"transactions.csv": TX})
    out = tmp_path / "channels.json"
    done = runner.invoke(app, ["report", "channels", "-w", str(folder), "--output", str(out)])
    assert done.exit_code == 0, done.output
    assert "'Web' (1)" in done.output
    assert any("'Web' (1)" in note for note in json.loads(out.read_text())["notes"])


def test_orphans_are_noted_only_where_the_customers_table_is_read(make_workspace):
    folder = make_workspace({"transactions.csv": TX, "customers.csv": CUSTOMERS})
    rfm = run_analysis("segment.rfm", Workspace.open(folder))  # reads the transactions alone
    assert not any("not found in the customers table" in n for n in _warning_notes(rfm))
    channels = run_analysis("report.channels", Workspace.open(folder))  # uses customers where there are some
    assert any("(kept in the analysis), such as 'C9': 1 row" in n
               for n in _warning_notes(channels))


def test_future_transactions_are_said_once(make_workspace):
    folder = make_workspace({"transactions.csv": TX + "O7,C2,2999-01-01,5.00,store\n"})
    result = run_analysis("segment.rfm", Workspace.open(folder))
    assert sum("after today" in n for n in result.notes) == 1


def test_a_clean_table_adds_no_note(make_workspace):
    clean = "order_id,customer_id,order_date,amount,channel\nO1,C1,2024-01-05,10.00,web\nO2,C2,2024-01-06,20.00,store\n"
    result = run_analysis("segment.rfm", Workspace.open(make_workspace({"transactions.csv": clean})))
    assert not _warning_notes(result)
