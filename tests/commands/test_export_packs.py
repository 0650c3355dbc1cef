"""Packs: `export init` lists every registered kind, and a recipe with every kind at its
defaults runs on the sample into one HTML report, one workbook and one Markdown file,
each read back by an independent reader (html.parser, openpyxl, plain text)."""

from __future__ import annotations

import datetime as dt
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from commands.app import app
from core.export import write_bundle
from core.export.recipe import load_recipe, run_recipe
from core.registry import analyses
from core.scale.run import init_text
from core.workspace import Workspace
from tests.conftest import SAMPLE

runner = CliRunner()
KINDS = [a.kind for a in analyses()]
PLAN = '\n[[report]]\nkind = "report.experiment.plan"\nbaseline = 0.05\nlift = 0.2\n'


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory) -> Path:
    """`export init` on the sample, with a scale spec beside it and the plan's two inputs given."""
    folder = tmp_path_factory.mktemp("pack")
    (folder / "scale.toml").write_text(init_text(Workspace.open(SAMPLE)), encoding="utf-8")
    path = folder / "every.toml"
    result = runner.invoke(app, ["export", "init", str(path), "-w", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    path.write_text(path.read_text(encoding="utf-8") + PLAN, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def results(every_kind):
    found, failures = run_recipe(load_recipe(every_kind), Workspace.open(SAMPLE))
    assert failures == []
    return found


def test_init_writes_every_kind_and_comments_out_what_cannot_run(tmp_path, make_workspace):
    folder = make_workspace({"transactions.csv": "customer_id,order_date,amount\nC1,2024-01-05,10\n"})
    path = tmp_path / "starter.toml"
    assert runner.invoke(app, ["export", "init", str(path), "-w", str(folder)]).exit_code == 0
    text = path.read_text(encoding="utf-8")
    for kind in KINDS:
        assert f'kind = "{kind}"' in text
    active = [r["kind"] for r in tomllib.loads(text)["report"]]
    assert "segment.rfm" in active and "report.cohorts" in active
    assert "report.nps" not in active and "# Left out: this workspace has no survey table" in text
    assert "scale.check" not in active  # no scale.toml beside the recipe
    assert "bins = 5" in text and "# RFM score bins" in text  # defaults written out, help beside them
    assert runner.invoke(app, ["export", "init", str(path), "-w", str(folder)]).exit_code == 2  # no overwrite


def test_every_kind_is_in_the_recipe(every_kind):
    assert [r.kind for r in load_recipe(every_kind).reports] == [k for k in KINDS if k != "report.experiment.plan"] \
        + ["report.experiment.plan"]


class Sections(HTMLParser):
    """What a reader of the HTML sees: contents links, sections, and where each table sits."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.sections: list[dict] = []
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.stack.append(tag)
        if tag == "a" and "nav" in self.stack:
            self.links.append(attrs["href"])
        if tag == "section":
            self.sections.append({"id": attrs["id"], "kind": attrs["data-result"], "order": [], "folded": set(),
                                  "h2": ""})
        if self.sections and tag == "table" and "data-table" in attrs:
            self.sections[-1]["order"].append(attrs["data-table"])
            if "details" in self.stack:
                self.sections[-1]["folded"].add(attrs["data-table"])
        if self.sections and tag == "div" and attrs.get("class") == "figures":
            self.sections[-1]["order"].append("(figures)")

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "h2" and self.sections:
            self.sections[-1]["h2"] += data
        self.text.append(data)


def test_html_has_contents_provenance_and_per_customer_tables_last_and_folded(results, tmp_path):
    out = write_bundle(results, tmp_path / "every.html", title="Every kind")
    page = Sections()
    page.feed(out.read_text(encoding="utf-8"))
    assert [s["kind"] for s in page.sections] == [r.name for r in results]
    assert set(KINDS) <= {s["kind"] for s in page.sections}
    assert page.links == [f"#{s['id']}" for s in page.sections]
    text = " ".join(page.text)
    assert text.count(str(SAMPLE)) >= len(results)  # every section names the workspace
    rfm = next(s for s in page.sections if s["kind"] == "segment.rfm")
    assert rfm["order"][0] == "(figures)" and rfm["order"][-1] == "customers"
    assert rfm["order"].index("segments") < rfm["order"].index("customers")
    assert rfm["folded"] == {"customers"}
    for section, result in zip(page.sections, results):
        assert section["h2"] == result.title
        # the tables the registry calls per-customer or long are folded; the others are open
        assert section["folded"] == set(analyses_by_kind()[result.name].detail_tables) & set(result.tables)


def analyses_by_kind():
    return {a.kind: a for a in analyses()}


def test_workbook_has_a_contents_sheet_and_a_sheet_per_table(results, tmp_path):
    out = write_bundle(results, tmp_path / "every.xlsx", title="Every kind")
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[:2] == ["Contents", "Summary"]
    assert len(book.sheetnames) == 2 + sum(len(r.tables) for r in results)
    contents = book["Contents"]
    rows = [r for r in contents.iter_rows(min_row=5) if r[0].value is not None]
    assert [r[1].value for r in rows] == [r.title for r in results]
    assert [r[2].value for r in rows] == [r.name for r in results]
    targets = [c.hyperlink.location for row in contents.iter_rows(min_row=5) for c in row if c.hyperlink]
    linked = {t.split("!")[0].strip("'") for t in targets}
    assert linked == set(book.sheetnames[2:])  # every table sheet is reachable from the contents
    rfm = results[[r.name for r in results].index("segment.rfm")]
    sheet = book["rfm customers"]
    assert [c.value for c in sheet[1]] == rfm.tables["customers"].columns
    assert sheet.max_row == rfm.tables["customers"].height + 1


def test_markdown_has_contents_then_sections_with_their_parameters(results, tmp_path):
    text = write_bundle(results, tmp_path / "every.md", title="Every kind").read_text(encoding="utf-8")
    contents = text[text.index("## Contents"):text.index("\n## ", text.index("## Contents") + 3)]
    listed = [line.split(". ", 1)[1] for line in contents.splitlines() if line[:1].isdigit()]
    assert len(listed) == len(results)
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ") and line != "## Contents"]
    assert len(headings) == len(results)
    assert text.count("| Parameter | Value |") == len(results)  # every section says what it ran with
    rfm = text[text.index("## RFM"):]
    rfm = rfm[:rfm.index("\n## ")]
    assert rfm.index("### Segments") < rfm.index("### Parameters") < rfm.index("### Customers")


def test_export_run_with_every_kind_and_a_later_as_of(every_kind, tmp_path):
    out = tmp_path / "every.html"
    result = runner.invoke(app, ["export", "run", str(every_kind), "-w", str(SAMPLE), "-o", str(out),
                                 "--as-of", "2025-11-30"])
    assert result.exit_code == 0, result.output
    assert f"({len(KINDS)} reports)" in result.stderr
    page = Sections()
    page.feed(out.read_text(encoding="utf-8"))
    # the date reaches every analysis that takes one, whatever its option is called (kpi's
    # end, clv's calibration end), and each section's provenance says so
    results, _ = run_recipe(load_recipe(every_kind, overrides={"as_of": dt.date(2025, 11, 30)}),
                            Workspace.open(SAMPLE))
    dated = [r for r in results if "as_of" in analyses_by_kind()[r.name].keys()]
    assert {r.name for r in dated} >= {"report.kpi", "predict.clv", "segment.rfm", "predict.churn"}
    assert {r.params["as_of"] for r in dated} == {dt.date(2025, 11, 30)}
    facts = " ".join(page.text)
    assert facts.count("2025-11-30") >= len(dated)
