"""Numbers read the same everywhere: every registered analysis on the sample, through every
renderer. Money carries cents (no float noise such as 821187.4099999999 in CSV or JSON),
a share prints as a percentage, and a column holding percent points (NPS's promoters) is
never multiplied by 100 again."""

from __future__ import annotations

import io
import math
import re

import openpyxl
import polars as pl
import pytest
from rich.console import Console

from commands.output import print_result
from core.export import columns as k
from core.export.display import format_value
from core.export.document import Document
from core.export.html import document_html
from core.export.markdown import result_markdown
from core.export.workbook import write_workbook
from core.registry import analyses, run_analysis
from core.workspace import Workspace
from tests.conftest import SAMPLE
from tui.widgets.result_view import prepare

# Analyses that need options a sample run cannot guess (a scale spec, two dates, a plan's rates)
NEEDS_OPTIONS = {"scale.check", "scale.score", "scale.validate", "segment.migrate", "report.experiment.plan"}
FRACTION_WORDS = ("share", "rate", "pct")


@pytest.fixture(scope="module")
def results():
    ws = Workspace.open(SAMPLE)
    return {a.kind: run_analysis(a.kind, ws, {}) for a in analyses() if a.kind not in NEEDS_OPTIONS}


def float_noise(value: float) -> bool:
    """55.410000000000004: a float a hair away from a short decimal it was meant to be."""
    if not math.isfinite(value) or value == 0:
        return False
    for digits in range(7):
        near = round(value, digits)
        if near != value and abs(near - value) <= 1e-9 * max(1.0, abs(value)):
            return True
    return False


def money_values(result):
    for name, df in result.tables.items():
        for column, kind in k.kinds(df, result.kinds, name).items():
            if kind == k.MONEY and df.schema[column].is_float():
                yield f"{name}.{column}", df[column].drop_nulls().to_list()
    for key, value in result.headline.items():
        if isinstance(value, float) and k.value_kind(key, value, result.kinds) == k.MONEY:
            yield key, [value]


def test_money_has_no_float_noise_in_any_result(results):
    noisy = {f"{kind}: {where}": next(v for v in values if float_noise(v))
             for kind, result in results.items() for where, values in money_values(result)
             if any(float_noise(v) for v in values)}
    assert not noisy
    channels = results["report.channels"].tables["channels"]
    revenue = channels["revenue"].drop_nulls().to_list()
    assert revenue and revenue == [round(v, 2) for v in revenue]


def test_csv_and_json_carry_the_rounded_money(results):
    result = results["report.channels"]
    csv = result.tables["channels"].write_csv()
    assert not re.search(r"\d\.\d{3,}", ",".join(
        row.split(",")[3] for row in csv.splitlines()[1:]))  # the revenue column: cents only
    blob = str(result.to_dict())
    assert "99999999" not in blob and "00000000" not in blob.replace(".0,", ",")


def test_every_result_writes_its_json(results):
    """`--format json` and .json exports put figures and tables side by side at the top level:
    a headline named like a table (products evaluate's "customers") made the command fail."""
    failed = {}
    for kind, result in results.items():
        try:
            result.to_dict()
        except ValueError as exc:
            failed[kind] = str(exc)
    assert not failed


def test_a_fraction_column_never_holds_percent_points(results):
    """A share or rate shown as a percentage must be a fraction (0.42), not 42 shown as 4200%."""
    wrong = []
    for kind, result in results.items():
        for name, df in result.tables.items():
            for column, ck in k.kinds(df, result.kinds, name).items():
                last = k.words(column)[-1] if k.words(column) else ""
                if ck == k.PERCENT and last in FRACTION_WORDS and df.schema[column].is_numeric():
                    values = df[column].drop_nulls().drop_nans() if df.schema[column].is_float() \
                        else df[column].drop_nulls()
                    if len(values) and values.abs().max() > 1.0 + 1e-9:
                        wrong.append(f"{kind}: {name}.{column} max {values.abs().max()}")
        for key, value in result.headline.items():
            last = k.words(key)[-1] if k.words(key) else ""
            if (isinstance(value, float) and last in FRACTION_WORDS
                    and k.value_kind(key, value, result.kinds) == k.PERCENT and abs(value) > 1.0 + 1e-9):
                wrong.append(f"{kind}: {key} = {value}")
    assert not wrong


# Figures an analyst reads in every format: (analysis, headline key, how it reads)
FIGURES = [("report.nps", "promoters", "%"), ("report.nps", "csat_top2", "%"),
           ("report.cohorts", "retention_m1", "%"), ("report.kpi", "revenue_growth", "%"),
           ("report.kpi", "revenue", "."), ("predict.drivers", "top_share", "%")]


@pytest.mark.parametrize("kind, key, sign", FIGURES)
def test_a_figure_prints_the_same_in_the_cli_app_html_markdown_and_xlsx(results, tmp_path, kind, key, sign):
    result = results[kind]
    value = result.headline[key]
    text = format_value(value, k.value_kind(key, value, result.kinds))
    assert text.endswith(sign) if sign == "%" else (sign in text and not text.endswith("%"))
    if sign == "%" and key in ("promoters", "csat_top2", "top_share"):  # percent points: 41.9%, not 4194%
        assert float(text.rstrip("%")) == pytest.approx(value, abs=0.05)
    console = Console(file=io.StringIO(), width=200, color_system=None)
    print_result(result, console)
    assert re.search(rf"{key.replace('_', ' ')}\s+{re.escape(text)}", console.file.getvalue())
    assert (dict(prepare(result).figures).get(next(lbl for lbl, _ in prepare(result).figures
                                                   if lbl.lower().replace(" ", "_") == key.lower()))
            == text)
    assert re.search(rf'data-key="{key}".*?figure-value[^>]*>{re.escape(text)}<', document_html(
        Document(title="t", results=(result,))), re.S)
    assert f"| {text} |" in result_markdown(result)
    path = tmp_path / "r.xlsx"
    write_workbook(Document(title="t", results=(result,)), path)
    sheet = openpyxl.load_workbook(path)["Summary"]
    cells = [row for row in sheet.iter_rows()  # Excel keeps 15 significant digits
             if isinstance(row[1].value, float) and row[1].value == pytest.approx(value, rel=1e-12)]
    assert cells, f"{key} not in the workbook's summary"
    assert ("%" in cells[0][1].number_format) == (sign == "%")


def test_declared_kinds_reach_table_columns_in_every_renderer(results):
    """NPS's promoters column holds percent points; a cohort matrix's m3 a retention share."""
    nps = results["report.nps"]
    md = result_markdown(nps)
    promoters = nps.tables["segments"]["promoters"][0]
    assert f"{promoters:.1f}%" in md and f"{promoters * 100:.1f}%" not in md
    cohorts = results["report.cohorts"]
    m1 = cohorts.tables["customer_retention"]["m1"].drop_nulls()[0]
    console = Console(file=io.StringIO(), width=400, color_system=None)
    print_result(cohorts, console)
    assert f"{m1 * 100:.1f}%" in console.file.getvalue()
    assert isinstance(cohorts.tables["customer_retention"], pl.DataFrame)
