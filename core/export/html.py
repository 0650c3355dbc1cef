"""A self-contained HTML report: one file, no script, no network, opens offline anywhere.

Headline figures, charts (inline SVG from core.export.svg), tables, notes and what is
needed to reproduce the result (workspace, as-of date, parameters, Loyalist version).
A Content-Security-Policy forbids every fetch, so even a stray reference could not load.
The markup is well-formed XML as well as HTML, which keeps it easy to check.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from pathlib import Path

import polars as pl

from core import __version__
from core.export import columns as k
from core.export.charts import ChartError, chart_svg
from core.export.display import MISSING, column_formatter, format_value, label, parameter_rows, provenance
from core.export.document import Document, section_tables
from core.result import Result

MAX_ROWS = 500  # per table; a longer one is cut with a note (CSV/XLSX/Parquet hold every row)
LONG_TEXT = 40  # characters; shorter text stays on one line, longer text wraps
_NUMERIC = {k.MONEY, k.PERCENT, k.POINTS, k.COUNT, k.NUMBER, k.ID}
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STYLE = """
:root { --ink: #1F2933; --muted: #616E7C; --line: #E4E7EB; --accent: #1F4E79; --soft: #F5F7FA;
  --font: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC", "PingFang SC",
  "Microsoft YaHei", sans-serif; }
* { box-sizing: border-box; }
html { background: #FFFFFF; }
body { margin: 0; color: var(--ink); font: 15px/1.5 var(--font); }
.page { max-width: 1120px; margin: 0 auto; padding: 40px 32px 56px; }
.masthead { border-bottom: 3px solid var(--accent); padding-bottom: 20px; margin-bottom: 28px; }
.eyebrow { margin: 0; color: var(--accent); font-size: 12px; font-weight: 600; letter-spacing: .12em;
  text-transform: uppercase; }
h1 { margin: 4px 0 14px; font-size: 30px; line-height: 1.2; }
h2 { margin: 0 0 12px; font-size: 23px; color: var(--accent); }
h3 { margin: 30px 0 8px; font-size: 17px; }
.provenance { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 6px 24px;
  margin: 0; font-size: 13px; }
.provenance div { min-width: 0; }
.provenance dt { color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: .06em; }
.provenance dd { margin: 0; overflow-wrap: anywhere; }
.contents { background: var(--soft); border-radius: 8px; padding: 14px 22px; margin-bottom: 32px; }
.contents h2 { font-size: 15px; color: var(--ink); margin: 0 0 6px; }
.contents ol { margin: 0; padding-left: 22px; }
.contents a { color: var(--accent); text-decoration: none; }
.report { margin-bottom: 48px; }
.bundle .report { border-top: 1px solid var(--line); padding-top: 28px; }
.bundle .report .provenance { margin-bottom: 18px; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px;
  margin: 8px 0 28px; }
.figure { border: 1px solid var(--line); border-left: 4px solid var(--accent); border-radius: 6px;
  padding: 10px 14px; background: #FFFFFF; min-width: 0; }
.figure-label { color: var(--muted); font-size: 12px; line-height: 1.3; }
.figure-value { font-size: 21px; font-weight: 600; font-variant-numeric: tabular-nums;
  overflow-wrap: anywhere; line-height: 1.3; margin-top: 2px; }
.figure-value.text { font-size: 15px; font-weight: 500; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 480px), 1fr)); gap: 18px;
  margin-bottom: 8px; }
.chart-box { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px 8px;
  min-width: 0; overflow-x: auto; }
.chart-box figcaption { font-weight: 600; margin-bottom: 6px; }
.chart-box svg { display: block; margin: 0 auto; height: auto; }
.chart-box svg { max-width: 100%; }
.chart-box.wide { grid-column: 1 / -1; }
.chart-box.wide svg { width: auto; }
.chart-missing p { color: var(--muted); font-style: italic; margin: 4px 0 8px; }
.table-meta { color: var(--muted); font-size: 12px; margin: -4px 0 8px; }
.table-wrap { max-height: 560px; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
table.data { width: 100%; }
th, td { padding: 6px 12px; text-align: left; vertical-align: top; border-bottom: 1px solid var(--line); }
table.data th { position: sticky; top: 0; background: var(--accent); color: #FFFFFF; font-weight: 600;
  white-space: nowrap; z-index: 1; }
table.data tbody tr:nth-child(even) td { background: #FAFBFC; }
table.data td { white-space: nowrap; }
table.data td.wrap { white-space: normal; min-width: 18em; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.missing { color: #9AA5B1; }
details.detail { margin-top: 26px; }
details.detail > summary { cursor: pointer; font-weight: 600; font-size: 15px; }
.cut { color: var(--muted); font-size: 12px; font-style: italic; margin: 6px 0 0; }
.notes { margin: 0; padding-left: 20px; }
.notes li { margin-bottom: 4px; }
table.params th { color: var(--muted); font-weight: 500; white-space: nowrap; }
table.params td { overflow-wrap: anywhere; }
footer { border-top: 1px solid var(--line); margin-top: 40px; padding-top: 12px; color: var(--muted);
  font-size: 12px; }
@media print {
  .page { padding: 0; max-width: none; }
  .table-wrap { max-height: none; overflow: visible; border: 0; }
  table.data th { position: static; }
  .chart-box, .figure, tr { break-inside: avoid; }
  .report { break-before: page; }
  .report:first-of-type { break-before: auto; }
}
"""


def document_html(document: Document, max_rows: int = MAX_ROWS) -> str:
    bundle = document.is_bundle
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8"/>\n',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}"/>\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>\n',
        f'<meta name="generator" content="Loyalist {escape(__version__)}"/>\n',
        f"<title>{escape(document.title)}</title>\n<style>{STYLE}</style>\n</head>\n",
        f'<body class="{"bundle" if bundle else "single"}">\n<main class="page">\n',
        _masthead(document),
    ]
    if bundle:
        parts.append(_contents(document))
    for i, result in enumerate(document.results, 1):
        parts.append(_section(result, f"report-{i}", bundle, max_rows))
    made = f"Made with Loyalist {escape(__version__)} on {escape(document.created)}"
    if document.source:
        made += f" from {escape(document.source)}"
    parts.append(f"<footer>{made}. This file is self-contained: it opens offline and loads nothing."
                 "</footer>\n</main>\n</body>\n</html>\n")
    return "".join(parts)


def write_html(document: Document, path: Path, max_rows: int = MAX_ROWS) -> None:
    path.write_text(document_html(document, max_rows), encoding="utf-8")


def _masthead(document: Document) -> str:
    if document.is_bundle:
        facts = _shared_provenance(document.results)
        facts["Reports"] = str(len(document.results))
        if document.source:
            facts["Recipe"] = document.source
    else:
        facts = provenance(document.results[0])
    facts["Generated"] = document.created
    return ('<header class="masthead">\n<p class="eyebrow">Loyalist report</p>\n'
            f"<h1>{escape(document.title)}</h1>\n{_facts(facts)}</header>\n")


def _shared_provenance(results: tuple[Result, ...]) -> dict[str, str]:
    """Workspace and as-of date when the reports that record them agree, else "varies by report"."""
    out = {}
    for key, param in (("Workspace", "workspace"), ("As of", "as_of")):
        values = {provenance(r)[key] for r in results if r.params.get(param)}
        out[key] = (values.pop() if len(values) == 1 else
                    "varies by report (see each section)" if values else provenance(results[0])[key])
    out["Loyalist version"] = __version__
    return out


def _facts(facts: dict[str, str]) -> str:
    items = "".join(f"<div><dt>{escape(key)}</dt><dd>{escape(value)}</dd></div>" for key, value in facts.items())
    return f'<dl class="provenance">{items}</dl>\n'


def _contents(document: Document) -> str:
    items = "".join(f'<li><a href="#report-{i}">{escape(r.title)}</a></li>'
                    for i, r in enumerate(document.results, 1))
    return f'<nav class="contents">\n<h2>Contents</h2>\n<ol>{items}</ol>\n</nav>\n'


def _section(result: Result, anchor: str, bundle: bool, max_rows: int) -> str:
    parts = [f'<section class="report" id="{anchor}" data-result="{escape(result.name)}">\n']
    if bundle:
        parts.append(f"<h2>{escape(result.title)}</h2>\n")
        facts = provenance(result)
        del facts["Loyalist version"]
        parts.append(_facts(facts))
    if result.headline:
        parts.append(_figures(result))
    if result.charts:
        parts.append(_charts(result))
    anchors = {name: f"{anchor}-table-{n}" for n, name in enumerate(result.tables, 1)}
    summary, detail = section_tables(result)
    for name in summary:
        parts.append(_table_block(name, result.tables[name], anchors[name], max_rows, result.kinds))
    if result.notes:
        notes = "".join(f"<li>{escape(note)}</li>" for note in result.notes)
        parts.append(f'<h3>Notes</h3>\n<ul class="notes">{notes}</ul>\n')
    parts.append(_terms(result, [*summary, *detail]))
    if result.params:
        rows = "".join(f'<tr><th scope="row">{escape(key)}</th><td>{escape(value)}</td></tr>'
                       for key, value in parameter_rows(result))
        parts.append(f'<h3>Parameters</h3>\n<table class="params"><tbody>{rows}</tbody></table>\n')
    for name in detail:  # one row per customer: last, and folded until the reader opens it
        df = result.tables[name]
        parts.append(f'<details class="detail"><summary>{escape(label(name))} ({df.height:,} rows)</summary>\n'
                     f"{_table_block(name, df, anchors[name], max_rows, result.kinds)}</details>\n")
    parts.append("</section>\n")
    return "".join(parts)


def _terms(result: Result, tables: list[str]) -> str:
    """A footnote explaining the figure and column names shown (core.glossary); plain ones need none."""
    from core.glossary import glossary_for

    names = [*result.headline, *(c for name in tables for c in result.tables[name].columns)]
    terms = glossary_for(names)
    if not terms:
        return ""
    items = "".join(f"<li>{escape(text)}</li>" for _, text in terms)
    return f'<h3>Terms</h3>\n<ul class="notes terms">{items}</ul>\n'


def _figures(result: Result) -> str:
    cards = []
    for key, value in result.headline.items():
        kind = k.value_kind(key, value, result.kinds)
        text_class = "" if kind not in (k.OTHER, k.BOOLEAN) else " text"
        cards.append(f'<div class="figure" data-key="{escape(key)}"><div class="figure-label">{escape(label(key))}'
                     f'</div><div class="figure-value{text_class}">{escape(format_value(value, kind))}</div></div>')
    return f'<div class="figures">{"".join(cards)}</div>\n'


def _charts(result: Result) -> str:
    boxes = []
    for chart in result.charts_to_draw:
        caption = f"<figcaption>{escape(chart.title)}</figcaption>"
        try:
            svg = chart_svg(chart, result.tables.get(chart.table))
            wide = " wide" if 'data-wide="true"' in svg[:300] else ""
            boxes.append(f'<figure class="chart-box{wide}">{caption}{svg}</figure>')
        except ChartError as exc:
            boxes.append(f'<figure class="chart-box chart-missing">{caption}'
                         f"<p>This chart could not be drawn: {escape(str(exc))}.</p></figure>")
    return f'<div class="charts">{"".join(boxes)}</div>\n'


def _table_block(name: str, df: pl.DataFrame, anchor: str, max_rows: int,
                 declared: Mapping[str, str] | None = None) -> str:
    kinds = k.kinds(df, declared, name)
    numeric = [kinds[c] in _NUMERIC for c in df.columns]
    head = "".join(f'<th scope="col" class="num">{escape(c)}</th>' if num else f'<th scope="col">{escape(c)}</th>'
                   for c, num in zip(df.columns, numeric))
    shown = df.head(max_rows)
    formats = [column_formatter(shown[c], kinds[c]) for c in df.columns]
    body = []
    for row in shown.iter_rows():
        cells = []
        for show, num, v in zip(formats, numeric, row):
            text = show(v)
            cls = "missing" if text == MISSING else "num" if num else "wrap" if len(text) > LONG_TEXT else ""
            cells.append(f'<td class="{cls}">{escape(text)}</td>' if cls else f"<td>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    size = f"{df.height:,} row{'s' if df.height != 1 else ''} × {df.width} column{'s' if df.width != 1 else ''}"
    cut = (f'<p class="cut">First {max_rows:,} of {df.height:,} rows shown; export to CSV, XLSX or Parquet '
           "for all of them.</p>\n" if df.height > max_rows else "")
    return (f'<h3 id="{anchor}">{escape(label(name))}</h3>\n<p class="table-meta">{size}</p>\n'
            f'<div class="table-wrap"><table class="data" data-table="{escape(name)}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>\n{cut}")

