"""A text file's judged formats remembered (core.check_cache.JudgedFormats): a second command
on an unchanged CSV reads its date and number formats instead of judging its first rows
again, and gets exactly what a fresh judgement gives; a changed file or a changed
loyalist.toml is judged afresh; opening a workspace without checking it writes nothing.
The reference is always the same workspace opened with nothing remembered."""

from __future__ import annotations

import os
import shutil

import pytest
from typer.testing import CliRunner

import core.workspace as workspace_module
from commands.app import app
from core.check_cache import FORMATS_FILE
from core.invalid import checked_workspace
from core.workspace import Workspace

# day-first dates and comma decimals: formats a fresh judgement has to find
TX = ('customer_id;order_date;amount;note\nC1;25/01/2024;"1.234,50";x\nC2;03/02/2024;"12,00";y\n'
      'C1;14/02/2024;"7,25";z\n')
runner = CliRunner()


def columns(folder):
    return Workspace.open(folder).sources["transactions"].columns


def checked(folder):
    """What every analysis does first: check the tables it reads (and remember)."""
    return checked_workspace(Workspace.open(folder, lazy=True), ("transactions",), (), "test")


@pytest.fixture
def no_judging(monkeypatch):
    """Fail if a format is judged on the first rows again."""
    def refuse(*args, **kwargs):
        raise AssertionError("judged again")

    def on():
        for name in ("detect_date_format", "detect_number_format", "csv_head"):
            monkeypatch.setattr(workspace_module, name, refuse)
    return on


def test_a_second_open_reads_the_judged_formats_and_they_are_a_fresh_judgements(make_workspace, no_judging):
    folder = make_workspace({"transactions.csv": TX})
    reference = columns(folder)  # nothing remembered yet
    assert {m.canonical: m.detail for m in reference}["order_date"] == "%d/%m/%Y"
    assert {m.canonical: m.number.decimal for m in reference if m.number}["amount"] == ","
    checked(folder)
    assert (folder / FORMATS_FILE).is_file()
    no_judging()
    assert columns(folder) == reference
    result = runner.invoke(app, ["segment", "rfm", "-w", str(folder), "-f", "json"])
    assert result.exit_code == 0, result.output
    assert '"revenue": 1253.75' in result.output  # 1.234,50 + 12,00 + 7,25 read as before


def test_opening_without_checking_writes_nothing(make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    columns(folder)
    assert not (folder / ".loyalist").exists()


def test_a_changed_file_is_judged_afresh(make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    checked(folder)
    path = folder / "transactions.csv"
    stat = path.stat()
    # month-first now, same size and time stamp: only the first bytes tell
    path.write_text(TX.replace("25/01/2024", "01/25/2024").replace("14/02/2024", "02/14/2024")
                    .replace("03/02/2024", "02/03/2024"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    assert {m.canonical: m.detail for m in columns(folder)}["order_date"] == "%m/%d/%Y"


def test_a_changed_loyalist_toml_is_judged_afresh(make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    checked(folder)
    (folder / "loyalist.toml").write_text('[tables.transactions]\ndate_format = "%Y/%d/%m"\n')
    assert {m.canonical: m.detail for m in columns(folder)}["order_date"] == "%Y/%d/%m"


def test_a_damaged_formats_file_is_ignored(make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    reference = columns(folder)
    checked(folder)
    (folder / FORMATS_FILE).write_text("{not json")
    assert columns(folder) == reference
    shutil.rmtree(folder / ".loyalist")
    assert columns(folder) == reference
