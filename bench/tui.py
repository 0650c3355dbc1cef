"""TUI responsiveness on a big workspace, measured headless (App.run_test), in bench.child.

Reported: seconds to import the app; seconds from starting the app to its first screen
(the Data screen mounted, before any data is read: opening, reading rows and inspecting
run in thread workers); seconds until the transactions browser holds its first rows and
until the tables list is filled (it follows the rows); the
longest stall of the UI thread meanwhile (the largest gap between ticks of a 10 ms
timer); and the time from a key to the next frame drawn while paging through the rows (page
down, end, home).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

SIZE = (160, 45)
TICK = 0.01
PAGES = 60
LOAD_TIMEOUT = 600
KEY_TIMEOUT = 5


def tui_stage(folder: Path, args: dict):
    started = time.perf_counter()
    from tui.app import LoyalistApp
    from tui.screens.data import BROWSE_ROWS, DataScreen
    from tui.widgets.browser import TableBrowser
    from tui.widgets.frame_table import FrameTable
    import_seconds = time.perf_counter() - started

    async def measure() -> dict:
        ticks: list[float] = []
        app = LoyalistApp(folder)
        start = time.perf_counter()
        async with app.run_test(size=SIZE) as pilot:
            first_screen = time.perf_counter() - start
            assert isinstance(app.screen, DataScreen), type(app.screen)
            timer = app.set_interval(TICK, lambda: ticks.append(time.perf_counter()))
            browser = app.screen.query_one(TableBrowser)
            tables_at = rows_at = None
            # the rows come first, the tables list (a pass over every table) after them
            while (rows_at is None or tables_at is None) and time.perf_counter() - start < LOAD_TIMEOUT:
                await pilot.pause(0.02)
                # queried afresh: the screen may replace the list's widget when it fills it
                if tables_at is None and app.screen.query_one("#tables", FrameTable).row_count:
                    tables_at = time.perf_counter() - start
                if rows_at is None and browser.table is not None and browser.table.row_count:
                    rows_at = time.perf_counter() - start
            if rows_at is None:
                raise RuntimeError(f"the browser had no rows after {LOAD_TIMEOUT} s")
            # The first page is replaced by a table holding every row (up to BROWSE_ROWS): page
            # through that one, not the first page's table, which leaves the screen. Known by
            # its backend: while the new table is mounted the old one is still there, being
            # removed (keys sent to it move nothing: the 1m stage timed out on every key).
            full_at = None
            while time.perf_counter() - start < LOAD_TIMEOUT:
                shown = getattr(app.screen, "shown", None)
                if shown is not None and not shown.first_page and browser.table is not None \
                        and browser.table.backend is shown.backend:
                    full_at = time.perf_counter() - start
                    break
                await pilot.pause(0.02)
            stall = max((b - a for a, b in zip(ticks, ticks[1:])), default=0.0)
            timer.stop()
            table = browser.table
            rows = table.row_count
            table.focus()
            await pilot.pause()
            frames = spy_frames(app)
            page_times = [await _key_to_frame(app, table, "pagedown", frames)
                          for _ in range(PAGES)]
            end_seconds = await _key_to_frame(app, table, "end", frames)
            last_row = table.cursor_coordinate.row
            home_seconds = await _key_to_frame(app, table, "home", frames)
        page_times.sort()
        return {
            "rows": rows, "rows_unit": "rows browsed",
            "detail": {
                "import_seconds": round(import_seconds, 3),
                "first_screen_seconds": round(first_screen, 3),
                "tables_seconds": round(tables_at or float("nan"), 3),
                "rows_seconds": round(rows_at, 3),
                "all_rows_seconds": round(full_at or float("nan"), 3),
                "max_ui_stall_ms": round(stall * 1000, 1),
                "page_down_median_ms": round(page_times[len(page_times) // 2] * 1000, 1),
                "page_down_max_ms": round(page_times[-1] * 1000, 1),
                "end_ms": round(end_seconds * 1000, 1), "home_ms": round(home_seconds * 1000, 1),
                "cursor_row_after_end": last_row, "browse_cap": BROWSE_ROWS,
            },
        }

    return lambda: asyncio.run(measure())


def spy_frames(app) -> list[float]:
    """Times at which the app hands a new frame to the (headless) driver. The frame is
    composed (every visible widget rendered) before this call, so a key's latency up
    to it is what a user would wait for."""
    frames: list[float] = []
    display = app._display

    def spy(screen, renderable):
        if renderable is not None:
            frames.append(time.perf_counter())
        display(screen, renderable)

    app._display = spy
    return frames


async def _key_to_frame(app, table, key: str, frames: list[float]) -> float:
    """Seconds from sending `key` to the first frame drawn after the cursor moved."""
    from textual import events

    before = table.cursor_coordinate
    start = time.perf_counter()
    app._driver.send_message(events.Key(key, None))
    moved_at = None
    while time.perf_counter() - start < KEY_TIMEOUT:
        await asyncio.sleep(0.001)
        if moved_at is None and table.cursor_coordinate != before:
            moved_at = time.perf_counter()
        if moved_at is not None and frames and frames[-1] >= moved_at:
            return frames[-1] - start
    return float("nan")  # the key did nothing visible (e.g. end when already at the end)
