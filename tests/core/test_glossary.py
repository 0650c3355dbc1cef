"""Every figure and column name the sample's results show is explained by core.glossary or
is plain English; the abbreviations the analyst asked about have entries; HTML exports carry
them as a footnote."""

from __future__ import annotations

import pytest

from core.export.document import Document
from core.export.html import document_html
from core.glossary import explain, unexplained
from core.registry import analyses, run_analysis
from core.scale.run import init_text
from core.workspace import Workspace
from tests.conftest import SAMPLE

NEEDS_OPTIONS = {"segment.migrate", "report.experiment.plan"}  # two dates, a plan's rates
SCALE = {"scale.check", "scale.score", "scale.validate"}  # run on the spec `scale init` writes


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    ws = Workspace.open(SAMPLE)
    spec = tmp_path_factory.mktemp("spec") / "scale.toml"
    spec.write_text(init_text(ws), encoding="utf-8")
    return {a.kind: run_analysis(a.kind, ws, {"spec": spec} if a.kind in SCALE else {})
            for a in analyses() if a.kind not in NEEDS_OPTIONS}


def test_every_shown_name_is_explained_or_plain_english(results):
    missing = {}
    for kind, result in results.items():
        names = [*result.headline, *(c for t in result.tables.values() for c in t.columns)]
        for name in names:
            if unexplained(name):
                missing.setdefault(kind, {})[name] = unexplained(name)
    assert not missing


@pytest.mark.parametrize("shown", ["T days", "Mean ipt days", "G6", "Std alpha", "Split half sb", "Min spearman",
                                   "feldt", "Engagement", "mean_ipt_days", "p_value_holm", "retention_m3"])
def test_the_abbreviations_asked_about_have_entries(shown):
    text = explain(shown)
    assert text and len(text) > 20


def test_plain_names_need_no_entry():
    assert explain("customers") is None and unexplained("customers") == []
    assert unexplained("frobnication_index") == ["frobnication"]  # an unknown word is caught


def test_html_exports_explain_the_names_in_a_footnote(results):
    result = results["scale.check"]
    html = document_html(Document(result.title, (result,)))
    assert "<h3>Terms</h3>" in html
    assert "Guttman&#x27;s lambda 6" in html or "Guttman's lambda 6" in html  # g6 in the headline
    assert "Feldt" in html


def test_a_list_of_names_shows_each_entry_once():
    from core.glossary import glossary_for

    shown = glossary_for(["model_mape", "naive_mape", "naive_mase", "forecast"])
    texts = " ".join(text for _, text in shown)
    assert texts.count("MAPE: mean absolute percentage error") == 1
    assert texts.count("Naive: the seasonal-naive forecast") == 1
    assert [name for name, _ in shown] == ["model_mape", "naive_mape", "naive_mase", "forecast"]


def test_precision_and_recall_read_right_for_churn_as_well_as_for_recommendations():
    # the churn report's terms once defined its test precision as "recommended items bought"
    from core.glossary import explain

    for name in ("test_precision", "test_recall", "precision_at_k", "recall_at_k"):
        meaning = explain(name)
        assert "churn" in meaning and "recommended" in meaning, name
