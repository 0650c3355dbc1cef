"""Export from the screens: what is on screen is written where the analyst says, the path
is shown, and an existing file is never replaced without asking."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
from textual.widgets import Input, Select, Static

from tui.app import LoyalistApp
from tui.screens.export import ExportDialog
from tui.screens.segments import SegmentsScreen

SIZE = (100, 30)


def toasts(app: LoyalistApp) -> list[str]:
    return [str(t.render()) for t in app.screen.query("Toast")]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


async def open_export(app: LoyalistApp, pilot, settle, path: Path) -> ExportDialog:
    await pilot.press("e")
    await settle(pilot)
    dialog = app.screen
    assert isinstance(dialog, ExportDialog)
    dialog.query_one("#export-path", Input).value = str(path)
    await pilot.pause()
    return dialog


async def test_export_a_segments_customers_as_csv(sample_copy: Path, settle, tmp_path: Path) -> None:
    app = LoyalistApp(sample_copy)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("enter")  # Champions' customers
        await settle(pilot)
        shown = app.screen.query_one("#members-browser").table.row_count
        target = tmp_path / "champions.csv"
        dialog = await open_export(app, pilot, settle, target)
        assert dialog.query_one("#export-format", Select).value == "csv"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SegmentsScreen)  # the dialog closed
        rows = read_csv(target)
        assert len(rows) == shown > 0
        assert {"customer_id", "name", "r_score", "f_score", "m_score"} <= set(rows[0])
        assert "segment" not in rows[0]  # the file is the segment's list, already named
        assert any(str(target) in t for t in toasts(app)), "the path is shown"

        await pilot.press("v", "e")  # the profile view exports the segmentation and its profile
        await settle(pilot)
        dialog = app.screen
        assert dialog.query_one("#export-format", Select).value == "xlsx"
        dialog.query_one("#export-path", Input).value = str(tmp_path / "rfm")
        await pilot.press("enter")
        await settle(pilot)
        sheets = {s.lower() for s in openpyxl.load_workbook(tmp_path / "rfm.xlsx", read_only=True).sheetnames}
        assert {"segments", "customers", "profile", "channels"} <= sheets


async def test_never_overwrites_without_asking(workspace: Path, settle, tmp_path: Path) -> None:
    target = tmp_path / "rows.csv"
    target.write_text("keep me", encoding="utf-8")
    app = LoyalistApp(workspace)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        dialog = await open_export(app, pilot, settle, target)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog, "the dialog stays open to ask"
        assert "already exists" in dialog.query_one("#export-message", Static).render().plain
        assert dialog.query_one("#export-confirm").display
        assert target.read_text(encoding="utf-8") == "keep me"

        await pilot.click("#export-rename")  # another name is proposed, and nothing written yet
        await settle(pilot)
        proposed = Path(dialog.query_one("#export-path", Input).value)
        assert proposed == tmp_path / "rows-2.csv" and not proposed.exists()
        await pilot.press("enter")
        await settle(pilot)
        assert len(read_csv(proposed)) == 4 and target.read_text(encoding="utf-8") == "keep me"

        dialog = await open_export(app, pilot, settle, target)  # now say yes
        await pilot.press("enter")
        await settle(pilot)
        await pilot.click("#export-overwrite")
        await settle(pilot)
        assert [r["customer_id"] for r in read_csv(target)] == ["C1", "C2", "C1", "C9"]


async def test_format_choice_and_errors_stay_in_the_dialog(workspace: Path, settle, tmp_path: Path) -> None:
    app = LoyalistApp(workspace)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("m")  # the mapping tab exports the tables and their column mapping
        dialog = await open_export(app, pilot, settle, tmp_path / "no such folder" / "x.xlsx")
        assert dialog.query_one("#export-format", Select).value == "xlsx"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog
        assert "folder does not exist" in dialog.query_one("#export-message", Static).render().plain
        assert not dialog.query_one("#export-table-row").display  # a workbook holds every table

        dialog.query_one("#export-format", Select).value = "parquet"  # a one-table format
        await pilot.pause()
        assert Path(dialog.query_one("#export-path", Input).value).suffix == ".parquet"
        assert dialog.query_one("#export-table-row").display  # which table: asked only now
        assert dialog.query_one("#export-table", Select).value == "columns"
        dialog.query_one("#export-path", Input).value = str(tmp_path / "mapping.parquet")
        await pilot.press("enter")
        await settle(pilot)
        table = pq.read_table(tmp_path / "mapping.parquet")
        assert set(table.column("column").to_pylist()) >= {"customer_id", "order_date", "amount", "region"}

        dialog = await open_export(app, pilot, settle, tmp_path / "workspace")  # no extension: the format's
        await pilot.press("enter")
        await settle(pilot)
        sheets = openpyxl.load_workbook(tmp_path / "workspace.xlsx", read_only=True).sheetnames
        assert {"tables", "columns"} <= {s.lower() for s in sheets}

        await pilot.press("e")
        await settle(pilot)
        await pilot.press("escape")  # cancel writes nothing
        await settle(pilot)
        assert not isinstance(app.screen, ExportDialog)
        assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["mapping.parquet", "workspace.xlsx"]


async def test_export_filtered_rows_from_the_data_screen(workspace: Path, settle, tmp_path: Path) -> None:
    app = LoyalistApp(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("w")
        app.screen.query_one("#query-input", Input).value = "amount > 6"
        await pilot.press("enter")
        await settle(pilot)
        target = tmp_path / "big orders.csv"
        await open_export(app, pilot, settle, target)
        await pilot.press("enter")
        await settle(pilot)
        rows = read_csv(target)
        assert [r["amount"] for r in rows] == ["10.5", "20.0"]  # only the rows on screen
        assert [r["customer_id"] for r in rows] == ["C1", "C1"]


async def test_nothing_to_export_is_said_not_crashed(tmp_path: Path, settle) -> None:
    app = LoyalistApp(tmp_path / "missing")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert app.is_running and not isinstance(app.screen, ExportDialog)
        assert any("Nothing to export" in t for t in toasts(app))


def test_the_dialog_offers_every_format_the_exporter_writes() -> None:
    from core.export import DOCUMENT_FORMATS, FORMATS, TABLE_FORMATS
    from tui.export import EXTENSIONS, file_stem, format_of, with_format

    assert set(EXTENSIONS) == set(TABLE_FORMATS) | set(DOCUMENT_FORMATS) == set(FORMATS.values())
    assert all(format_of(Path("x" + ext)) == fmt for fmt, ext in EXTENSIONS.items())
    assert with_format(Path("a/report.csv"), "xlsx") == Path("a/report.xlsx")
    assert with_format(Path("a/v1.2 results"), "md") == Path("a/v1.2 results.md")  # not a known extension
    assert file_stem("RFM", "Can't Lose Them") == "rfm-cant-lose-them"
    assert file_stem("客户", "高价值") == "客户-高价值"


async def test_a_shareable_export_hashes_ids_and_drops_names(sample_copy: Path, settle, tmp_path: Path) -> None:
    import hashlib
    import hmac

    from textual.widgets import Checkbox

    plain, shared = tmp_path / "plain.csv", tmp_path / "shared.csv"
    app = LoyalistApp(sample_copy)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("enter")  # Champions' customers, with their names
        await settle(pilot)
        for target, shareable in ((plain, False), (shared, True)):
            dialog = await open_export(app, pilot, settle, target)
            dialog.query_one("#export-pseudonymise", Checkbox).value = shareable
            await pilot.pause()
            dialog.query_one("#export-path", Input).focus()
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, SegmentsScreen), "the dialog closed"
    before, after = read_csv(plain), read_csv(shared)
    key = bytes.fromhex((sample_copy / ".loyalist" / "pseudonym.key").read_text().strip())
    assert len(after) == len(before) > 0  # still one row per customer
    assert "name" in before[0] and "name" not in after[0]
    assert [r["customer_id"] for r in after] == [
        hmac.new(key, r["customer_id"].encode(), hashlib.sha256).hexdigest()[:16] for r in before]
    names = {r["name"] for r in before}
    assert not any(n in shared.read_text(encoding="utf-8") for n in names)
