"""`products.rules`: products (or categories) bought together, overall or per segment.

Baskets are orders or a customer's purchases within `window_days` (core.products.data);
itemsets and rules are exact (core.products.itemsets). Rules are kept when their support,
confidence and lift reach the minimums, and listed by lift (then confidence, support).

Stated rules for thin data: an item bought by one customer only is left out (its
"pattern" is one person's habit, not a product relation); rules need their itemset in at
least `min_support` of the baskets and never fewer than 2 baskets.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from core.products.data import MIN_BUYERS, Purchases, customers_per_item, read_purchases
from core.products.itemsets import association_rules, frequent_itemsets, min_count
from core.result import Result

MEASURES = ("support", "confidence", "lift", "leverage", "conviction")
JOIN = " + "  # between the items of a side of a rule
MIN_BASKETS = 2


def rules(ws, *, level: str = "product", window_days: int | None = None, min_support: float = 0.001,
          min_confidence: float = 0.05, min_lift: float = 1.0, max_size: int = 2, by: str | None = None,
          top: int = 200, as_of: dt.date | None = None, since: dt.date | None = None) -> Result:
    tx = ws.scan("transactions")
    where = str(ws.sources["transactions"].path) if "transactions" in ws.sources else "transactions"
    purchases = read_purchases(tx, level=level, as_of=as_of, since=since, window_days=window_days, where=where)
    segments = None
    if by:
        from core.products.segments import customer_segments

        segments = customer_segments(ws, by, purchases.as_of)
    return mine_rules(purchases, level=level, min_support=min_support, min_confidence=min_confidence,
                      min_lift=min_lift, max_size=max_size, segments=segments, by=by, top=top,
                      window_days=window_days, since=since)


def mine_rules(purchases: Purchases, *, level: str = "product", min_support: float = 0.001,
               min_confidence: float = 0.05, min_lift: float = 1.0, max_size: int = 2,
               segments: pl.DataFrame | None = None, by: str | None = None, top: int = 200,
               window_days: int | None = None, since: dt.date | None = None) -> Result:
    """The rules of these purchases; with `segments` (customer_id, segment), per segment."""
    buyers = customers_per_item(purchases)
    lone = buyers < MIN_BUYERS
    lines = purchases.lines
    notes = [_basket_note(purchases.basket_kind, window_days)]
    if lone.any():
        lines = lines.join(pl.DataFrame({"item": pl.Series(np.flatnonzero(lone), dtype=pl.UInt32)}), on="item",
                           how="anti")
        notes.append(f"{int(lone.sum()):,} {level}(s) bought by one customer only are left out of the rules")
    groups: list[tuple[str | None, pl.DataFrame]] = [(None, purchases.lines)]
    if segments is not None:
        labelled = _with_segments(purchases, segments)
        unplaced = purchases.lines.height - labelled.filter(pl.col("segment").is_not_null()).height
        if unplaced:
            notes.append(f"{unplaced:,} basket lines of customers without a segment are left out")
        groups = [(name, labelled.filter(pl.col("segment") == name))
                  for name in labelled["segment"].drop_nulls().unique().sort()]
    found, summaries, itemsets = [], [], []
    for name, group in groups:  # a handful of segments, not rows
        baskets = group["basket"].n_unique()
        kept = lines.join(group.select("basket").unique(), on="basket") if name is not None else lines
        table, sets = _group_rules(purchases, kept, baskets, min_support, max_size)
        table = table.filter(pl.col("confidence") >= min_confidence, pl.col("lift") >= min_lift)
        summaries.append({"segment": name, "baskets": baskets, "customers": group["customer"].n_unique(),
                          "frequent_itemsets": sum(s.height for s in sets), "rules": table.height})
        found.append(_labelled(table, purchases, name))
        itemsets.append(_itemset_table(sets, purchases, baskets, name))
    table = pl.concat(found).sort(["lift", "confidence", "support", "antecedent", "consequent"],
                                  descending=[True, True, True, False, False])
    total = table.height
    if top and total > top:
        table = table.head(top)
        notes.append(f"the {top:,} rules with the highest lift of {total:,} are listed (--top 0 lists all)")
    if total == 0:
        notes.append("no rule reaches the minimums: lower --min-support or --min-confidence, or use "
                     "--level category or --window-days for larger baskets")
    summary = pl.DataFrame(summaries, schema={"segment": pl.String, "baskets": pl.Int64, "customers": pl.Int64,
                                              "frequent_itemsets": pl.Int64, "rules": pl.Int64})
    if segments is None:
        table, summary = table.drop("segment"), summary.drop("segment")
    sets = pl.concat(itemsets).sort(["support", "itemset"], descending=[True, False])
    if segments is None:
        sets = sets.drop("segment")
    best = table.row(0, named=True) if table.height else None
    return Result(
        name="products.rules",
        title=f"Association rules ({level}s, {_basket_word(purchases.basket_kind, window_days)})",
        tables={"rules": table, "segments" if segments is not None else "baskets": summary, "itemsets": sets},
        headline={"basket_count": int(purchases.n_baskets), "customers": purchases.n_customers,
                  f"{level}s": purchases.n_items, "rule_count": total,
                  "top_rule": f"{best['antecedent']} → {best['consequent']}" if best else None,
                  "top_lift": best["lift"] if best else None},
        params={"as_of": purchases.as_of, "since": since, "level": level, "window_days": window_days,
                "min_support": min_support, "min_confidence": min_confidence, "min_lift": min_lift,
                "max_size": max_size, "by": by, "top": top},
        notes=tuple(notes),
    )


def _group_rules(purchases: Purchases, lines: pl.DataFrame, baskets: int, min_support: float,
                 max_size: int) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    from scipy import sparse

    shape = (purchases.n_baskets, purchases.n_items)
    matrix = sparse.csr_matrix((np.ones(lines.height, dtype=np.int32),
                                (lines["basket"].to_numpy(), lines["item"].to_numpy())), shape=shape)
    threshold = max(MIN_BASKETS, min_count(min_support, baskets)) if baskets else 1
    levels = frequent_itemsets(matrix, threshold, max_size) if baskets else []
    return association_rules(levels, max(baskets, 1)), levels


def _labelled(table: pl.DataFrame, purchases: Purchases, segment: str | None) -> pl.DataFrame:
    # Item codes follow the labels' sorted order, so each side's items come out sorted.
    codes = np.arange(purchases.n_items)

    def side(name: str) -> pl.Expr:
        return pl.col(name).list.sort().list.eval(
            pl.element().replace_strict(codes, purchases.items, return_dtype=pl.String)).list.join(JOIN).alias(name)

    return table.select(pl.lit(segment, dtype=pl.String).alias("segment"), side("antecedent"), side("consequent"),
                        *MEASURES, "antecedent_count", "consequent_count", "both_count")


def _itemset_table(levels: list[pl.DataFrame], purchases: Purchases, baskets: int,
                   segment: str | None) -> pl.DataFrame:
    parts = []
    for size, level in enumerate(levels, start=1):
        names = [pl.col(f"i{j}").replace_strict(np.arange(purchases.n_items), purchases.items,
                                                return_dtype=pl.String) for j in range(size)]
        parts.append(level.select(pl.lit(segment, dtype=pl.String).alias("segment"),
                                  pl.concat_str(names, separator=JOIN).alias("itemset"),
                                  pl.lit(size, dtype=pl.Int64).alias("size"),
                                  (pl.col("count") / max(baskets, 1)).alias("support"),
                                  pl.col("count").alias("basket_count")))
    schema = {"segment": pl.String, "itemset": pl.String, "size": pl.Int64, "support": pl.Float64,
              "basket_count": pl.Int64}
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)


def _with_segments(purchases: Purchases, segments: pl.DataFrame) -> pl.DataFrame:
    codes = pl.DataFrame({"customer_id": purchases.customers,
                          "customer": pl.int_range(purchases.n_customers, dtype=pl.UInt32, eager=True)})
    placed = codes.join(segments, on="customer_id", how="left").select("customer", "segment")
    return purchases.lines.join(placed, on="customer", how="left")


def _basket_word(kind: str, window_days: int | None) -> str:
    return {"order": "order baskets", "day": "one basket per customer and day",
            "window": f"{window_days}-day baskets"}[kind]


def _basket_note(kind: str, window_days: int | None) -> str:
    return {"order": "a basket is one order (order_id)",
            "day": "transactions have no order_id: a basket is a customer's purchases of one day",
            "window": f"a basket is a customer's purchases within {window_days} days, windows counted from "
                      "their first purchase"}[kind]
