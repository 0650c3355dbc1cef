"""Whether a transactions file keeps each order's purchase lines together: learned by the
data checks, remembered per file beside them (core.check_cache).

Counting distinct orders per customer is cheap when every order's purchase lines (amount
above zero) are adjacent in the file and share one customer, channel and day: a line then
starts an order unless the line before it is a line of the same order, and the starts are
the orders. core.features and the channels report count so; not told the layout, they
prove it on every run with a distinct count of all order ids (at ten million rows about two
seconds of one core and, beside the channels report's group_bys, 300 MB). The layout is a
fact about the file, so the checks, which read every row anyway, count it once:

- purchase lines without an order id (each would be its own order);
- lines continuing the order of the line before in another customer, channel or day;
- the lines that start an order, against the distinct order ids of all purchase lines.

It holds when the first two are zero and the last two are equal. It then holds for any
subset of the rows too (a filter on dates or customers, valid rows only): dropping lines
from a run of one order's lines leaves a run. The order ids are compared as text and
counted as 64-bit hashes, so a collision can only make the layout fail (the analyses then
prove it themselves, as before). The distinct count is a read of its own (distinct_starts), in
passes sized from the memory budget: inside the checks' one summary it held 6.5 GB at 204M lines.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from core.workspace import Workspace

PREFIX = "__layout_"
NEEDED = ("customer_id", "order_date", "amount", "order_id")
# Held per start while counting distinct order ids (a hash set of 64-bit hashes): about 65 bytes
# at 100M starts (6.5 GB), so 64 to plan with; more than the budget allows splits the count
DISTINCT_BYTES_PER_START = 64
NOT_COUNTED = -1  # distinct: not counted, since the other counts already show the layout does not hold


@dataclass(frozen=True)
class OrderLayout:
    without_id: int  # purchase lines with no order id
    continued_elsewhere: int  # lines continuing the line before's order in another customer, channel or day
    starts: int  # purchase lines that start an order
    distinct: int  # distinct order ids of purchase lines (NOT_COUNTED when the layout fails without it)

    @property
    def adjacent(self) -> bool:
        return not self.without_id and not self.continued_elsewhere and self.starts == self.distinct

    def as_entry(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_entry(cls, entry: Any) -> OrderLayout | None:
        try:
            return cls(**{k: int(entry[k]) for k in ("without_id", "continued_elsewhere", "starts", "distinct")})
        except (TypeError, KeyError, ValueError):  # a damaged entry: not known
            return None


def continues_order(order: pl.Expr) -> pl.Expr:
    """True on a line of the same order as the line before it. `order` is null on a line that is
    not a purchase, so such a line continues nothing and breaks a run. The one rule the checks'
    count here and the analyses' starts (core.features, the channels report) share."""
    return (order == order.shift(1)).fill_null(False)


def _continues() -> pl.Expr:
    buy = pl.col("amount") > 0
    return continues_order(pl.when(buy).then(pl.col("order_id")))


def layout_flags(columns: list[str]) -> dict[str, pl.Expr]:
    """The counts but the distinct order ids, as a flag per row (named <PREFIX><count>) over a
    frame with the canonical columns (none when it has no order ids), for the checks' summary to
    sum; read back with from_summary. Flags, not sums: a shift inside a select beside other
    aggregations made Polars hold every column it read (1 GB more at 20M lines, 12 GB at 204M)."""
    if not set(NEEDED) <= set(columns):
        return {}
    buy = pl.col("amount") > 0
    continues = _continues()
    keys = ["customer_id", "order_date", *(["channel"] if "channel" in columns else [])]
    moved = pl.any_horizontal(pl.col(k).ne_missing(pl.col(k).shift(1)) for k in keys)
    return {f"{PREFIX}without_id": buy & pl.col("order_id").is_null(),
            f"{PREFIX}continued_elsewhere": continues & moved,
            f"{PREFIX}starts": buy & ~continues}


def distinct_starts(frame: pl.LazyFrame, starts: int) -> int:
    """The distinct order ids (as 64-bit hashes) of the lines that start an order: every order's
    first purchase line is one, and there are fewer starts than lines. Counted in passes over
    disjoint sets of hashes when the memory budget asks for them; each pass re-reads the file."""
    from core.memory import memory_budget

    passes = max(1, -(-starts * DISTINCT_BYTES_PER_START // memory_budget()))
    start = (pl.col("amount") > 0) & ~_continues() & pl.col("order_id").is_not_null()
    hashed = frame.with_columns(_start=start).filter("_start").select(_h=pl.col("order_id").hash())
    return sum(int(hashed.filter(pl.col("_h") % passes == k).select(pl.col("_h").n_unique()).collect().item())
               for k in range(passes))


def from_summary(row: dict[str, Any], frame: pl.LazyFrame) -> OrderLayout | None:
    """The layout from a summary row holding layout_flags' counts (None without them), with
    the distinct order ids read from `frame` when the other counts leave the layout open."""
    if f"{PREFIX}starts" not in row:
        return None
    counts = {k[len(PREFIX):]: int(v) for k, v in row.items() if k.startswith(PREFIX)}
    open_ = not counts["without_id"] and not counts["continued_elsewhere"]
    return OrderLayout(**counts, distinct=distinct_starts(frame, counts["starts"]) if open_ else NOT_COUNTED)


def orders_adjacent(ws: Workspace, engine: object | None = None) -> bool:
    """Whether the checks found the workspace's transactions file laid out order by order (see
    the module docstring): False when that is not so, not known (a database table, a file not
    checked since it changed) or the file has no order ids, and with an `engine` (core.engines),
    which reduces the rows itself. Reads the check cache only."""
    from core.check_cache import CheckCache, source_key

    source = ws.sources.get("transactions")
    if engine is not None or source is None or source.missing_required:
        return False
    layout = CheckCache(ws.root).layout(source_key(source))
    return layout is not None and layout.adjacent
