"""The HTML report: parses, holds the figures, charts and tables, and references nothing outside."""

import datetime as dt
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import polars as pl
import pytest

from core import __version__
from core.export import write_bundle, write_result
from core.result import Chart, Result
from tests.core.test_export_formats import sample_result, sample_tables, shown_rows

EXTERNAL_ATTRIBUTES = {"src", "href", "xlink:href", "action", "formaction", "data", "poster", "srcset",
                       "background", "manifest", "ping", "cite", "longdesc", "usemap"}
FORBIDDEN_TAGS = {"script", "link", "iframe", "object", "embed", "img", "image", "use", "base", "frame",
                  "audio", "video", "source", "track", "form", "meta_refresh"}


class _Collector(HTMLParser):
    """The browser-style parser of the standard library, independent of the XML check."""

    def __init__(self):
        super().__init__()
        self.tags, self.attributes, self.styles, self._in_style = [], [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(tag, k, v or "") for k, v in attrs]
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def parse(path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    root = ET.fromstring(text[len("<!DOCTYPE html>"):])  # well-formed: every tag closed, every entity valid
    collector = _Collector()
    collector.feed(text)
    return text, root, collector


def assert_offline(text, collector):
    assert not set(collector.tags) & FORBIDDEN_TAGS
    for tag, name, value in collector.attributes:
        if name in EXTERNAL_ATTRIBUTES:
            assert value.startswith("#"), (tag, name, value)
        assert "//" not in value or name == "content", (tag, name, value)
        assert not name.startswith("on"), (tag, name)  # no event handlers: no script at all
    css = "".join(collector.styles)
    assert "url(" not in css and "@import" not in css and "@font-face" not in css
    assert not re.search(r"(?i)\b(?:https?|ftp|wss?|file):", text)
    policy = [v for tag, name, v in collector.attributes if tag == "meta" and name == "content"
              and "default-src" in v]
    assert policy == ["default-src 'none'; style-src 'unsafe-inline'; img-src data:"]
    assert ("meta", "http-equiv", "Content-Security-Policy") in collector.attributes


@pytest.fixture
def report(tmp_path):
    return parse(write_result(sample_result(), tmp_path / "report.html"))


def test_report_is_self_contained_and_offline(report):
    text, _, collector = report
    assert_offline(text, collector)


def test_report_states_provenance(report):
    text, root, _ = report
    facts = {dt_.text: dd.text for dt_, dd in zip(root.iter("dt"), root.iter("dd"))}
    assert facts["Workspace"] == "/data/shop"
    assert facts["As of"] == "2024-03-31"
    assert facts["Loyalist version"] == __version__
    params = {th.text: td.text for th, td in zip(root.iterfind(".//table[@class='params']//th"),
                                                  root.iterfind(".//table[@class='params']//td"))}
    assert params == {"workspace": "/data/shop", "as_of": "2024-03-31", "bins": "5"}
    assert "Returns are netted out." in text


def test_report_shows_headline_figures(report):
    _, root, _ = report
    figures = {f.get("data-key"): f[1].text for f in root.iterfind(".//div[@class='figures']/div")}
    assert figures == {"customer_count": "4", "total_revenue": "1,214.25", "repeat_rate": "75.0%",
                       "best_segment": "Champions"}


def test_report_embeds_each_chart_as_svg(report):
    _, root, _ = report
    charts = list(root.iter("svg"))
    assert [c.get("data-kind") for c in charts] == ["bar", "histogram"]
    bars = [r for r in charts[0].iter("rect") if r.get("class") == "bar"]
    assert [(b.get("data-category"), float(b.get("data-value"))) for b in bars] == [("Champions", 1214.25),
                                                                                   ("新客户", 0.0)]
    captions = [f.find("figcaption").text for f in root.iterfind(".//figure")]
    assert captions == ["Revenue by segment", "Orders per customer"]
    histogram_total = sum(int(r.get("data-value")) for r in charts[1].iter("rect") if r.get("class") == "bar")
    assert histogram_total == 4


def test_report_tables_round_trip_as_shown(report):
    _, root, _ = report
    for name, df in sample_tables().items():
        table = root.find(f".//table[@data-table='{name}']")
        header = [th.text for th in table.iterfind("./thead/tr/th")]
        rows = [[td.text for td in tr.iterfind("td")] for tr in table.iterfind("./tbody/tr")]
        assert header == df.columns
        assert rows == shown_rows(df)
    first = [td.text for td in root.find(".//table[@data-table='customers']/tbody/tr")]
    assert first == ["101", "王小明", "Champions", "1,234.50", "25.0%", "1.5%", "3", "2024-01-05",
                     "2024-03-01 09:30", "yes", "0.01"]
    # Unicode is written as characters, not escapes.
    assert "王小明" in ET.tostring(root, encoding="unicode")


def test_text_that_looks_like_markup_stays_text(tmp_path):
    nasty = '<script>alert(1)</script><img src="https://x/y.png">'
    result = Result("x.y", f"Title {nasty}", {"t": pl.DataFrame({nasty: [nasty]})},
                    headline={"label": nasty}, notes=(nasty,), params={"p": nasty})
    text, root, collector = parse(write_result(result, tmp_path / "r.html"))
    assert "script" not in collector.tags and "img" not in collector.tags
    assert root.find(".//td").text == nasty


def test_long_tables_are_cut_with_a_note(tmp_path):
    result = Result("x.long", "Long", {"rows": pl.DataFrame({"i": range(1234)})})
    text, root, _ = parse(write_result(result, tmp_path / "r.html", max_rows=100))
    assert len(root.findall(".//table[@data-table='rows']/tbody/tr")) == 100
    assert "First 100 of 1,234 rows shown" in text


def test_a_chart_that_cannot_be_drawn_says_why_instead_of_failing(tmp_path):
    result = sample_result(charts=(Chart("bar", "Ghost", "missing_table", "x"),
                                   Chart("pie", "Pie", "segments", "segment")))
    text, root, _ = parse(write_result(result, tmp_path / "r.html"))
    assert not list(root.iter("svg"))
    reasons = [p.text for p in root.iterfind(".//figure/p")]
    assert reasons == ["This chart could not be drawn: the result has no table named 'missing_table'.",
                       "This chart could not be drawn: unknown chart kind 'pie' (bar, line, histogram, heatmap or scatter)."]


def test_bundle_has_contents_and_a_section_per_report(tmp_path):
    second = Result("data.validate", "Data quality", {"findings": pl.DataFrame({"rule": ["ok"]})},
                    params={"workspace": "/data/shop", "as_of": dt.date(2024, 3, 31)})
    path = write_bundle([sample_result(), second], tmp_path / "b.html", title="Monthly 月报", source="monthly.toml")
    text, root, collector = parse(path)
    assert_offline(text, collector)
    assert root.find(".//h1").text == "Monthly 月报"
    links = [a.get("href") for a in root.iterfind(".//nav//a")]
    sections = [s.get("id") for s in root.iterfind(".//section")]
    assert links == ["#" + s for s in sections] == ["#report-1", "#report-2"]
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    facts = {dt_.text: dd.text for dt_, dd in zip(root.find(".//header").iter("dt"), root.find(".//header").iter("dd"))}
    assert facts["As of"] == "2024-03-31" and facts["Recipe"] == "monthly.toml" and facts["Reports"] == "2"
    assert [h.text for h in root.iterfind(".//section/h2")] == ["Sample segments 示例", "Data quality"]
