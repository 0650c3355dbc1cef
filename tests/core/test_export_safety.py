"""Exports are safe to open and safe to write: formula-looking headers are neutralised,
a replaced file keeps its permissions, bad names and a full disk are clear errors and
nothing is left half-written.

Files are read back with the csv module and os.stat, independent of the writers.
"""

import csv
import errno
import os
import stat

import pytest
from typer.testing import CliRunner

from commands.app import app
from core.errors import InputError
from core.evaluate.channels import channels
from core.export import write_result
from core.workspace import Workspace

HYPERLINK = '=HYPERLINK("http://evil.example","Click")'
# A POS export whose channel column was filled in by hand, one "channel" being a formula.
ORDERS = ("Order ID,Customer,Created at,Total,Source\n"
          "1001,C1,2024-01-10,100.00,web\n"
          f'1002,C1,2024-01-12,50.00,"{HYPERLINK.replace(chr(34), chr(34) * 2)}"\n'
          "1003,C2,2024-02-20,70.00,@SUM(A1)\n"
          "1004,C3,2024-02-21,20.00,-5\n")


def channels_result(folder):
    ws = Workspace.open(folder)
    return channels(ws.scan("transactions"), workspace=str(folder))


@pytest.mark.parametrize(("suffix", "delimiter"), [(".csv", ","), (".tsv", "\t")])
def test_pivot_headers_made_of_data_values_are_neutralised(make_workspace, tmp_path, suffix, delimiter):
    result = channels_result(make_workspace({"transactions.csv": ORDERS}))
    path = write_result(result, tmp_path / f"overlap{suffix}", table="overlap")
    with path.open(newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f, delimiter=delimiter))
    assert "'" + HYPERLINK in header and "'@SUM(A1)" in header
    assert "-5" in header  # a plain number stays as it is
    assert not any(h[:1] in "=+@" for h in header)
    assert "'" + HYPERLINK in [r[0] for r in rows]  # the row labels, as before


def test_csv_on_stdout_is_neutralised_like_the_file(make_workspace):
    folder = make_workspace({"transactions.csv": ORDERS})
    out = CliRunner().invoke(app, ["report", "channels", "-w", str(folder), "-f", "csv"])
    assert out.exit_code == 0, out.output
    first_cells = [row[0] for row in csv.reader(out.stdout.splitlines())]
    assert "'" + HYPERLINK in first_cells and "'@SUM(A1)" in first_cells and HYPERLINK not in first_cells


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet", ".md", ".html", ".json"])
def test_force_keeps_the_permissions_of_the_file_it_replaces(make_workspace, tmp_path, suffix):
    result = channels_result(make_workspace({"transactions.csv": ORDERS}))
    path = write_result(result, tmp_path / f"private{suffix}")
    os.chmod(path, 0o600)
    write_result(result, path, force=True)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    os.chmod(path, 0o640)
    write_result(result, path, force=True)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_a_name_over_the_file_system_limit_is_a_clear_error_exit_2(make_workspace):
    folder = make_workspace({"transactions.csv": ORDERS})
    too_long = folder / ("Kundenumsätze nach Kanal " * 12 + ".xlsx")  # 300+ bytes in UTF-8
    out = CliRunner().invoke(app, ["report", "channels", "-w", str(folder), "-o", str(too_long)])
    assert out.exit_code == 2, out.output
    assert "is too long" in out.stderr and "bytes; this file system allows 255" in out.stderr
    assert "Fix: choose a shorter name" in out.stderr and "internal error" not in out.stderr
    assert list(folder.iterdir()) == [folder / "transactions.csv"]  # nothing half-written


def test_a_long_name_within_the_limit_is_written(make_workspace, tmp_path):
    # The temporary file beside it must not push the name over the limit.
    result = channels_result(make_workspace({"transactions.csv": ORDERS}))
    out = tmp_path / "out"
    out.mkdir()
    path = write_result(result, out / ("c" * 250 + ".csv"))
    assert [p.name for p in out.iterdir()] == [path.name] and path.read_text().startswith("channel,")


def test_a_nul_in_the_name_is_a_clear_error(make_workspace, tmp_path):
    result = channels_result(make_workspace({"transactions.csv": ORDERS}))
    with pytest.raises(InputError) as caught:
        write_result(result, tmp_path / "report\x00.html")
    assert caught.value.exit_code == 2
    assert "contains a NUL character" in str(caught.value) and "report\\0.html" in str(caught.value)
