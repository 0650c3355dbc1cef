"""Markdown (GitHub-flavoured): title, provenance, headline figures, tables, notes, parameters.

Cells are escaped so that data never turns into markup: `\\`, `|`, `*`, backticks,
brackets and angle brackets get a backslash, a lone `_` at a word edge too, and line
breaks become `<br>`; control characters (ESC and the like) are replaced by visible
stand-ins (core.export.display.printable), so a report shown in a terminal cannot steer
it. Numbers are shown as in the HTML report (core.export.display).
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from core import __version__
from core.export import columns as k
from core.export.display import column_formatter, format_value, label, parameter_rows, printable, provenance
from core.export.document import Document, section_tables
from core.result import Result

MAX_ROWS = 1000  # a longer table is cut, with a line saying so; CSV/XLSX/Parquet hold all rows
_SPECIAL = re.compile(r"([\\|*`\[\]<>~])|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_RIGHT = {k.MONEY, k.PERCENT, k.POINTS, k.COUNT, k.NUMBER, k.ID}


def escape(text: str) -> str:
    return _SPECIAL.sub(lambda m: "\\" + m.group(0), printable(text)).replace("\n", "<br>")


def markdown_table(df: pl.DataFrame, max_rows: int = MAX_ROWS) -> str:
    if not df.columns:
        return "*(no columns)*"
    kinds = k.kinds(df)
    head = "| " + " | ".join(escape(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---:" if kinds[c] in _RIGHT else "---" for c in df.columns) + "|"
    lines = [head, rule]
    shown = df.head(max_rows)
    formats = [column_formatter(shown[c], kinds[c]) for c in df.columns]
    for row in shown.iter_rows():
        lines.append("| " + " | ".join(escape(show(v)) for show, v in zip(formats, row)) + " |")
    if df.height > max_rows:
        lines.append("")
        lines.append(f"*First {max_rows:,} of {df.height:,} rows; export to CSV, XLSX or Parquet for all of them.*")
    return "\n".join(lines)


def result_markdown(result: Result, level: int = 1, max_rows: int = MAX_ROWS) -> str:
    h = "#" * level
    parts = [f"{h} {escape(result.title)}", ""]
    parts += [f"- **{key}:** {escape(value)}" for key, value in provenance(result).items()]
    if result.headline:
        parts += ["", f"{h}# Headline figures", "", "| Figure | Value |", "|---|---:|"]
        parts += [f"| {escape(label(key))} | {escape(format_value(value, k.value_kind(key, value)))} |"
                  for key, value in result.headline.items()]
    summary, detail = section_tables(result)
    for name in summary:
        parts += ["", f"{h}# {escape(label(name))}", "", markdown_table(result.tables[name], max_rows)]
    if result.notes:
        parts += ["", f"{h}# Notes", ""] + [f"- {escape(note)}" for note in result.notes]
    if result.params:
        parts += ["", f"{h}# Parameters", "", "| Parameter | Value |", "|---|---|"]
        parts += [f"| {escape(key)} | {escape(value)} |" for key, value in parameter_rows(result)]
    for name in detail:  # one row per customer: after everything else
        parts += ["", f"{h}# {escape(label(name))}", "", markdown_table(result.tables[name], max_rows)]
    return "\n".join(parts)


def document_markdown(document: Document, max_rows: int = MAX_ROWS) -> str:
    made = f"*Made with Loyalist {__version__} on {document.created}"
    made += f" from {escape(document.source)}*" if document.source else "*"
    if not document.is_bundle:
        return result_markdown(document.results[0], 1, max_rows) + f"\n\n---\n\n{made}\n"
    parts = [f"# {escape(document.title)}", "", made, "", "## Contents", ""]
    parts += [f"{i}. {escape(r.title)}" for i, r in enumerate(document.results, 1)]
    for result in document.results:
        parts += ["", result_markdown(result, 2, max_rows)]
    return "\n".join(parts) + "\n"


def write_markdown(document: Document, path: Path, max_rows: int = MAX_ROWS) -> None:
    path.write_text(document_markdown(document, max_rows), encoding="utf-8")
