"""Exports are safe to open and safe to write: formula-looking headers are neutralised,
a replaced file keeps its permissions, bad names and a full disk are clear errors and
nothing is left half-written.

Files are read back with the csv module and os.stat, independent of the writers.
"""

import csv
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


def written(folder):
    """The folder's files, less .loyalist/ (the checks the analysis remembered, core.check_cache)."""
    return sorted(p.name for p in folder.iterdir() if p.name != ".loyalist")


@pytest.fixture
def full_disk(monkeypatch):
    """Writers whose bytes go to /dev/full (every write fails with ENOSPC, as on a full
    disk) after a first part of the file was written where they were told: Polars'
    Parquet writer, and the one write of a workbook built in memory."""
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    from pathlib import Path

    import polars as pl

    real_parquet, real_write_bytes = pl.DataFrame.write_parquet, Path.write_bytes

    def parquet(self, file, *args, **kwargs):
        real_write_bytes(Path(file), b"PAR1 half a file")
        return real_parquet(self, "/dev/full", *args, **kwargs)

    def write_bytes(self, data):
        real_write_bytes(self, bytes(data[:100]))
        return real_write_bytes(Path("/dev/full"), data)

    monkeypatch.setattr(pl.DataFrame, "write_parquet", parquet)
    monkeypatch.setattr(Path, "write_bytes", write_bytes)


@pytest.mark.parametrize("name", ["channels.xlsx", "channels.parquet"])
def test_a_full_disk_is_a_clear_error_and_leaves_nothing_half_written(make_workspace, full_disk, name):
    folder = make_workspace({"transactions.csv": ORDERS})
    fresh = CliRunner().invoke(app, ["report", "channels", "-w", str(folder), "-o", str(folder / name)])
    assert fresh.exit_code == 2, fresh.output
    assert f"file {folder / name}: could not be written: the disk is full" in fresh.stderr
    assert "Fix: free some space or write elsewhere" in fresh.stderr and "internal error" not in fresh.stderr
    assert written(folder) == ["transactions.csv"]  # no partial, no temporary

    (folder / name).write_text("last week's report", encoding="utf-8")
    forced = CliRunner().invoke(app, ["report", "channels", "-w", str(folder), "-o", str(folder / name), "--force"])
    assert forced.exit_code == 2 and "the disk is full" in forced.stderr
    assert (folder / name).read_text(encoding="utf-8") == "last week's report"  # the old file is kept whole
    assert written(folder) == [name, "transactions.csv"]
