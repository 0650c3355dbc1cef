"""core.progress: steps reach the caller, and a cancelled caller stops the work at the next step."""

import pytest

from core.progress import Cancelled, step, tracking
from core.registry import run_analysis
from core.features import customer_features
from core.segments.clusters import CustomerClusters
from core.workspace import Workspace
from tests.conftest import SAMPLE


def test_without_a_tracker_a_step_does_nothing() -> None:
    step("anything", 1, 2)  # the CLI and tests run without one


def test_a_registered_analysis_says_what_it_does_and_stops_when_cancelled() -> None:
    ws = Workspace.open(SAMPLE)
    seen: list[str] = []
    with tracking(lambda what, done, total: seen.append(what)):
        run_analysis("report.channels", ws)
    assert seen[0].startswith("checking transactions") and any(s.startswith("computing") for s in seen)
    assert seen[-1] == "preparing the result"

    cancelled_after: list[str] = []

    def report(what, done, total):
        cancelled_after.append(what)

    with tracking(report, lambda: bool(cancelled_after)), pytest.raises(Cancelled):
        run_analysis("report.channels", ws)
    assert len(cancelled_after) == 1  # the first step ran; the cancel stopped it at the second


def test_choosing_k_counts_the_ks_tried() -> None:
    ws = Workspace.open(SAMPLE)
    features = customer_features(ws.scan("transactions")).collect()
    steps: list[tuple] = []
    with tracking(lambda what, done, total: steps.append((what, done, total))):
        CustomerClusters(k_range=(2, 5), seed=0).fit(features)
    assert steps == [(f"trying {k} clusters", k - 2, 4) for k in (2, 3, 4, 5)]
