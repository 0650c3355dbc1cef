"""Order baskets: the products of each order, around the order value drawn before.

An order's value, channel, date, campaign and the category of its first line are drawn in
core.demo.purchases (so every revenue truth stays as it was); here each order gets its
lines: the first line in that category, further lines in categories the customer's type
likes, complementary products added to orders holding their partner, and each customer's
staple products bought again. The order value is split over its lines in proportion to
list price x quantity, in whole cents, so an order's lines add up to its value exactly.
Returns stay one draw per order (core.demo.purchases.draw_returns); a returned order
refunds each of its lines, and the refunds add up to the order's refund exactly.

All draws come from this module's own random stream, in a fixed order, and every step is
vectorised over orders or lines; the only loops run over categories and planted pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.demo.params import (
    BASKETS,
    CATEGORIES,
    CATEGORY_BASE_PRICE,
    COMPLEMENTS,
    PRODUCT_ZIPF_EXPONENT,
    PRODUCTS_PER_CATEGORY,
    REPEAT_PROBS,
    TYPE_CATEGORY_TASTE,
    TYPES,
    favourite_ranks,
)
from core.demo.people import Population
from core.demo.purchases import OrderLines, Returns

PREFIXES = tuple(c[:3].upper() for c in CATEGORIES)


@dataclass
class Catalogue:
    """Every product: index = category x PRODUCTS_PER_CATEGORY + rank - 1."""

    category: np.ndarray
    rank: np.ndarray  # 1 = the most popular of its category
    price: np.ndarray  # list price
    favourite_of: np.ndarray  # index into TYPES, or -1

    @property
    def ids(self) -> list[str]:
        return [f"{PREFIXES[c]}-{r:03d}" for c, r in zip(self.category.tolist(), self.rank.tolist())]


@dataclass
class Lines:
    """Order lines, sorted by order then line number (0 = the first line)."""

    order: np.ndarray  # index into OrderLines
    line: np.ndarray
    product: np.ndarray  # index into the catalogue
    quantity: np.ndarray
    amount: np.ndarray


def product_index(product_id: str) -> int:
    prefix, rank = product_id.split("-")
    return PREFIXES.index(prefix) * PRODUCTS_PER_CATEGORY + int(rank) - 1


def draw_catalogue(rng: np.random.Generator) -> Catalogue:
    n_cat, per = len(CATEGORIES), PRODUCTS_PER_CATEGORY
    category = np.repeat(np.arange(n_cat), per)
    rank = np.tile(np.arange(1, per + 1), n_cat)
    sigma = BASKETS.price_sigma
    price = np.asarray(CATEGORY_BASE_PRICE)[category] * rng.lognormal(-sigma**2 / 2, sigma, size=n_cat * per)
    favourite_of = np.full(n_cat * per, -1)
    for t in range(len(TYPES)):  # six types, not rows
        favourite_of[np.isin(rank, favourite_ranks(t))] = t
    return Catalogue(category, rank, np.maximum(np.round(price, 2), 0.5), favourite_of)


def _zipf(rng: np.random.Generator, size) -> np.ndarray:
    weight = 1.0 / np.arange(1, PRODUCTS_PER_CATEGORY + 1) ** PRODUCT_ZIPF_EXPONENT
    return rng.choice(PRODUCTS_PER_CATEGORY, size=size, p=weight / weight.sum())


def _favourites() -> np.ndarray:
    """(types, favourites) ranks - 1 of each type's favourite products in every category."""
    return np.array([favourite_ranks(t) for t in range(len(TYPES))]) - 1


def _pick(u: np.ndarray, pick: np.ndarray, zipf: np.ndarray, types: np.ndarray,
          repeat: np.ndarray, staple: np.ndarray) -> np.ndarray:
    """The rank - 1 of each line's product: the staple (chance repeat), else a favourite of
    the type (chance taste_share of the rest), else the popularity (Zipf) draw."""
    taste = BASKETS.taste_share
    favourite = _favourites()[types, pick]
    chosen = np.where(u < repeat + (1 - repeat) * taste, favourite, zipf)
    return np.where(u < repeat, staple, chosen)


def draw_lines(rng: np.random.Generator, pop: Population, orders: OrderLines, catalogue: Catalogue) -> Lines:
    n, m = pop.n, len(orders.cust)
    n_cat, per, n_fav = len(CATEGORIES), PRODUCTS_PER_CATEGORY, BASKETS.favourites_per_category
    types = pop.type_idx
    repeat = np.asarray(REPEAT_PROBS)

    # Each customer's staple product per category: a favourite or a popular one, as any line.
    staple = _pick(rng.random((n, n_cat)), rng.integers(0, n_fav, (n, n_cat)), _zipf(rng, (n, n_cat)),
                   types[:, None], np.zeros((1, n_cat)), np.zeros((n, n_cat), dtype=np.int64))

    # The first line: the order's category as drawn; its popularity draw is the product drawn
    # with the order (so that stream's draws do not move).
    cust, cat = orders.cust, orders.category
    first = _pick(rng.random(m), rng.integers(0, n_fav, m), orders.product - 1, types[cust], repeat[cat],
                  staple[cust, cat])

    # Further lines: categories by the type's taste.
    extra = np.minimum(rng.poisson(BASKETS.extra_lines_mean, m), BASKETS.max_extra_lines)
    e_order = np.repeat(np.arange(m), extra)
    e_cust = cust[e_order]
    cum = np.cumsum(np.asarray(TYPE_CATEGORY_TASTE), axis=1)[types[e_cust]]
    u = rng.random(len(e_order))
    e_cat = np.minimum((u[:, None] > cum).sum(axis=1), n_cat - 1)
    e_rank = _pick(rng.random(len(e_order)), rng.integers(0, n_fav, len(e_order)), _zipf(rng, len(e_order)),
                   types[e_cust], repeat[e_cat], staple[e_cust, e_cat])
    e_quantity = 1 + rng.poisson(BASKETS.extra_quantity_mean, len(e_order))

    order = np.concatenate((np.arange(m), e_order))
    product = np.concatenate((cat * per + first, e_cat * per + e_rank))
    quantity = np.concatenate((orders.quantity, e_quantity))
    # A product appears once per order (the first line wins): orders and products are keys.
    key = order * (n_cat * per) + product
    _, keep = np.unique(key, return_index=True)
    keep = np.sort(keep)
    order, product, quantity = order[keep], product[keep], quantity[keep]

    # Complementary pairs: an order holding a gets b with the planted chance.
    added = []
    for pair in COMPLEMENTS:  # a handful of planted pairs, not rows
        a, b = product_index(pair.a), product_index(pair.b)
        has_a = np.zeros(m, dtype=bool)
        has_a[order[product == a]] = True
        has_b = np.zeros(m, dtype=bool)
        has_b[order[product == b]] = True
        gets = np.flatnonzero(has_a & ~has_b & (rng.random(m) < pair.add_prob))
        added.append((gets, np.full(len(gets), b)))
    order = np.concatenate([order, *(g for g, _ in added)])
    product = np.concatenate([product, *(p for _, p in added)])
    quantity = np.concatenate([quantity, np.ones(len(order) - len(quantity), dtype=quantity.dtype)])

    sort = np.argsort(order, kind="stable")  # first line, further lines, added complements
    order, product, quantity = order[sort], product[sort], quantity[sort]
    starts = np.searchsorted(order, np.arange(m))
    line = np.arange(len(order)) - starts[order]
    amount = split_cents(orders.amount, order, catalogue.price[product] * quantity)
    return Lines(order, line, product, quantity.astype(np.int64), amount)


def split_cents(total: np.ndarray, group: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """`total[g]` split over the rows of each group `g` in proportion to `weight`, in whole
    cents (largest remainder), at least one cent per row; the parts add up to the total
    exactly. `group` must be sorted."""
    cents = np.round(np.asarray(total) * 100).astype(np.int64)
    rows = np.bincount(group, minlength=len(cents))
    spare = cents - rows  # one cent per row first
    share = weight / np.bincount(group, weights=weight, minlength=len(cents))[group]
    raw = share * spare[group]
    part = np.floor(raw).astype(np.int64)
    left = spare - np.bincount(group, weights=part, minlength=len(cents)).astype(np.int64)
    # The cents left over go to the rows with the largest fractional parts, one each.
    # One float sort key (group, then the largest fraction first) is cheaper than lexsort.
    order = np.argsort(group + 0.999 * (1.0 - (raw - part)), kind="stable")
    position = np.empty(len(group), dtype=np.int64)
    position[order] = np.arange(len(group)) - np.searchsorted(group, group[order])
    part += position < left[group]
    return (1 + part) / 100


@dataclass
class ReturnLines:
    order: np.ndarray  # the returned order (index into OrderLines)
    line: np.ndarray
    product: np.ndarray
    day: np.ndarray
    amount: np.ndarray  # negative
    quantity: np.ndarray  # negative


def return_lines(returns: Returns, lines: Lines) -> ReturnLines:
    """Each returned order refunds every line: in full, each line's amount and quantity; a
    partial refund (half the order) is split over the lines like the order value was, and
    returns half of each line's quantity (at least 1)."""
    starts = np.searchsorted(lines.order, returns.index)
    counts = np.searchsorted(lines.order, returns.index, side="right") - starts
    which = np.repeat(np.arange(len(returns.index)), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    rows = np.repeat(starts, counts) + np.arange(counts.sum()) - first
    line_cents = np.round(lines.amount[rows] * 100).astype(np.int64)
    refund_cents = np.round(-returns.amount * 100).astype(np.int64)
    full = (refund_cents == np.bincount(which, weights=line_cents, minlength=len(counts)).astype(np.int64))[which]
    partial = split_cents(-returns.amount, which, lines.amount[rows])
    refund = np.where(full, lines.amount[rows], partial)
    quantity = np.where(full, lines.quantity[rows], np.maximum(lines.quantity[rows] // 2, 1))
    return ReturnLines(lines.order[rows], lines.line[rows], lines.product[rows], returns.day[which],
                       -refund, -quantity)
