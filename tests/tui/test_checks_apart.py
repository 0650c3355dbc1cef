"""A big workspace is checked in a child process (tui.checks), so the checks' seconds of
work at ten million rows do not stall the app's UI thread. What the analyst sees is the
same as when the checks run in a thread: the tables list, the findings, and a cache that
spares the next opening the checks."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

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
    monkeypatch.setattr(data, "inspect_workspace", not_here)
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

    # opened again: the findings come from the cache the child wrote
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

    def file_gone_first(ws, cancelled):
        (folder / "transactions.csv").unlink()
        return real(ws, cancelled)

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
