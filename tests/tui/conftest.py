"""Fixtures for driving the real app with Textual's Pilot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.worker import WorkerCancelled, WorkerState

ACTIVE = (WorkerState.PENDING, WorkerState.RUNNING)


async def _settle(pilot: Pilot) -> None:
    """Wait until no worker is running and every message they posted has been handled.

    A finished worker posts a message whose handler may start the next worker (open ->
    inspect -> rows), so wait, drain the queue and look again until all is quiet twice.
    """
    app = pilot.app
    quiet = 0
    for _ in range(100):
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:  # an exclusive worker replaced by a newer one: look again
            pass
        await pilot.pause()
        quiet = 0 if any(w.state in ACTIVE for w in app.workers) else quiet + 1
        if quiet == 2:
            return
    raise AssertionError("workers never settled")


@pytest.fixture(autouse=True)
def forgetful(monkeypatch) -> None:
    """The app remembers nothing between tests (most open the shared sample folder);
    tests of what it remembers ask for `remembering`."""
    from tui.app import LoyalistApp

    monkeypatch.setattr(LoyalistApp, "remember_state", False)


@pytest.fixture
def remembering(monkeypatch) -> None:
    from tui.app import LoyalistApp

    monkeypatch.setattr(LoyalistApp, "remember_state", True)


@pytest.fixture
def settle() -> Callable[[Pilot], Awaitable[None]]:
    return _settle


@pytest.fixture
def workspace(make_workspace) -> Path:
    """Chinese transaction headers (mapped by synonym), a return (negative amount), an
    orphan customer id (C9) and a customer listed twice (C2, rows 3 and 4)."""
    return make_workspace({
        "transactions.csv": "客户ID,订单日期,金额,渠道\n"
                            "C1,2024-01-03,10.50,online\n"
                            "C2,2024-01-04,-3.00,店铺\n"
                            "C1,2024-02-01,20.00,online\n"
                            "C9,2024-02-02,5.00,online\n",
        "customers.csv": "customer_id,region,tier\n"
                         "C1,华东,gold\n"
                         "C2,West,silver\n"
                         "C2,West,silver\n",
    })


@pytest.fixture(autouse=True)
def lasting_toasts(monkeypatch) -> None:
    """Toasts stay until the test reads them: on a loaded machine settling can take longer
    than a toast's few seconds, and a test must not depend on the machine's speed."""
    from tui.app import LoyalistApp

    notify = LoyalistApp.notify

    def lasting(self, message, *, title="", severity="information", timeout=None, markup=True):
        notify(self, message, title=title, severity=severity, timeout=3600, markup=markup)

    monkeypatch.setattr(LoyalistApp, "notify", lasting)
