"""`products.recommend`: the top-n products each customer has not bought yet, with a reason.

Methods (core.products.recommenders): item-item collaborative filtering (default),
implicit ALS matrix factorisation, and the popularity baseline. Each recommendation says
why: "bought with X by 34% of buyers of X" (item-item), "buyers with tastes like yours
buy it; closest to X, which you bought" (ALS), "best seller: bought by 12% of customers".

Stated rules: only candidate products are fitted and recommended: bought by at least
MIN_BUYERS (2) customers, the rules' minimum support, so no method (best sellers included)
ever recommends a product one customer bought; above MAX_ITEMS candidates only the MAX_ITEMS
bought by the most customers are kept (both noted). Every matrix is sparse, customers x
products or products x products with at most `neighbours` entries a product, so a catalogue
of millions of products never becomes a dense matrix. A customer whose purchases give the
method nothing (e.g. one purchase of a product nobody else bought) gets best sellers
instead, marked source = popularity; an item needs 2 customers in common with another to be
its neighbour.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import polars as pl

from core.errors import InputError
from core.products.data import MIN_BUYERS, Purchases, customers_per_item, read_purchases
from core.products.recommenders import ALS_FACTORS, ALS_REGULARIZATION, ImplicitALS, ItemItem, Picks, Popularity
from core.result import Result

METHODS = ("item_item", "als", "popularity")
METHOD_TITLES = {"item_item": "item-item CF", "als": "ALS (implicit)", "popularity": "popularity"}
MAX_ITEMS = 200_000


def make_model(method: str, *, similarity: str = "cosine", neighbours: int = 50, factors: int = ALS_FACTORS,
               regularization: float = ALS_REGULARIZATION):
    if method == "item_item":
        return ItemItem(similarity=similarity, neighbours=neighbours)
    if method == "als":
        return ImplicitALS(factors=factors, regularization=regularization)
    if method == "popularity":
        return Popularity()
    raise InputError(f"unknown method {method!r}", fix=f"use one of {', '.join(METHODS)}")


def capped(purchases: Purchases) -> tuple[Purchases, int]:
    """The purchases of the candidate products: bought by at least MIN_BUYERS customers, and of
    those at most MAX_ITEMS, the most bought (ties: the lower code). Returns them and how many
    products were dropped. Codes are kept, so the matrices stay sparse and never grow with the
    products left out."""
    buyers = customers_per_item(purchases)
    bought = np.flatnonzero(buyers > 0)
    kept = bought[buyers[bought] >= MIN_BUYERS]
    if len(kept) > MAX_ITEMS:
        kept = kept[np.lexsort((kept, -buyers[kept]))][:MAX_ITEMS]
    dropped = len(bought) - len(kept)
    if dropped == 0:
        return purchases, 0
    candidate = np.zeros(purchases.n_items, dtype=bool)
    candidate[kept] = True
    lines = purchases.lines.filter(pl.Series(candidate[purchases.lines["item"].to_numpy()]))
    return Purchases(lines, purchases.items, purchases.customers, purchases.as_of, purchases.basket_kind), dropped


def fit_and_pick(method: str, purchases: Purchases, rows: np.ndarray, n: int, **model_options
                 ) -> tuple[Picks, object, Popularity]:
    """Fit the method on all purchases, pick for the customers `rows` (their codes); a customer
    the method leaves empty gets best sellers (because = -2 marks them)."""
    counts = purchases.customer_counts()
    bought = (counts > 0).astype(np.float32).tocsr()
    popularity = Popularity().fit(bought)
    model = popularity if method == "popularity" else make_model(method, **model_options).fit(
        counts if method == "als" else bought)
    chosen = bought[rows]
    if method == "als":
        picks = model.recommend(chosen, n, customers=rows)
    else:
        picks = model.recommend(chosen, n)
    if method != "popularity":
        served = np.zeros(len(rows), dtype=bool)
        served[picks.row] = True
        empty = np.flatnonzero(~served)
        if len(empty):
            fallback = popularity.recommend(chosen[empty], n)
            fallback = Picks(empty[fallback.row], fallback.rank, fallback.item, fallback.score,
                             np.full(len(fallback.row), -2, dtype=np.int64))
            picks = _sorted(Picks.concat([picks, fallback]))
    return picks, model, popularity


def _sorted(picks: Picks) -> Picks:
    order = np.lexsort((picks.rank, picks.row))
    return Picks(*(getattr(picks, f)[order] for f in ("row", "rank", "item", "score", "because")))


def recommend(ws, *, method: str = "item_item", n: int = 10, customers: Sequence[str] | None = None,
              similarity: str = "cosine", neighbours: int = 50, factors: int = ALS_FACTORS,
              regularization: float = ALS_REGULARIZATION, as_of: dt.date | None = None,
              since: dt.date | None = None) -> Result:
    tx = ws.scan("transactions")
    where = str(ws.sources["transactions"].path) if "transactions" in ws.sources else "transactions"
    purchases = read_purchases(tx, level="product", as_of=as_of, since=since, where=where)
    return recommend_for(purchases, method=method, n=n, customers=customers, similarity=similarity,
                         neighbours=neighbours, factors=factors, regularization=regularization, since=since)


def recommend_for(purchases: Purchases, *, method: str = "item_item", n: int = 10,
                  customers: Sequence[str] | None = None, similarity: str = "cosine", neighbours: int = 50,
                  factors: int = ALS_FACTORS, regularization: float = ALS_REGULARIZATION,
                  since: dt.date | None = None) -> Result:
    purchases, dropped = capped(purchases)
    notes = []
    if dropped:
        notes.append(f"{dropped:,} product(s) are not candidates: a candidate was bought by at least {MIN_BUYERS} "
                     f"customers and is among the {MAX_ITEMS:,} bought by the most")
    rows = _rows_of(purchases, customers)
    picks, model, popularity = fit_and_pick(method, purchases, rows, n, similarity=similarity,
                                            neighbours=neighbours, factors=factors, regularization=regularization)
    table = pick_table(picks, rows, purchases, method, model, popularity)
    # The counts below come from the picks' integer codes (a row is one customer, an item one
    # product), not from the table's strings: at 750,000 customers that is seconds.
    fell_back = picks.because == -2
    fallback = np.unique(picks.row[fell_back]).size if method != "popularity" else 0
    if fallback:
        notes.append(f"{fallback:,} customer(s) got best sellers: {METHOD_TITLES[method]} found no neighbour for "
                     "what they bought")
    short = int((np.bincount(picks.row, minlength=len(rows)) < n).sum())  # none counts too
    if short:
        notes.append(f"{short:,} customer(s) have fewer than {n} products left that they have not bought")
    groups = sorted(((source, mask) for source, mask in ((method, ~fell_back), ("popularity", fell_back)) if mask.any()),
                    key=lambda group: group[0])
    sources = [source for source, _ in groups]
    counts = [(np.unique(picks.row[mask]).size, int(mask.sum()), np.unique(picks.item[mask]).size)
              for _, mask in groups]
    summary = pl.DataFrame({"source": sources, "customers": [c[0] for c in counts],
                            "recommendations": [c[1] for c in counts], "products": [c[2] for c in counts]},
                           schema={"source": pl.String, "customers": pl.UInt32, "recommendations": pl.UInt32,
                                   "products": pl.UInt32})
    recommended = np.unique(picks.item).size
    coverage = recommended / max(purchases.n_items, 1)
    return Result(
        name="products.recommend",
        title=f"Recommendations ({METHOD_TITLES[method]}, top {n})",
        tables={"recommendations": table, "summary": summary},
        headline={"customers": len(rows), "recommendation_count": table.height,
                  "products_recommended": recommended, "catalogue_coverage_share": coverage},
        params={"as_of": purchases.as_of, "since": since, "method": method, "n": n,
                "similarity": similarity if method == "item_item" else None,
                "neighbours": neighbours if method == "item_item" else None,
                "factors": factors if method == "als" else None,
                "regularization": regularization if method == "als" else None},
        notes=tuple(notes),
    )


def _rows_of(purchases: Purchases, customers: Sequence[str] | None) -> np.ndarray:
    """The customer codes to recommend for: all, or the given ids (each must have bought)."""
    if not customers:
        return np.arange(purchases.n_customers)
    wanted = pl.DataFrame({"customer_id": list(dict.fromkeys(customers))})
    codes = pl.DataFrame({"customer_id": purchases.customers,
                          "code": pl.int_range(purchases.n_customers, eager=True)})
    found = wanted.join(codes, on="customer_id", how="left", maintain_order="left")
    missing = found.filter(pl.col("code").is_null())["customer_id"].to_list()
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise InputError(f"{len(missing)} customer(s) have no purchase with a product_id up to "
                         f"{purchases.as_of.isoformat()}: {shown}",
                         fix="give customer_ids that bought something, or leave --customer empty for everyone")
    return found["code"].to_numpy()


def pick_table(picks: Picks, rows: np.ndarray, purchases: Purchases, method: str, model, popularity: Popularity
               ) -> pl.DataFrame:
    """The picks as a table: customer_id, rank, product_id, score, reason, because, source."""
    labels = purchases.items
    because = picks.because
    share = np.zeros(len(because))
    owned = because >= 0
    if method == "item_item" and owned.any():
        share[owned] = model.co_buyer_share(because[owned], picks.item[owned])
    popular = popularity.buyers_[picks.item] / max(popularity.customers_, 1)
    frame = pl.DataFrame({
        "customer_id": purchases.customers.gather(rows[picks.row]),
        "rank": picks.rank,
        "product_id": labels.gather(picks.item),
        "score": picks.score,
        "because": labels.gather(np.where(owned, because, 0)),
        "_owned": owned,
        "_share": share,
        "_popular": popular,
        "_fallback": because == -2,
    })
    frame = frame.with_columns(pl.when(pl.col("_owned")).then(pl.col("because")).alias("because"),
                               pl.when(pl.col("_fallback")).then(pl.lit("popularity")).otherwise(pl.lit(method))
                               .alias("source"))
    reason = (pl.when(pl.col("source") == "popularity")
              .then(pl.format("best seller: bought by {} of customers", percent(pl.col("_popular"))))
              .when(pl.lit(method == "item_item"))
              .then(pl.format("bought with {} by {} of buyers of {}", pl.col("because"), percent(pl.col("_share")),
                              pl.col("because")))
              .otherwise(pl.format("buyers with tastes like yours buy it; closest to {}, which you bought",
                                   pl.col("because"))))
    return frame.with_columns(reason.alias("reason")).select(
        "customer_id", "rank", "product_id", "score", "reason", "because", "source")


def percent(share: pl.Expr) -> pl.Expr:
    """A share as people write it: 34%, 0.8% below 1%."""
    pct = share * 100
    return pl.when(pct >= 1).then(pct.round(0).cast(pl.Int64).cast(pl.String) + "%") \
        .otherwise(pct.round(1).cast(pl.String) + "%")
