"""The Data screen's tables list and Mapping tab come from what the checks' worker prepared
(Inspected.mappings, Validated.counts: Polars queries off the UI thread). Checked against the
same rows picked by a plain Polars query over the checks' own Results."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from core.inspect import inspect_workspace
from core.validate import validation_result
from core.workspace import Workspace
from tui import present
from tui.screens.data import Inspected, Validated

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample"


def test_the_tables_list_and_mappings_match_a_query_over_the_checks_results() -> None:
    ws = Workspace.open(SAMPLE)
    inspected, validated = Inspected(ws, inspect_workspace(ws)), Validated(ws, validation_result(ws))
    columns = inspected.result.tables["columns"]
    assert set(inspected.mappings) == set(inspected.result.tables["tables"]["table"])
    for table, rows in inspected.mappings.items():
        assert_frame_equal(rows, columns.filter(pl.col("table") == table).select(list(present.MAPPING_LABELS)))

    findings = validated.result.tables["findings"]
    overview = present.tables_overview(inspected.result, validated.counts)
    expected = (inspected.result.tables["tables"]
                .join(findings.group_by("table").agg(errors=(pl.col("severity") == "error").sum(),
                                                    warnings=(pl.col("severity") == "warning").sum()),
                      on="table", how="left"))
    issues = [present.issue_text(e or 0, w or 0) for e, w in expected.select("errors", "warnings").iter_rows()]
    assert overview.columns == list(present.TABLE_LABELS)
    assert overview["issues"].to_list() == issues
    assert_frame_equal(overview.drop("issues"), expected.select([c for c in present.TABLE_LABELS if c != "issues"]))
    assert findings.height and any(i != "ok" for i in issues)  # the sample has findings to count

    waiting = present.tables_overview(inspected.result, None)
    assert set(waiting["issues"]) == {"checking…"}
