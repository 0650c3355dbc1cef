"""`products.cross-sell`: the next-best products for the buyers of a product, or for a segment.

The group is the customers who bought `product` (or the customers of `segment` in the
segmentation `by`; with neither, the buyers of the best seller). For every other product Y: the share of the group who bought Y, the
share of the other customers who did, their ratio (lift) and difference (uplift, in
points of share). The audience of Y is the group's customers who have not bought it yet;
expected extra buyers = audience x uplift, i.e. if the audience came to buy Y at the
group's excess rate over other customers (an association, not a measured effect: test it
with a holdout before counting on it).

Stated rules: a product needs at least MIN_GROUP_BUYERS buyers in the group to be offered
(one customer's habit is no pattern); products with no uplift are not listed. The
`audience` table (one row per customer) is the audience of the best pick, ready to export
as a campaign list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import polars as pl

from core.errors import AnalysisError, InputError
from core.products.data import item_column, read_purchases
from core.result import Result

MIN_GROUP_BUYERS = 2


def cross_sell(ws, *, product: str | None = None, by: str | None = None, segment: str | None = None,
               n: int = 10, as_of: dt.date | None = None, since: dt.date | None = None) -> Result:
    if product is not None and segment is not None:
        raise InputError("cross-sell is for a product or for a segment, not both", fix="give --product ID, or "
                         "--by rfm --segment NAME (a segmentation or a customers column, and one of its segments)")
    if segment is not None and not by:
        raise InputError("--segment needs --by (the segmentation it belongs to)", fix="add --by rfm, --by kmeans, "
                         "--by quadrant or --by a customers column such as tier")
    tx = ws.scan("transactions")
    where = str(ws.sources["transactions"].path) if "transactions" in ws.sources else "transactions"
    purchases = read_purchases(tx, level="product", as_of=as_of, since=since, where=where)
    bought = purchases.customer_matrix().tocsc()
    if product is None and segment is None:  # the buyers of the best seller
        product = purchases.items[int(np.argmax(np.asarray(bought.sum(axis=0)).ravel()))]
    if product is not None:
        found = np.flatnonzero(purchases.items.to_numpy() == product)
        if not len(found):
            raise InputError(f"no customer bought product {product!r} up to {purchases.as_of.isoformat()}",
                             column="product_id", fix="give a product_id from the transactions")
        in_group = np.zeros(purchases.n_customers, dtype=bool)
        in_group[bought[:, found[0]].indices] = True
        group = f"buyers of {product}"
    else:
        from core.products.segments import customer_segments

        placed = customer_segments(ws, by, purchases.as_of).filter(pl.col("segment") == segment)
        if placed.height == 0:
            raise InputError(f"segment {segment!r} of {by} has no customers", fix=f"use a segment {by} gives")
        in_group = purchases.customers.is_in(placed["customer_id"].implode()).to_numpy()
        group = f"customers of segment {segment} ({by})"
    size, others = int(in_group.sum()), int((~in_group).sum())
    if size == 0 or others == 0:
        raise AnalysisError(f"the {group} are {'no' if size == 0 else 'all the'} customers with purchases: "
                            "nothing to compare with")
    total = np.asarray(bought.sum(axis=0)).ravel()
    inside = np.asarray(bought[in_group].sum(axis=0)).ravel()
    share_in, share_out = inside / size, (total - inside) / others
    table = pl.DataFrame({"product_id": purchases.items, "group_buyers": inside.astype(np.int64),
                          "group_share": share_in, "others_share": share_out})
    table = table.filter(pl.col("group_buyers") >= MIN_GROUP_BUYERS, pl.col("group_share") > pl.col("others_share"))
    if product is not None:
        table = table.filter(pl.col("product_id") != product)
    table = table.with_columns(
        pl.when(pl.col("others_share") > 0).then(pl.col("group_share") / pl.col("others_share")).alias("lift"),
        (pl.col("group_share") - pl.col("others_share")).alias("uplift"),
        (size - pl.col("group_buyers")).alias("audience"),
    ).with_columns((pl.col("audience") * pl.col("uplift")).alias("expected_extra_buyers")) \
        .sort(["expected_extra_buyers", "product_id"], descending=[True, False]).head(n) \
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("rank"))
    table = table.select("rank", "product_id", "group_buyers", "group_share", "others_share", "lift", "uplift",
                         "audience", "expected_extra_buyers")
    notes = [f"the group is the {size:,} {group}; the others are the {others:,} other customers with purchases",
             "expected extra buyers = audience x uplift: an association, not a measured effect"]
    audience = pl.DataFrame(schema={"customer_id": pl.String, "product_id": pl.String})
    if table.height:
        best = table["product_id"][0]
        has_best = np.zeros(purchases.n_customers, dtype=bool)
        has_best[bought[:, int(np.flatnonzero(purchases.items.to_numpy() == best)[0])].indices] = True
        audience = pl.DataFrame({"customer_id": purchases.customers.filter(pl.Series(in_group & ~has_best))}) \
            .with_columns(pl.lit(best).alias("product_id"))
    else:
        notes.append(f"no product is bought more by the {group} than by other customers")
    return Result(
        name="products.cross_sell",
        title=f"Cross-sell for the {group}",
        tables={"cross_sell": table, "audience": audience},
        headline={"group_customers": size, "best_product": table["product_id"][0] if table.height else None,
                  "best_uplift": table["uplift"][0] if table.height else None,
                  "audience_count": audience.height},
        params={"as_of": purchases.as_of, "since": since, "product": product, "by": by, "segment": segment, "n": n},
        notes=tuple(notes),
    )


def rule_audience(ws, antecedent: Sequence[str], consequent: Sequence[str], *,
                  as_of: dt.date | None = None) -> pl.DataFrame:
    """The customers a rule A → C speaks to: they bought every product of A and not every
    product of C (on or before as_of). customer_id and when they last bought from A, latest
    first: the list the Products screen shows under a rule."""
    from core.features import default_as_of

    tx = ws.scan("transactions")
    where = str(ws.sources["transactions"].path) if "transactions" in ws.sources else "transactions"
    column = item_column(tx, "product", where)
    as_of = as_of or default_as_of(tx)
    a, c = list(dict.fromkeys(antecedent)), list(dict.fromkeys(consequent))
    item = pl.col(column).cast(pl.String)
    return (tx.filter(pl.col("amount") > 0, pl.col("order_date") <= as_of, pl.col("customer_id").is_not_null(),
                      item.is_in(a + c))
            .group_by(pl.col("customer_id").cast(pl.String))
            .agg(item.filter(item.is_in(a)).n_unique().alias("_a"), item.filter(item.is_in(c)).n_unique().alias("_c"),
                 pl.col("order_date").filter(item.is_in(a)).max().alias("last_bought"))
            .filter(pl.col("_a") == len(a), pl.col("_c") < len(c))
            .sort(["last_bought", "customer_id"], descending=[True, False])
            .select("customer_id", "last_bought").collect())
