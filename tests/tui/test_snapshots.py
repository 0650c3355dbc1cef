"""Screenshots of the screens an analyst reads most, on the bundled sample, at 100x30 and
160x48, compared with the committed ones (tests/tui/__snapshots__), so a layout regression
is seen: a cut column, a lost footer key, a panel that no longer fits.

Deterministic by construction: the sample is fixed (seed 7), the workspace is opened by its
relative path from the repository root (no machine-specific path on screen), nothing is
remembered between runs, the header has no clock, the runs' stopwatch is stopped and every
worker has finished before the picture is taken. After an intended layout change, look at
the new pictures and rewrite them with
`python -m pytest tests/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.app import LoyalistApp

ROOT = Path(__file__).resolve().parents[2]
SIZES = {"100x30": (100, 30), "160x48": (160, 48)}
SCREENS = {
    "data": ("d",),  # the transactions table's rows, the first thing an analyst sees
    "reports": ("p", "enter", "right_square_bracket", "right_square_bracket"),  # Channels run, its table
    "products": ("k",),  # the rules, with the first rule's customers
}


@pytest.fixture
def sample_app(monkeypatch) -> LoyalistApp:
    if not (ROOT / "fixtures" / "sample").is_dir():
        pytest.skip("the sample workspace has not been generated")
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr("tui.progress.clock", lambda: 0.0)  # a run's "1.4 s" would differ each time
    return LoyalistApp(Path("fixtures") / "sample")


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen_looks_as_committed(screen: str, size: str, sample_app: LoyalistApp, settle, snap_compare) -> None:
    async def walk(pilot) -> None:
        await settle(pilot)
        for key in SCREENS[screen]:
            await pilot.press(key)
            await settle(pilot)

    assert snap_compare(sample_app, terminal_size=SIZES[size], run_before=walk)
