"""A command reads only the tables it uses (issue 14): an RFM run neither pays for nor fails
on a broken survey file, but still fails on its own table; `data` commands and eager
opening (the app) still meet every table's problems."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from typer.testing import CliRunner

from commands.app import app
from core.errors import InputError
from core.features import AFTER_TODAY
from core.registry import run_analysis
from core.workspace import Workspace

runner = CliRunner()
TX = ("customer_id,order_date,amount\nC1,2024-01-05,10\nC2,2024-03-06,20\nC3,2024-02-01,5\n"
      "C1,2024-02-01,7\nC2,2024-02-10,4\n")
SURVEY = "customer_id,response_date,nps\nC1,2024-02-01,9\nC2,2024-02-02,3\n"
# The survey's mapping names a column its file does not have: reading that table fails.
BROKEN_SURVEY = '[tables.survey.columns]\nnps = "Recommend"\n'
BROKEN_TRANSACTIONS = '[tables.transactions.columns]\namount = "Revenue"\n'


def cli(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "160"})


@pytest.fixture
def broken_survey(make_workspace):
    return make_workspace({"transactions.csv": TX, "survey.csv": SURVEY, "loyalist.toml": BROKEN_SURVEY})


def test_rfm_runs_beside_a_broken_survey_file(broken_survey):
    result = cli("segment", "rfm", "-w", str(broken_survey), "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["customer_count"] == 3


def test_a_report_on_the_broken_table_still_fails_naming_it(broken_survey):
    result = cli("report", "nps", "-w", str(broken_survey))
    assert result.exit_code == 2, result.output
    assert "'Recommend'" in result.output and "survey.csv" in result.output


def test_rfm_fails_on_its_own_broken_table(make_workspace):
    folder = make_workspace({"transactions.csv": TX, "survey.csv": SURVEY, "loyalist.toml": BROKEN_TRANSACTIONS})
    result = cli("segment", "rfm", "-w", str(folder))
    assert result.exit_code == 2, result.output
    assert "'Revenue'" in result.output and "transactions.csv" in result.output


@pytest.mark.parametrize("command", [["data", "validate"], ["data", "inspect"]])
def test_data_commands_still_report_the_unread_table(broken_survey, command):
    result = cli(*command, "-w", str(broken_survey))
    assert result.exit_code == 2, result.output
    assert "'Recommend'" in result.output


def test_eager_opening_stops_on_every_tables_problem(broken_survey):
    """The app and `Workspace.open()` without lazy: every table is read when opening."""
    with pytest.raises(InputError, match="Recommend"):
        Workspace.open(broken_survey)
    lazy = Workspace.open(broken_survey, lazy=True)
    assert lazy.has("survey") and lazy.has("transactions")
    with pytest.raises(InputError, match="Recommend"):
        lazy.scan("survey")


def test_a_lazy_workspace_reads_only_what_was_asked_for(broken_survey):
    ws = Workspace.open(broken_survey, lazy=True)
    ws.scan("transactions")
    assert set(ws.sources._built) == {"transactions"}
    view = ws.view(left_out={"survey"}, frames={})
    assert "survey" not in view.sources and list(view.sources) == ["transactions"]


def test_a_table_asked_for_by_two_threads_at_once_is_built_once():
    """The app's workers (first rows, checks) may ask for the same table together: the second
    waits for the first's build instead of reading the file again, and a view shares it."""
    from core.workspace import TableSources

    entered, release, builds = threading.Event(), threading.Event(), []

    def build():
        builds.append(threading.current_thread().name)
        entered.set()
        release.wait(timeout=10)
        return f"source {len(builds)}"

    sources = TableSources({"transactions": build, "survey": lambda: "survey source"})
    got = {}
    first = threading.Thread(target=lambda: got.update(first=sources["transactions"]), name="first")
    first.start()
    assert entered.wait(timeout=10)
    view = sources.without({"survey"})
    second = threading.Thread(target=lambda: got.update(second=view["transactions"]), name="second")
    second.start()
    assert sources["survey"] == "survey source"  # another table is not held up by the slow one
    second.join(timeout=0.5)  # long enough for a second build to start, were there no lock
    release.set()
    first.join(timeout=10)
    second.join(timeout=10)
    assert builds == ["first"]
    assert got == {"first": "source 1", "second": "source 1"}


def test_the_count_of_rows_after_today_reaches_the_note_not_the_params(make_workspace):
    """The segment read counts rows dated after today in its own scan and hands the count
    back with its result; run_analysis turns it into the note."""
    folder = make_workspace({"transactions.csv": TX + "C3,2999-12-31,5\n"})
    result = run_analysis("segment.rfm", Workspace.open(folder, lazy=True))
    assert result.params["as_of"] == dt.date(2024, 3, 6)
    assert AFTER_TODAY not in result.params
    assert any("1 transaction dated after today was ignored" in n for n in result.notes), result.notes
