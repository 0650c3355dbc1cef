"""Purchases as the product analyses read them: one row per customer, basket and item,
numbered densely so they can go straight into a scipy sparse matrix.

An item is a product (`product_id`) or a category (`category`). A purchase is a
transaction line with a positive amount dated on or before the as-of day (returns and
lines without a customer or an item are left out). A basket is an order (`order_id`;
without one, a customer's purchases of one day) or, with `window_days`, a customer's
purchases within consecutive windows of that many days counted from their first purchase.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from core.errors import AnalysisError, InputError, UnmappedColumnError

LEVELS = ("product", "category")
# The least support any product analysis acts on: a product bought by fewer customers is one
# person's habit, not a pattern. Rules leave it out, and no method recommends it.
MIN_BUYERS = 2
ITEM_COLUMN = {"product": "product_id", "category": "category"}


@dataclass(frozen=True)
class Purchases:
    """Unique (customer, basket, item) rows as dense codes, with the labels of the codes."""

    lines: pl.DataFrame  # customer (u32 code), basket (u32 code), item (u32 code), order_date
    items: pl.Series  # item label of each item code
    customers: pl.Series  # customer_id of each customer code
    as_of: dt.date
    basket_kind: str  # "order", "day" or "window"

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_customers(self) -> int:
        return len(self.customers)

    @property
    def n_baskets(self) -> int:
        return int(self.lines["basket"].max()) + 1 if self.lines.height else 0

    def basket_matrix(self):
        """Baskets x items, 1 where the basket holds the item (scipy CSR, int32 counts)."""
        return _binary(self.lines["basket"], self.lines["item"], (self.n_baskets, self.n_items))

    def customer_matrix(self):
        """Customers x items, 1 where the customer bought the item at least once."""
        return _binary(self.lines["customer"], self.lines["item"], (self.n_customers, self.n_items))

    def customer_counts(self):
        """Customers x items: in how many baskets the customer bought the item."""
        from scipy import sparse

        # scipy sums the duplicate (customer, item) entries when it builds the CSR matrix.
        return sparse.csr_matrix((np.ones(self.lines.height, dtype=np.float32),
                                  (self.lines["customer"].to_numpy(), self.lines["item"].to_numpy())),
                                 shape=(self.n_customers, self.n_items))


def _binary(rows: pl.Series, cols: pl.Series, shape: tuple[int, int]):
    from scipy import sparse

    matrix = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows.to_numpy(), cols.to_numpy())),
                               shape=shape)
    matrix.sum_duplicates()
    matrix.data[:] = 1
    return matrix


def item_column(transactions: pl.LazyFrame, level: str, where: str) -> str:
    """The column holding the items at this level; a clear error when the file lacks it."""
    if level not in LEVELS:
        raise InputError(f"unknown level {level!r}", fix="use level product or category")
    column = ITEM_COLUMN[level]
    if column not in transactions.collect_schema():
        other = "category" if level == "product" else "product"
        raise UnmappedColumnError(
            f"product analyses at the {level} level need a {column} column in transactions, and it has none",
            table="transactions", canonical=column, file=where, column=column,
            fix=f'map your {level} column in loyalist.toml: [tables.transactions.columns] {column} = "Your header" '
                f"(its header in the file), or use --level {other} if the file has a {ITEM_COLUMN[other]} column")
    return column


def read_purchases(transactions: pl.LazyFrame, *, level: str = "product", as_of: dt.date | None = None,
                   since: dt.date | None = None, window_days: int | None = None,
                   where: str = "transactions") -> Purchases:
    """The purchases between `since` and `as_of` (inclusive), collected once and coded densely."""
    from core.features import default_as_of

    column = item_column(transactions, level, where)
    as_of = as_of or default_as_of(transactions)
    has_order = "order_id" in transactions.collect_schema()
    rows = transactions.filter(
        pl.col("amount") > 0, pl.col("order_date") <= as_of, pl.col("customer_id").is_not_null(),
        pl.col(column).is_not_null(), *([pl.col("order_date") >= since] if since is not None else []))
    if window_days is not None:
        if window_days < 1:
            raise InputError("window_days must be at least 1", fix="give --window-days 30, or leave it empty "
                             "for order baskets")
        start = pl.col("order_date").min().over("customer_id")
        key, kind = [pl.col("customer_id"), (pl.col("order_date") - start).dt.total_days() // window_days], "window"
    elif has_order:
        key, kind = [pl.col("customer_id"), pl.col("order_id")], "order"
    else:
        key, kind = [pl.col("customer_id"), pl.col("order_date")], "day"
    lines = rows.select(pl.col("customer_id").cast(pl.String), pl.col(column).cast(pl.String).alias("item"),
                        pl.col("order_date"), *[k.alias(f"_k{i}") for i, k in enumerate(key)]).collect()
    if lines.height == 0:
        raise AnalysisError(f"no purchases with a {column} on or before {as_of.isoformat()}"
                            + (f" from {since.isoformat()}" if since else ""))
    customer, customers = dense_codes(lines["customer_id"])
    item, items = dense_codes(lines["item"])
    return Purchases(_basket_lines(customer, lines["_k1"], item, lines["order_date"]), items, customers, as_of, kind)


def _basket_lines(customer: pl.Series, key: pl.Series, item: pl.Series, order_date: pl.Series) -> pl.DataFrame:
    """One row per basket and item (a product twice in an order, or a window, counts once),
    with the basket's customer and the item's first date, sorted by basket then item.

    One sort by (customer, basket key, item, date) does it all: a basket starts where the
    customer or the key changes, a line where the basket or the item does, and its first row
    holds the earliest date. Baskets are numbered in that order, as customer codes and the
    keys sort."""
    coded = pl.DataFrame({"customer": customer, "_key": key, "item": item, "order_date": order_date})
    coded = coded.sort("customer", "_key", "item", "order_date")
    customers, keys, items = coded["customer"].to_numpy(), coded["_key"], coded["item"].to_numpy()
    same_key = keys.slice(1).eq_missing(keys.slice(0, len(keys) - 1)).to_numpy()
    new_basket = np.r_[True, (customers[1:] != customers[:-1]) | ~same_key]
    new_line = new_basket | np.r_[True, items[1:] != items[:-1]]
    basket = pl.Series("basket", np.cumsum(new_basket, dtype=np.int64) - 1).cast(pl.UInt32)
    return coded.with_columns(basket).filter(pl.Series(new_line)).select("customer", "basket", "item", "order_date")


def dense_codes(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(code of each value, the distinct values sorted): codes 0..k-1 in sorted order."""
    distinct = values.unique().sort()
    lookup = pl.DataFrame({"value": distinct, "code": pl.int_range(len(distinct), dtype=pl.UInt32, eager=True)})
    codes = pl.DataFrame({"value": values}).join(lookup, on="value", how="left", maintain_order="left")["code"]
    return codes, distinct


def customers_per_item(purchases: Purchases) -> np.ndarray:
    """How many distinct customers bought each item."""
    # Each (customer, item) pair as one integer: hashing integers is cheaper than rows.
    n = max(purchases.n_items, 1)
    pairs = purchases.lines.select((pl.col("customer").cast(pl.UInt64) * n + pl.col("item")).unique().alias("k"))
    return np.bincount((pairs["k"].to_numpy() % n).astype(np.int64), minlength=purchases.n_items)
