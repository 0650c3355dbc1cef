"""Validation findings (the `findings` table of a `data.validate` Result) as a list that
wraps long messages instead of hiding them in a wide table."""

from __future__ import annotations

import polars as pl
from rich.text import Text
from textual.widgets import Label, ListItem, ListView

from core.export.display import printable


def finding_text(row: dict) -> Text:
    shown = row["rows"].split(", ") if row["rows"] else []
    count = f"{row['count']:,} {'row' if row['count'] == 1 else 'rows'}"
    if shown:  # spreadsheet row numbers; only the first few are listed
        first = "first: " if row["count"] > len(shown) else ""
        count += f" ({first}{'row' if len(shown) == 1 else 'rows'} {row['rows']})"
    where = printable(" · ".join(p for p in (row["table"], row["column"]) if p))
    text = Text()
    text.append(f"{row['severity'].upper():<8}", style="bold")
    text.append(f"{where} · {count}\n")
    text.append(f"{printable(row['message'])}.")
    if row["fix"]:
        text.append(f" Fix: {printable(row['fix'])}.", style="italic")
    return text


class FindingsList(ListView):
    async def show_findings(self, findings: pl.DataFrame) -> None:
        await self.clear()
        if findings.is_empty():
            await self.append(ListItem(Label("No problems found."), classes="-ok"))
            return
        await self.extend(
            ListItem(Label(finding_text(row)), classes=f"-{row['severity']}")
            for row in findings.iter_rows(named=True)
        )

    async def show_message(self, text: str) -> None:
        await self.clear()
        await self.append(ListItem(Label(Text(printable(text)))))
