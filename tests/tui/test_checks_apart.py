"""A big workspace is checked in a child process (tui.checks), so the checks' seconds of
work at ten million rows do not stall the app's UI thread. What the analyst sees is the
same as when the checks run in a thread: the tables list, the findings, and a cache that
spares the next opening the checks."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import polars as pl
import pytest
from textual.widgets import Static

from core.validate import validation_result
from core.workspace import Workspace
from tests.tui.test_data_screen import column_values, findings_text, status_text
from tui import checks
from tui.app import LoyalistApp
from tui.widgets.frame_table import FrameTable

SIZE = (100, 30)


def not_here(*_args, **_kwargs):
    raise AssertionError("checked in the app's process")


async def test_a_big_workspace_is_checked_in_a_child_process(workspace: Path, settle, monkeypatch) -> None:
    import tui.screens.data as data

    monkeypatch.setattr(checks, "APART_BYTES", 0)  # every workspace counts as big
    monkeypatch.setattr(data, "tables_list", not_here)
    monkeypatch.setattr(data, "validation_result", not_here)
    app = LoyalistApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert column_values(screen.query_one("#tables", FrameTable), "table") == ["transactions", "customers"]
        assert "customer ids that appear more than once" in findings_text(app)
        assert "1 error" in status_text(app)
        assert "transactions.csv" in screen.query_one("#browser-caption", Static).render().plain
    assert (workspace / ".loyalist" / "checks.json").is_file()  # the child kept what it found

    # opened again: the findings come from the cache the child wrote, read here at once
    monkeypatch.setattr(data, "validation_result", validation_result)
    app = LoyalistApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "customer ids that appear more than once" in findings_text(app)
        assert "remembered from an earlier check" in "\n".join(app.screen.findings.notes)


async def test_a_workspace_that_fails_in_the_child_says_why(make_workspace, settle, monkeypatch) -> None:
    # the tables read in the app, but the child finds the file gone: an error, not a hang
    folder = make_workspace({"transactions.csv": "customer_id,order_date,amount\nC1,2024-01-03,10.50\n"})
    monkeypatch.setattr(checks, "APART_BYTES", 0)
    real = checks.run_apart

    def file_gone_first(ws, cancelled, tasks):
        (folder / "transactions.csv").unlink()
        return real(ws, cancelled, tasks)

    monkeypatch.setattr("tui.screens.data.run_apart", file_gone_first)
    app = LoyalistApp(folder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Validation could not run" in findings_text(app)
        assert "transactions" in findings_text(app)


def test_only_big_files_are_checked_apart(make_workspace, monkeypatch) -> None:
    from core.workspace import Workspace

    folder = make_workspace({"transactions.csv": "customer_id,order_date,amount\nC1,2024-01-03,10.50\n"})
    ws = Workspace.open(folder)
    assert not checks.checked_apart(ws)  # a child would cost more than these checks
    monkeypatch.setattr(checks, "APART_BYTES", (folder / "transactions.csv").stat().st_size)
    assert checks.checked_apart(ws)


# -- a warm check cache answers in the app; the child only for what must be read ------------


def parquet_workspace(folder: Path) -> Path:
    """Parquet files (the tables list is cheap) with a customer listed twice (C2)."""
    folder.mkdir()
    pl.DataFrame({"customer_id": ["C1", "C2", "C1"], "order_date": pl.Series(["2024-01-03", "2024-01-04", "2024-02-01"]).str.to_date(),
                  "amount": [10.5, 3.0, 20.0]}).write_parquet(folder / "transactions.parquet")
    pl.DataFrame({"customer_id": ["C1", "C2", "C2"], "region": ["East", "West", "West"]}).write_parquet(
        folder / "customers.parquet")
    return folder


@pytest.fixture
def children(monkeypatch) -> list[list[str]]:
    """The command lines of the checks' child processes, started as usual."""
    started: list[list[str]] = []
    monkeypatch.setattr(checks.subprocess, "Popen", children_popen(started))
    monkeypatch.setattr(checks, "APART_BYTES", 0)  # every workspace counts as big
    return started


def children_popen(started: list[list[str]], real=subprocess.Popen):
    def counted(args, *rest, **kwargs):
        started.append(list(args))
        return real(args, *rest, **kwargs)

    return counted


def no_child(*_args, **_kwargs):
    raise AssertionError("a child process was started")


async def test_a_warm_cache_shows_the_findings_without_a_child(tmp_path, settle, monkeypatch) -> None:
    folder = parquet_workspace(tmp_path / "ws")
    validation_result(Workspace.open(folder))  # as a command would: the check cache now holds every table
    monkeypatch.setattr(checks, "APART_BYTES", 0)
    monkeypatch.setattr(checks.subprocess, "Popen", no_child)
    app = LoyalistApp(folder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "customer ids that appear more than once" in findings_text(app)
        assert "remembered from an earlier check" in "\n".join(app.screen.findings.notes)
        assert column_values(app.screen.query_one("#tables", FrameTable), "table") == ["transactions", "customers"]
        assert "1 error" in status_text(app)


async def test_a_changed_file_is_checked_in_the_child(tmp_path, settle, children) -> None:
    folder = parquet_workspace(tmp_path / "ws")
    validation_result(Workspace.open(folder))
    customers = folder / "customers.parquet"
    pl.DataFrame({"customer_id": ["C1", "C2"], "region": ["East", "West"]}).write_parquet(customers)  # fixed
    stamp = customers.stat().st_mtime_ns + 5_000_000_000
    os.utime(customers, ns=(stamp, stamp))  # whatever the clock's resolution, the file's time has moved
    app = LoyalistApp(folder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert len(children) == 1 and "validate" in children[0]  # the changed file was checked afresh
        assert "customer ids that appear more than once" not in findings_text(app)
        assert column_values(app.screen.query_one("#tables", FrameTable), "table") == ["transactions", "customers"]


async def test_a_warm_cache_of_a_big_text_file_sends_only_the_tables_list_to_the_child(
        workspace: Path, settle, children) -> None:
    validation_result(Workspace.open(workspace))
    app = LoyalistApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "customer ids that appear more than once" in findings_text(app)
        assert column_values(app.screen.query_one("#tables", FrameTable), "table") == ["transactions", "customers"]
    # the CSV's row count and date range are a pass over the file: that, and only that, apart
    assert [args[-1:] for args in children] == [["inspect"]]


async def test_a_text_files_counts_are_remembered_until_it_changes(workspace: Path, settle, children,
                                                                  monkeypatch) -> None:
    validation_result(Workspace.open(workspace))
    checks.tables_list(Workspace.open(workspace))  # the CSVs' row counts and dates, once
    monkeypatch.setattr(checks.subprocess, "Popen", no_child)
    app = LoyalistApp(workspace)
    async with app.run_test(size=SIZE) as pilot:  # nothing to read in full: no child at all
        await settle(pilot)
        tables = app.screen.query_one("#tables", FrameTable)
        assert column_values(tables, "rows") == ["4", "3"]
        assert column_values(tables, "to")[0] == "2024-02-02"

    with (workspace / "transactions.csv").open("a", encoding="utf-8") as handle:
        handle.write("C1,2024-03-05,7.00,online\n")  # a new order: size and time changed
    monkeypatch.setattr(checks.subprocess, "Popen", children_popen(children))
    app = LoyalistApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tables = app.screen.query_one("#tables", FrameTable)
        assert column_values(tables, "rows") == ["5", "3"]  # counted again, in the child
        assert column_values(tables, "to")[0] == "2024-03-05"
    assert len(children) == 1 and {"inspect", "validate"} <= set(children[0])


def test_remembered_counts_list_the_same_tables_as_counting(workspace: Path, monkeypatch) -> None:
    import core.inspect

    counted = checks.tables_list(Workspace.open(workspace))
    real = core.inspect.table_counts
    monkeypatch.setattr(core.inspect, "table_counts", lambda ws, tables: real(ws, tables) if not tables else no_child())
    remembered = checks.tables_list(Workspace.open(workspace))  # no table read again
    assert remembered.tables["tables"].equals(counted.tables["tables"])

    (workspace / checks.TABLES_FILE).write_text("{not json", encoding="utf-8")  # damaged: counted again
    monkeypatch.setattr(core.inspect, "table_counts", real)
    assert checks.tables_list(Workspace.open(workspace)).tables["tables"].equals(counted.tables["tables"])
    assert set(checks.remembered_counts(Workspace.open(workspace))[0]) == {"transactions", "customers"}
