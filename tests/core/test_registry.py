"""The registry of analyses: cheap to list, declared in agreement with the functions it runs,
and one way to run any analysis (options checked, tables checked once, provenance kept)."""

from __future__ import annotations

import datetime as dt
import inspect
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from core.errors import InputError, MissingTableError
from core.registry import (CHOICE, INT, PAIRS, Analysis, Option, OptionError, analyses, get, register,
                           resolve_options, run_analysis)
from core.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
TX = "customer_id,order_date,amount,channel\nC1,2024-01-05,10,web\nC2,2024-02-06,20,store\nC1,2024-03-01,12,web\n"
ISSUE_13_KINDS = {"data.inspect", "data.validate", "segment.rfm", "segment.kmeans", "segment.quadrant",
                  "segment.profile", "segment.migrate", "scale.check", "scale.score", "scale.validate",
                  "report.channels", "report.attribution", "report.experiment", "report.experiment.plan",
                  "report.campaign", "report.program", "report.nps", "report.cohorts", "report.kpi",
                  "predict.clv", "predict.churn", "predict.drivers"}


def test_every_analysis_of_the_issue_is_registered():
    assert ISSUE_13_KINDS <= {a.kind for a in analyses()}


def test_listing_analyses_imports_nothing_heavy():
    code = ("import sys, core.registry as r\n"
            "names = [(a.kind, [o.name for o in a.options]) for a in r.analyses()]\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'polars', 'numpy', 'sklearn', 'scipy'}))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("kind", sorted(a.kind for a in analyses()))
def test_the_declaration_agrees_with_the_function_it_runs(kind):
    analysis = get(kind)
    signature = inspect.signature(analysis.runner())
    params = signature.parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    for option in analysis.options:
        assert option.name in params or takes_any, f"{kind}: the function has no {option.name}"
        default = params[option.name].default if option.name in params else inspect.Parameter.empty
        if default is not inspect.Parameter.empty and not option.required:
            assert option.default == default, f"{kind}: {option.name} defaults to {default!r} in the function"
    if analysis.takes == "tables":
        for table in (*analysis.needs, *analysis.uses):
            assert table in params, f"{kind}: the function takes no {table} table"


def test_options_are_checked_with_the_option_and_the_fix_named():
    rfm = get("segment.rfm")
    assert resolve_options(rfm, {"bins": 4, "as-of": "2024-06-30"}) == {
        "as_of": dt.date(2024, 6, 30), "bins": 4, "method": "rank", "scheme": "map", "engine": None}
    cases = [({"bins": 6}, "bins .*at most 5"), ({"bins": "four"}, "bins must be a whole number"),
             ({"method": "mean"}, "method must be one of rank, midrank"), ({"bisn": 3}, "no option 'bisn'"),
             ({"as_of": "June"}, "as_of must be a date")]
    for given, message in cases:
        with pytest.raises(InputError, match=message) as err:
            resolve_options(rfm, given)
        assert err.value.exit_code == 2 and "Fix:" in str(err.value)
    with pytest.raises(InputError, match="needs option baseline"):
        resolve_options(get("report.experiment.plan"), {"lift": 0.1})
    assert resolve_options(get("report.experiment"), {"split": "control=50, treatment=50"})["split"] == {
        "control": 50.0, "treatment": 50.0}
    with pytest.raises(OptionError, match="cannot read the planned split"):
        resolve_options(get("report.experiment"), {"split": "control:50"})


def test_a_declaration_mistake_is_caught_when_it_is_made(add_analysis):
    with pytest.raises(ValueError, match="type must be"):
        Option("when", "datetime")
    with pytest.raises(ValueError, match="choices"):
        Option("method", CHOICE, "rank")
    with pytest.raises(ValueError):
        Option("bins", INT, 9, high=5)  # a default its own bounds refuse
    with pytest.raises(ValueError, match="registered group"):
        register(Analysis("nogroup.x", "X", "x", run="m:f"))
    with pytest.raises(ValueError, match="both answer"):
        add_analysis(Analysis("test.clash", "X", "x", run="m:f", options=(
            Option("as_of", "date"), Option("end", "date", flags=("--as-of",)))))


def test_tables_are_checked_once_before_the_analysis_runs(make_workspace, monkeypatch):
    ws = Workspace.open(make_workspace({"transactions.csv": TX}))
    import core.invalid

    calls = []
    real = core.invalid.checked_workspace
    monkeypatch.setattr(core.invalid, "checked_workspace", lambda ws, needs, uses, analysis, engine=None: (
        calls.append(tuple(needs)), real(ws, needs, uses, analysis, engine))[1])
    run_analysis("report.cohorts", ws)
    assert calls == [("transactions",)]
    with pytest.raises(MissingTableError, match="nps report needs the 'survey' table"):
        run_analysis("report.nps", ws)


def test_options_change_the_tables_needed(make_workspace, tmp_path):
    ws = Workspace.open(make_workspace({"transactions.csv": TX}))
    with pytest.raises(MissingTableError, match="touchpoints"):
        run_analysis("segment.profile", ws, {"by": "quadrant"})
    with pytest.raises(MissingTableError, match="touchpoints"):
        run_analysis("report.attribution", ws)
    paths = tmp_path / "paths.csv"
    paths.write_text("path,conversions,nulls\na > b,2,1\nb,1,3\n", encoding="utf-8")
    result = run_analysis("report.attribution", ws, {"paths": paths})  # a paths file stands in for them
    assert result.headline["conversions"] == 3 and result.params["paths"] == str(paths)
    in_memory = pl.LazyFrame({"path": ["a > b", "b"], "conversions": [2, 1], "nulls": [1, 3]})
    assert run_analysis("report.attribution", ws, {"paths": in_memory}).headline["conversions"] == 3


def test_a_result_is_named_after_its_kind_and_records_where_it_came_from(make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    result = run_analysis("segment.migrate", Workspace.open(folder), {"from": "2024-02-01"})
    assert result.name == "segment.migrate"
    assert result.params["from_date"] == dt.date(2024, 2, 1) and result.params["by"] == "rfm"
    assert result.params["workspace"] == str(folder) and result.params["tables"] == "transactions.csv"
    kpi = run_analysis("report.kpi", Workspace.open(folder), {"as_of": dt.date(2024, 2, 29)})
    assert kpi.params["end"] == kpi.params["as_of"] == dt.date(2024, 2, 29)  # --as-of is kpi's period end


def test_the_plan_needs_no_workspace():
    result = run_analysis("report.experiment.plan", None, {"baseline": 0.1, "lift": 0.2})
    assert result.headline["units_control"] > 0 and "workspace" not in result.params


def test_a_pairs_option_reads_text_and_mappings():
    option = Option("split", PAIRS)
    assert option.convert({"a": 1, "b": 2.5}) == {"a": 1.0, "b": 2.5}
    with pytest.raises(OptionError):
        option.convert({"a": "lots"})
