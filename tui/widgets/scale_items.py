"""The Scale builder's item list: each item's settings next to what the reliability check
says about it (alpha if deleted, corrected item-total r, a flag).

`item_rows(spec, check)` joins the spec with a `scale.check` Result's "items" and
"weights" tables (pure: run it in the worker); `ScaleItemsTable` shows the rows and keeps
the cursor on the same item when they change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import DataTable

from core.result import Result
from core.scale.spec import ItemSpec, ScaleSpec

# The figures an analyst watches while editing come right after the item, so they stay in
# view at 80 columns; the settings that change less often follow.
COLUMNS = (("item", "item"), ("direction", "direction"), ("weight", "weight"),
           ("alpha_if_deleted", "α if del."), ("r_drop", "r.drop"), ("transform", "transform"),
           ("normalise", "normalise"), ("flag", "flag"))


@dataclass(frozen=True)
class ItemRow:
    column: str
    name: str
    direction: str
    transform: str
    normalise: str
    given: float | None  # the typed weight (manual weighting)
    weight: float | None  # the share it gets in the score, 0-1
    alpha_if_deleted: float | None
    r_drop: float | None
    flag: str
    raises_alpha: bool  # alpha would be higher without it


def _number(value: object) -> float | None:
    if value is None:
        return None
    f = float(value)  # type: ignore[arg-type]
    return f if math.isfinite(f) else None


def item_rows(spec: ScaleSpec, check: Result | None) -> list[ItemRow]:
    """One row per item of `spec`; statistics from `check` where it has the item."""
    stats, weights, alpha = {}, {}, None
    if check is not None:
        stats = {r["item"]: r for r in check.tables["items"].iter_rows(named=True)}
        weights = dict(zip(check.tables["weights"]["item"], check.tables["weights"]["weight"]))
        alpha = _number(check.headline.get("alpha"))
    rows = []
    for item in spec.items:
        s = stats.get(item.column, {})
        if_deleted = _number(s.get("alpha_if_deleted"))
        rows.append(ItemRow(
            column=item.column, name=item.name, direction=item.direction, transform=item.transform,
            normalise=_normalise_text(item),
            given=item.weight if spec.weights == "manual" else None,
            weight=_number(weights.get(item.column)),
            alpha_if_deleted=if_deleted, r_drop=_number(s.get("r_drop")), flag=s.get("flag") or "",
            raises_alpha=alpha is not None and if_deleted is not None and if_deleted > alpha,
        ))
    return rows


def _normalise_text(item: ItemSpec) -> str:
    if item.range is not None and item.normalise == "minmax":
        return f"minmax {item.range[0]:g}–{item.range[1]:g}"
    return item.normalise


def _cells(row: ItemRow, stale: bool) -> list[Text]:
    dim = "dim" if stale else ""
    arrow = "↑ higher" if row.direction == "higher" else "↓ lower"
    if row.weight is None:
        weight = "–"
    elif row.given is not None:
        weight = f"{row.given:g} · {row.weight:.0%}"
    else:
        weight = f"{row.weight:.1%}"
    alpha = "–" if row.alpha_if_deleted is None else f"{row.alpha_if_deleted:.3f}"
    r_drop = "–" if row.r_drop is None else f"{row.r_drop:.2f}"
    return [
        Text(row.name),
        Text(arrow, style="bold" if row.direction == "lower" else ""),
        Text(weight, justify="right", style=dim),
        Text(alpha, justify="right", style=dim or ("bold" if row.raises_alpha else "")),
        Text(r_drop, justify="right", style=dim or ("bold" if (row.r_drop or 0) < 0 else "")),
        Text(row.transform, style="" if row.transform == "none" else "bold"),
        Text(row.normalise),
        Text(row.flag, style=dim or "italic"),
    ]


class ScaleItemsTable(DataTable):
    COMPONENT_CLASSES = DataTable.COMPONENT_CLASSES

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self.rows_shown: list[ItemRow] = []

    def on_mount(self) -> None:
        for key, name in COLUMNS:
            self.add_column(Text(name, style="bold"), key=key)

    def show_rows(self, rows: list[ItemRow], *, stale: bool = False, select: str | None = None) -> None:
        """Show `rows`; the cursor stays on `select` (default: the item it is on)."""
        select = select or self.highlighted_item
        index = self.cursor_row
        self.rows_shown = rows
        self.clear()
        for row in rows:
            self.add_row(*_cells(row, stale), key=row.column)
        columns = [r.column for r in rows]
        if select in columns:
            self.move_cursor(row=columns.index(select), animate=False)
        elif rows:
            self.move_cursor(row=min(index, len(rows) - 1), animate=False)

    @property
    def highlighted_item(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def column_values(self, key: str) -> list[str]:
        """The text shown in one column, top to bottom (for tests and checks)."""
        return [self.get_cell(r.column, key).plain for r in self.rows_shown]
