"""Values as people read them in the HTML and Markdown reports and the workbook summary.

One function per concern: `format_value` turns a cell or figure into text by its kind
(core.export.columns), `printable` makes user text safe to show on a terminal, in the
app or in a report, `provenance` says where a result came from so it can be rerun.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from core import __version__
from core.export import columns as k
from core.result import Result, jsonable

MISSING = "—"

# Characters that would steer a terminal or reorder text instead of being read: C0 controls
# (ESC starts colour, clear-screen and OSC title/hyperlink sequences), DEL, C1 controls
# (U+009B is a one-byte CSI) and the bidirectional overrides and isolates ("Trojan Source").
# Tabs and line breaks are kept (a lone carriage return becomes a line break: on a
# terminal it would send the cursor back to overwrite what was printed).
_C0 = {c: 0x2400 + c for c in range(0x20) if chr(c) not in "\t\n"}  # ESC -> ␛, BEL -> ␇
_VISIBLE = {**_C0, 0x0D: 0x0A, 0x7F: 0x2421, **{c: 0xFFFD for c in range(0x80, 0xA0)},
            **{c: 0xFFFD for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}}
CONTROL_CHARACTERS = "".join(map(chr, _VISIBLE))


def printable(text: str) -> str:
    """`text` with every control character replaced by a visible stand-in (ESC by ␛).

    User data (values, column names, file names) goes through this before it reaches a
    terminal, the app or a Markdown report, so it can never clear the screen, set the
    window title, hide itself or turn into a link.
    """
    return text.replace("\r\n", "\n").translate(_VISIBLE)


def printable_frame(df: pl.DataFrame) -> pl.DataFrame:
    """`printable` over the text columns and the column names of a frame, in one pass each."""
    controls = ["\r\n", *CONTROL_CHARACTERS]
    stand_ins = ["\n", *(chr(_VISIBLE[ord(c)]) for c in CONTROL_CHARACTERS)]
    text = [name for name, dtype in df.schema.items() if dtype == pl.String]
    if text:
        df = df.with_columns(pl.col(text).str.replace_many(controls, stand_ins, leftmost=True))
    renamed = {name: printable(name) for name in df.columns if printable(name) != name}
    return df.rename(renamed) if renamed else df


def format_value(value: Any, kind: str = k.OTHER) -> str:
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return MISSING if math.isnan(value) else ("∞" if value > 0 else "−∞")
    if isinstance(value, (int, float)):
        return _format_number(value, kind)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds" if value.second or value.microsecond else "minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v, kind) for v in value) + "]"
    if isinstance(value, Mapping):
        return json.dumps(jsonable(value), ensure_ascii=False)
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return format_value(value.item(), kind)
    return printable(str(value))


def _format_number(value: int | float, kind: str) -> str:
    if kind == k.MONEY:
        return f"{value:,.2f}"
    if kind == k.PERCENT:
        pct = value * 100
        return f"{pct:.2f}%" if 0 < abs(pct) < 1 else f"{pct:,.1f}%"
    if kind == k.POINTS:
        return f"{value:.2f}%" if 0 < abs(value) < 1 else f"{value:,.1f}%"
    if kind == k.ID:
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if isinstance(value, int) or (kind == k.COUNT and value.is_integer()):
        return f"{int(value):,}"
    return format_float(value)


def column_formatter(column: pl.Series, kind: str) -> Callable[[Any], str]:
    """One way of showing every number in a column, so decimals line up down the column.

    Whole numbers lose their decimals; fractions get three; money two; percentages one, or
    two when some are below one percent. A column with tiny values (p-values) keeps
    significant digits per value, so 1.2e-08 does not become 0.000.
    """
    if not column.dtype.is_float() or kind not in (k.NUMBER, k.PERCENT, k.POINTS, k.COUNT):
        return lambda v: format_value(v, kind)
    finite = column.filter(column.is_finite())
    if finite.is_empty():
        return lambda v: format_value(v, kind)
    scale = 100.0 if kind == k.PERCENT else 1.0
    magnitudes = (finite * scale).abs()
    if kind in (k.PERCENT, k.POINTS):
        small = bool(((magnitudes > 0) & (magnitudes < 1)).any())
        spec = ",.2f" if small else ",.1f"  # an ROI can run to thousands of percent
        return lambda v: _number_or(v, kind, lambda x: f"{x * scale:{spec}}%")
    if bool((finite == finite.round(0)).all()):
        return lambda v: _number_or(v, kind, lambda x: f"{x:,.0f}")
    nonzero = magnitudes.filter(magnitudes > 0)
    least = float(nonzero.min()) if len(nonzero) else 0.0
    top = float(magnitudes.max())
    # One spec only where it shows every value to within half a percent: a column mixing
    # revenue with rates (a KPI table) would otherwise show a 0.65 retention rate as "1".
    if top >= 1e5 and least >= 100:
        spec = ",.0f"
    elif top > 1 and least >= 0.5:
        spec = ",.2f"
    elif top <= 1 and least >= 1e-3:
        spec = ".3f"
    else:
        return lambda v: format_value(v, kind)
    return lambda v: _number_or(v, kind, lambda x: f"{x:{spec}}")


def _number_or(value: Any, kind: str, show: Callable[[float], str]) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return show(value)
    return format_value(value, kind)


def format_float(value: float) -> str:
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 1e5 or value.is_integer():
        return f"{value:,.0f}"
    if magnitude >= 1:
        return f"{value:,.2f}"
    return f"{value:.3g}" if magnitude >= 1e-3 else f"{value:.2e}"


ACRONYMS = {"aov": "AOV", "cac": "CAC", "ces": "CES", "ci": "CI", "clv": "CLV", "csat": "CSAT", "id": "ID",
            "kmo": "KMO", "kpi": "KPI", "ltv": "LTV", "mae": "MAE", "nps": "NPS", "rfm": "RFM", "rmse": "RMSE",
            "roi": "ROI", "se": "SE", "pct": "%", "pp": "(points)"}


def label(key: str) -> str:
    """A column or figure name as a heading: `mean_clv` -> `Mean CLV`, `change_pct` -> `Change %`."""
    words = [ACRONYMS.get(w.lower(), w) for w in printable(key).replace("_", " ").split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else key


def provenance(result: Result) -> dict[str, str]:
    """What a reader needs to reproduce a result: workspace, as-of date, version, parameters."""
    params = result.params
    as_of = params.get("as_of")
    return {
        "Workspace": format_value(params.get("workspace")) if params.get("workspace") else "not recorded",
        "As of": format_value(as_of) if as_of else "not set (all data up to the last record)",
        "Analysis": result.name,
        "Loyalist version": __version__,
    }


def parameter_rows(result: Result) -> list[tuple[str, str]]:
    return [(key, format_value(jsonable(value)) if value is not None else MISSING)
            for key, value in result.params.items()]


def generated_at() -> str:
    return dt.datetime.now().astimezone().isoformat(sep=" ", timespec="minutes")
