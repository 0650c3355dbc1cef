"""A widget that shows any core.result.Result: headline figures, notes, charts and tables.

Two steps, so the UI thread only mounts widgets: `prepare(result)` formats the figures and
table cells, pulls the chart numbers and builds a virtualised backend for long tables
(pure; call it in the worker that ran the analysis), and `ResultView.show(prepared)`
lays them out in tabs: Summary (figures, notes, parameters), Charts, then one tab per
table. `show_notice` puts a readable message in the same place (a missing table, a
failed analysis), so a screen never needs a second widget for errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static, TabbedContent, TabPane
from textual_fastdatatable.backend import PolarsBackend

from core.export import columns as k
from core.export.display import column_formatter, format_value, label, printable
from core.result import Result, jsonable
from tui.skip import app_note
from tui.widgets.browser import browsable
from tui.widgets.charts import Plot, safe_plot
from tui.widgets.plots import PlotView
from tui.widgets.sheet import ROW, SheetBrowser, SheetVerbs, lead_first, sheet_bindings

BIG_TABLE = 500  # rows from which a table goes to the virtualised backend
LONG_TEXT = 48  # a text figure longer than this is shown as a paragraph, not in the grid
NUMERIC_KINDS = (k.MONEY, k.PERCENT, k.POINTS, k.COUNT, k.NUMBER)


# --- the display form (pure: made in a worker) -------------------------------------------------


@dataclass(frozen=True)
class ShownTable:
    name: str
    columns: list[str]  # labels
    rows: list[list[Text]] = field(default_factory=list)  # small tables: formatted cells
    backend: PolarsBackend | None = None  # long tables: drawn row by row as they scroll
    height: int = 0
    names: list[str] = field(default_factory=list)  # the columns' own names (for the glossary)
    frame: pl.DataFrame | None = None  # the values behind the cells (sort, search, copy), row-numbered
    money: tuple[str, ...] = ()  # long tables: columns the backend shows with cents

    @property
    def tab_id(self) -> str:
        return "table-" + re.sub(r"[^A-Za-z0-9_-]", "_", self.name)


@dataclass(frozen=True)
class ShownChart:
    title: str
    plot: Plot | None
    problem: str = ""


@dataclass(frozen=True)
class Prepared:
    result: Result
    figures: list[tuple[str, str]]  # (label, formatted value)
    paragraphs: list[str]  # long text figures and notes
    params: str
    charts: list[ShownChart]
    tables: list[ShownTable]
    terms: list[str] = field(default_factory=list)  # what the figure and column names mean (core.glossary)


def prepare(result: Result, *, hide: tuple[str, ...] = ()) -> Prepared:
    """Everything `ResultView` needs, formatted; `hide` names headline keys not to show."""
    figures, paragraphs = [], []
    for key, value in result.headline.items():
        if key in hide:
            continue
        if isinstance(value, str) and len(value) > LONG_TEXT:
            paragraphs.append(value)
            continue
        figures.append((label(key), format_value(value, k.value_kind(key, value, result.kinds))))
    paragraphs += [app_note(n) for n in result.notes]  # the app's key in a fix, not a CLI flag (tui.skip)
    charts = [ShownChart(c.title, *safe_plot(c, result.tables.get(c.table))) for c in result.charts_to_draw]
    tables = [shown_table(name, frame, result.kinds) for name, frame in result.tables.items()]
    from core.glossary import glossary_for

    shown = [key for key in result.headline if key not in hide] + [c for t in tables for c in t.names]
    terms = [text for _, text in glossary_for(shown)]
    return Prepared(result, figures, paragraphs, params_line(result.params), charts, tables, terms)


def params_line(params: Mapping[str, Any]) -> str:
    parts = []
    for key, value in params.items():
        if value is None or key == "workspace" or isinstance(value, (Mapping, list, tuple)):
            continue  # unset options and long structures (weights by item) say nothing here
        parts.append(f"{key} {format_value(jsonable(value))}")
    return " · ".join(parts)


def shown_table(name: str, frame: pl.DataFrame, declared: Mapping[str, str] | None = None) -> ShownTable:
    frame = frame.select(lead_first(frame.columns))  # ROI and the like are not left past the edge
    columns = [label(c) for c in frame.columns]
    if frame.height >= BIG_TABLE:
        money = [c for c, t in frame.schema.items() if k.column_kind(c, t, declared, name) == k.MONEY and t.is_float()]
        backend = browsable(frame, money=money)
        return ShownTable(name, columns, backend=backend, height=frame.height, names=frame.columns,
                          frame=frame.with_row_index(ROW), money=tuple(money))
    cells = []
    for column in frame.columns:
        series = frame[column]
        kind = k.column_kind(column, series.dtype, declared, name)
        show = column_formatter(series, kind)
        justify = "right" if kind in NUMERIC_KINDS else "left"
        cells.append([Text(show(v), justify=justify, style="dim" if v is None else "") for v in series.to_list()])
    rows = [list(row) for row in zip(*cells)] if cells else []
    return ShownTable(name, columns, rows=rows, height=frame.height, names=frame.columns,
                      frame=frame.with_row_index(ROW))


# --- drawing ------------------------------------------------------------------------------------


class FigureGrid:
    """Headline figures as label/value pairs in as many columns as the width allows."""

    def __init__(self, figures: list[tuple[str, str]]) -> None:
        self.figures = figures

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not self.figures:
            return
        label_w = max(cell_len(f[0]) for f in self.figures)
        value_w = max(cell_len(f[1]) for f in self.figures)
        cell_w = label_w + value_w + 4
        per_line = max(1, options.max_width // cell_w)
        if per_line == 1:  # narrow: let long values wrap under their label
            cell_w = options.max_width
        for start in range(0, len(self.figures), per_line):
            line = Text()
            for name, value in self.figures[start:start + per_line]:
                line.append(name.ljust(label_w + 1), "dim")
                line.append(value.rjust(value_w) if per_line > 1 else value, "bold")
                line.append("   ")
            yield line


class ResultTable(SheetVerbs, DataTable):
    """A small Result table, cells already formatted, with the sheet verbs (tui/widgets/sheet.py:
    sort, search, copy, counts, record); the cell cursor picks the column whose meaning the
    glossary line under the table explains."""

    BINDINGS = sheet_bindings()

    def __init__(self, table: ShownTable, **kwargs: Any) -> None:
        # the key column stays while scrolling sideways
        super().__init__(zebra_stripes=True, cursor_type="cell", fixed_columns=1, **kwargs)
        self.shown = table

    def on_mount(self) -> None:
        self.show(self.shown)

    def show(self, table: ShownTable) -> None:
        self.shown = table
        self.sheet_frame, self.sheet_sort_state, self.sheet_match = table.frame, None, -1
        self.draw(table.rows)

    def draw(self, rows: list[list[Text]]) -> None:
        marks = self.header_marks()
        self.clear(columns=True)
        for i, name in enumerate(self.shown.columns):
            mark = marks.get(self.shown.names[i], "") if i < len(self.shown.names) else ""
            self.add_column(Text(name + mark, style="bold"), key=str(i))
        self.add_rows(rows)

    def sheet_table(self) -> ResultTable:
        return self

    def source_row(self, row: int) -> int:
        """The shown row's index in the table as given, whatever order the sort shows."""
        frame = self.sheet_frame
        if frame is None or ROW not in frame.columns or not 0 <= row < frame.height:
            return row
        return int(frame[ROW][row])

    def sheet_redraw(self, frame: pl.DataFrame) -> None:
        column = self.cursor_coordinate.column
        self.draw([self.shown.rows[i] for i in frame[ROW]])
        self.move_cursor(row=0, column=column)


class _Tabs(Vertical):
    """TabbedContent takes its panes as children in compose, not as arguments."""

    def __init__(self, panes: list[TabPane]) -> None:
        super().__init__(classes="result-tabs")
        self.panes = panes

    def compose(self) -> ComposeResult:
        with TabbedContent():
            yield from self.panes


class ResultView(Vertical):
    """Tabs for one Result; `show_notice` replaces them with a message."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.prepared: Prepared | None = None

    @property
    def result(self) -> Result | None:
        return self.prepared.result if self.prepared else None

    def compose(self) -> ComposeResult:
        yield Static("Nothing to show yet.", classes="result-notice")

    async def show(self, shown: Prepared | Result) -> None:
        prepared = shown if isinstance(shown, Prepared) else prepare(shown)
        self.prepared = prepared
        had_focus = self.has_focus_within
        panes = [self._summary(prepared)]
        if prepared.charts:
            panes.append(TabPane(f"Charts ({len(prepared.charts)})", self._charts(prepared), id="charts"))
        long_tables = []
        for table in prepared.tables:
            body = SheetBrowser(classes="result-browser") if table.backend is not None else ResultTable(table)
            if table.backend is not None:
                long_tables.append((body, table))
            panes.append(TabPane(f"{label(table.name)} ({table.height:,})", body, id=table.tab_id))
        await self.remove_children()
        await self.mount(_Tabs(panes), Static("", classes="term-help"))
        for browser, table in long_tables:  # virtualised rows, with the same verbs as the small tables
            await browser.show_sheet(table.frame.drop(ROW), table.backend,
                                     f"{label(table.name)} · {table.height:,} rows · o sort, / search, y copy, "
                                     "F counts, R record", money=table.money)
        if had_focus:
            self.focus_content()

    def _summary(self, prepared: Prepared) -> TabPane:
        parts: list[Static] = [Static(Text(printable(prepared.result.title), style="bold"), classes="result-title"),
                               Static(FigureGrid(prepared.figures), classes="result-figures")]
        parts += [Static(Text(printable(p)), classes="result-note") for p in prepared.paragraphs]
        if prepared.params:
            parts.append(Static(Text(prepared.params), classes="result-params"))
        if prepared.terms:
            terms = Static(Text("\n".join(prepared.terms)), classes="result-terms")
            terms.border_title = "Terms"
            parts.append(terms)
        return TabPane("Summary", VerticalScroll(*parts, classes="result-scroll"), id="summary")

    @staticmethod
    def _charts(prepared: Prepared) -> VerticalScroll:
        return VerticalScroll(*(PlotView(c.plot, c.title, problem=c.problem, classes="result-chart")
                                for c in prepared.charts), classes="result-scroll")

    async def show_notice(self, text: str, *, title: str = "", severity: str = "information") -> None:
        """A readable message in place of the result: severity is information, warning or error."""
        self.prepared = None
        await self.remove_children()
        notice = Static(Text(printable(text)), classes=f"result-notice -{severity}")
        notice.border_title = title or None
        await self.mount(notice)

    # -- the glossary line: what the column under the cursor means ----------------------------------

    def on_data_table_cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        """Both kinds of table (Textual's and the virtualised one) send this message."""
        table = event.data_table
        if isinstance(table, ResultTable):
            names = table.shown.names
        elif isinstance(table.parent, SheetBrowser):
            names = table.parent.sheet_columns()
        else:
            return
        self.explain(names[event.coordinate.column] if event.coordinate.column < len(names) else None)

    def on_descendant_blur(self) -> None:
        self.explain(None)

    def explain(self, column: str | None) -> None:
        from core.glossary import explain

        found = self.query(".term-help")
        if not found:
            return
        text = explain(column) if column else None
        line = found.first(Static)
        line.update(Text(text or ""))
        line.display = bool(text)

    # -- navigation ----------------------------------------------------------------------------

    @property
    def tabs(self) -> TabbedContent | None:
        found = self.query(TabbedContent)
        return found.first() if found else None

    def tab_ids(self) -> list[str]:
        tabs = self.tabs
        return [p.id for p in tabs.query(TabPane) if p.id] if tabs else []

    def show_tab(self, tab: str) -> None:
        if self.tabs is not None and tab in self.tab_ids():
            self.tabs.active = tab

    def cycle_tab(self, step: int) -> None:
        tabs, ids = self.tabs, self.tab_ids()
        if tabs is None or not ids:
            return
        index = ids.index(tabs.active) if tabs.active in ids else 0
        tabs.active = ids[(index + step) % len(ids)]
        self.focus_content()

    def focus_content(self) -> None:
        tabs = self.tabs
        if tabs is None or tabs.active_pane is None:
            return
        for widget in tabs.active_pane.query("*"):
            if widget.focusable:
                widget.focus()
                return

    def text(self) -> str:
        """What the Summary and Charts say, as plain text (for tests and screen readers)."""
        return "\n".join(w.render().plain if hasattr(w.render(), "plain") else str(w.render())
                         for w in self.query(".result-title, .result-note, .result-params, .result-notice")
                         if isinstance(w, Static))
