"""Own-price elasticity per category (and product), the revenue-maximising price change inside
the observed range, price bands, and price-point sensitivity by segment (`report pricing`).

The panel is one row per product and period (week or month): units (sum of quantity) and the
average price paid (revenue / units). Per category, units are fitted on log(price) with product
and period fixed effects (core.pricing.fixed_effects); the slope is the elasticity, identified by
each product's price moving against the category's other products in the same period.

The default estimator is Poisson pseudo-maximum likelihood (PPML, Santos Silva & Tenreyro 2006):
log E[units] = e log(price) + product + period. It keeps periods in which a product sold nothing
(between its first and last sale), which a log-log regression must drop, and it does not take logs
of small counts; both pull the log-log slope towards zero when products sell a few units a week
(on the sample, weekly log-log misses the planted elasticities, PPML recovers them). A period with
no sale has no price paid: the product's last price paid is carried forward (the shelf price as
far as the data know). `estimator="loglog"` keeps the OLS of log(units) on log(price).

Rules: lines with a zero or negative quantity or amount (returns, corrections) are left
out and counted; promotion lines (promo_id) are left out by default, since their price moves
with promotion demand; products sold in fewer than `min_periods` periods are left out.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from core.errors import AnalysisError, InputError
from core.evaluate.inputs import UNNAMED, names, on_or_before, require, require_columns, require_rows
from core.pricing.fixed_effects import demean, demeaned_slope, poisson_slope, weighted_demean
from core.result import Chart, Result

ANALYSIS = "pricing report"
MIN_PRICE_SPREAD = 1e-6  # sd of log price left after both fixed effects: below it, nothing to learn
PRODUCT_SPREAD = 0.05  # a product's own remaining log-price sd needed for its own elasticity
DISPERSION_WARNING = 0.10  # median sd of log unit price within a product-period
SPARSE_UNITS = 10  # median units per product-period below which log counts are coarse
RANGE_QUANTILES = (0.05, 0.95)
PERIODS = {"week": "1w", "month": "1mo"}
ESTIMATORS = ("ppml", "loglog")
EVERY_LINE = ("quantity", "product_id")  # each line's: a price is revenue over units per product


def pricing(
    transactions: pl.LazyFrame | None,
    customers: pl.LazyFrame | None = None,
    *,
    period: str = "week",
    min_periods: int = 8,
    by: str | None = None,
    errors: str = "cluster",
    estimator: str = "ppml",
    include_promotions: bool = False,
    since: dt.date | None = None,
    as_of: dt.date | None = None,
    confidence: float = 0.95,
    workspace: str = UNNAMED,
) -> Result:
    require(transactions, "transactions", ANALYSIS, workspace)
    require_columns(transactions, "transactions", ("product_id", "quantity"), ANALYSIS,
                    "add the product of each line as 'product_id' and its units as 'quantity'")
    if period not in PERIODS:
        raise AnalysisError(f"{ANALYSIS}: --period must be week or month, got {period!r}. Fix: pass --period week")
    if errors not in ("cluster", "hc1"):
        raise AnalysisError(f"{ANALYSIS}: --errors must be cluster or hc1, got {errors!r}. Fix: pass --errors cluster")
    if estimator not in ESTIMATORS:
        raise AnalysisError(f"{ANALYSIS}: --estimator must be ppml or loglog, got {estimator!r}. "
                            "Fix: pass --estimator ppml")
    if by and by not in names(customers):
        raise AnalysisError(f"{ANALYSIS}: --by {by!r} is not a column of the customers table "
                            f"({', '.join(names(customers)) or 'no customers table'}). "
                            "Fix: pick one such as tier or region, or leave --by empty")
    cols = names(transactions)
    tx = transactions.filter(on_or_before(pl.col("order_date"), as_of))
    if since is not None:
        tx = tx.filter(pl.col("order_date") >= pl.lit(since, dtype=pl.Date))
    category = pl.col("category").fill_null("(none)") if "category" in cols else pl.lit("(all)")
    promo = (pl.col("promo_id").is_not_null() if "promo_id" in cols and not include_promotions else pl.lit(False))
    bad = (pl.col("quantity").is_null() | (pl.col("quantity") <= 0) | pl.col("amount").is_null()
           | (pl.col("amount") <= 0) | pl.col("product_id").is_null())
    tx = tx.with_columns(category.alias("category"), bad.alias("_bad"), promo.alias("_promo"))
    counts = tx.select(pl.len().alias("lines"), pl.col("_bad").sum().alias("bad"),
                       (pl.col("_promo") & ~pl.col("_bad")).sum().alias("promo"),
                       *(pl.col(c).is_not_null().sum().alias(c) for c in EVERY_LINE))
    lines = (tx.filter(~pl.col("_bad") & ~pl.col("_promo"))
             .with_columns(pl.col("order_date").dt.truncate(PERIODS[period]).alias("period"),
                           (pl.col("amount") / pl.col("quantity")).log().alias("_log_unit")))
    panel = (lines.group_by("category", "product_id", "period")
             .agg(pl.col("quantity").sum().alias("units"), pl.col("amount").sum().alias("revenue"),
                  pl.col("_log_unit").std().alias("_spread"))
             .sort("category", "product_id", "period"))
    frames = [counts, panel]
    if customers is not None:
        key = pl.col(by).cast(pl.String).fill_null("(missing)") if by else pl.lit("all customers")
        people = customers.select("customer_id", key.alias("segment")).unique("customer_id", keep="first")
        frames.append(lines.join(people, on="customer_id", how="left")
                      .group_by("segment", "product_id", "period")
                      .agg(pl.col("quantity").sum().alias("units"), pl.col("amount").sum().alias("revenue")))
    else:
        frames.append(lines.group_by("product_id", "period").agg(
            pl.lit("all customers").alias("segment"), pl.col("quantity").sum().alias("units"),
            pl.col("amount").sum().alias("revenue")))
    counts, panel, by_segment = pl.collect_all(frames)
    n_lines, n_bad, n_promo, *filled = counts.row(0)
    for column, n in zip(EVERY_LINE, filled):
        if n_lines and not n:  # an export's empty column: not "too little data"
            raise InputError(f"{ANALYSIS}: no transaction line{f' on or before {as_of}' if as_of else ''} has a "
                             f"{column} (the column is empty)", file="transactions", column=column,
                             fix=f"fill in the {column} of each line")
    require_rows(panel.height, 2, "product-periods with positive units and amounts", ANALYSIS)

    panel = panel.with_columns((pl.col("revenue") / pl.col("units")).alias("price"))
    notes = [f"Elasticity per category: {_estimator_text(estimator, period)}, with product and {period} fixed "
             f"effects, {_errors_text(errors)}. It is identified only by "
             "price changes not driven by demand (planned markdowns, cost changes, tests): prices raised "
             "because demand was high bias it towards zero or above.",
             "The revenue-maximising change stays inside the price range observed for the category's "
             f"products ({RANGE_QUANTILES[0]:.0%}-{RANGE_QUANTILES[1]:.0%} of prices against each product's "
             "median); with a constant elasticity the best change is at an edge of that range, never beyond."]
    if n_bad:
        notes.append(f"{n_bad} of {n_lines} lines with a zero or negative quantity or amount (returns, "
                     "corrections) or no product were left out.")
    if n_promo:
        notes.append(f"{n_promo} promotion lines (promo_id) were left out: promotion prices move with promotion "
                     "demand. Pass --include-promotions to keep them.")

    rows, product_rows, zeros = [], [], 0
    for cat, frame in panel.partition_by("category", as_dict=True, maintain_order=True).items():
        row, products, added = _category(cat[0], frame, min_periods, errors, estimator, confidence)
        rows.append(row)
        product_rows += products
        zeros += added
    if zeros:
        notes.append(f"{zeros} product-{period}s with no sale between a product's first and last sale were kept "
                     "with zero units, at the product's last price paid (carried forward).")
    categories = pl.DataFrame(rows, schema=_CATEGORY_SCHEMA, orient="row")
    products = pl.DataFrame(product_rows, schema=_PRODUCT_SCHEMA, orient="row")
    mixed = categories.filter(pl.col("price_dispersion") > DISPERSION_WARNING)
    if mixed.height:
        notes.append(f"In {', '.join(mixed['category'].to_list())}, unit prices of the same product in the same "
                     f"{period} differ a lot (price_dispersion: median sd of log unit price above "
                     f"{DISPERSION_WARNING}): the average price mixes price points, order-level discounts or unit "
                     "errors, and the elasticity there is unreliable.")
    sparse = categories.filter(pl.col("median_units") < SPARSE_UNITS)
    if sparse.height and estimator == "loglog":
        notes.append(f"In {', '.join(sparse['category'].to_list())}, a product sells fewer than {SPARSE_UNITS} units "
                     f"in a typical {period}: logs of such small counts pull the elasticity towards zero. "
                     + ("Try --estimator ppml, --period month or a higher --min-periods." if period == "week"
                        else "Try a higher --min-periods (products with more sales)."))
    lost = categories.filter(pl.col("elasticity").is_null())
    if lost.height:
        notes.append(f"Elasticity not identified for {lost.height} categor{'y' if lost.height == 1 else 'ies'} "
                     f"({', '.join(lost['category'].to_list())}): see the reason column; no number is given.")
    bands = price_bands(panel)
    segments = segment_sensitivity(by_segment, panel)
    best = categories.filter(pl.col("elasticity").is_not_null()).sort("elasticity")
    headline = {
        "estimator": "PPML" if estimator == "ppml" else "log-log OLS",
        "categories_read": categories.height,
        "identified": categories.height - lost.height,
        "products_with_elasticity": products.height,
        "most_elastic_category": best["category"][0] if best.height else None,
        "lines_left_out": n_bad,
        "promotion_lines_left_out": n_promo,
    }
    return Result(
        name="report.pricing",
        title="Price elasticity, price bands and price-point sensitivity",
        tables={"categories": categories, "products": products, "bands": bands, "segments": segments},
        headline=headline,
        charts=pricing_charts(confidence),
        params={"period": period, "min_periods": min_periods, "by": by, "errors": errors, "estimator": estimator,
                "include_promotions": include_promotions, "since": since, "as_of": as_of,
                "confidence": confidence},
        notes=tuple(notes),
        kinds={"best_price_change": "percent", "revenue_change": "percent", "price_range_low": "percent",
               "price_range_high": "percent", "relative_price_paid": "percent", "elasticity": "number",
               "elasticity_ci_low": "number", "elasticity_ci_high": "number", "se": "number", "price_dispersion": "number"},
    )


_CATEGORY_SCHEMA = {"category": pl.String, "products": pl.Int64, "observations": pl.Int64,
                    "median_units": pl.Float64,
                    "elasticity": pl.Float64, "se": pl.Float64, "elasticity_ci_low": pl.Float64,
                    "elasticity_ci_high": pl.Float64, "price_range_low": pl.Float64,
                    "price_range_high": pl.Float64, "best_price_change": pl.Float64,
                    "revenue_change": pl.Float64, "price_dispersion": pl.Float64, "reason": pl.String}
_PRODUCT_SCHEMA = {"category": pl.String, "product_id": pl.String, "periods": pl.Int64,
                   "elasticity": pl.Float64, "se": pl.Float64, "elasticity_ci_low": pl.Float64,
                   "elasticity_ci_high": pl.Float64}


def _errors_text(errors: str) -> str:
    return ("standard errors clustered by product" if errors == "cluster"
            else "heteroscedasticity-robust (HC1) standard errors")


def _estimator_text(estimator: str, period: str) -> str:
    if estimator == "ppml":
        return (f"Poisson pseudo-maximum likelihood (PPML) of units on log(average price paid) per product and "
                f"{period}, zero-unit {period}s kept")
    return (f"OLS of log(units) on log(average price paid) per product and {period} "
            f"(log-log; zero-unit {period}s dropped)")


def with_zero_periods(frame: pl.DataFrame) -> pl.DataFrame:
    """The category's panel with every product's periods between its first and last sale: a period
    with no sale gets zero units and the product's last price paid (carried forward)."""
    periods = frame.select(pl.col("period").unique().sort())
    span = frame.group_by("product_id").agg(pl.col("period").min().alias("_first"),
                                            pl.col("period").max().alias("_last"))
    grid = (span.join(periods, how="cross").filter(pl.col("period").is_between(pl.col("_first"), pl.col("_last")))
            .select("product_id", "period"))
    return (grid.join(frame, on=["product_id", "period"], how="left").sort("product_id", "period")
            .with_columns(pl.col("units").fill_null(0.0), pl.col("revenue").fill_null(0.0),
                          pl.col("price").forward_fill().over("product_id")))


def _t(confidence: float, df: int) -> float:
    from scipy.stats import t

    return float(t.ppf(0.5 + confidence / 2, df))


def _category(name: str, frame: pl.DataFrame, min_periods: int, errors: str, estimator: str,
              confidence: float) -> tuple[tuple, list[tuple], int]:
    """One category's row (elasticity or the reason there is none), its products' rows, and the
    zero-unit periods added (PPML)."""
    sold = frame.group_by("product_id").len().filter(pl.col("len") >= min_periods)
    frame = frame.join(sold.select("product_id"), on="product_id", how="semi")
    relative = frame.select(pl.col("price") / pl.col("price").median().over("product_id") - 1.0).to_series()
    low, high = ((float(relative.quantile(q)) for q in RANGE_QUANTILES) if frame.height else (None, None))
    dispersion = frame["_spread"].drop_nulls().drop_nans().median()
    typical = frame["units"].median()
    empty = (name, sold.height, frame.height, typical, None, None, None, None, low, high, None, None, dispersion)
    if sold.height < 2:
        return (*empty, f"fewer than 2 products sold in {min_periods}+ periods"), [], 0
    sold_periods = frame.height
    if estimator == "ppml":
        frame = with_zero_periods(frame)
    product = frame["product_id"].rank("dense").cast(pl.Int64).to_numpy() - 1
    period = frame["period"].rank("dense").cast(pl.Int64).to_numpy() - 1
    units, x = frame["units"].to_numpy(), np.log(frame["price"].to_numpy())
    y = np.log(units) if estimator == "loglog" else units
    both = demean(np.column_stack((y, x)), product, period)
    if float(np.std(both[:, 1])) < MIN_PRICE_SPREAD:
        return (*empty, "elasticity not identified: prices did not move against the products' and periods' "
                "own levels (constant price)"), [], 0
    if errors == "cluster" and sold.height < 3:
        errors = "hc1"
    if estimator == "ppml":
        slope, mu = poisson_slope(units, x, product, period, errors)
        weights = mu
        both = weighted_demean(np.column_stack((np.log(mu) + (units - mu) / mu, x)), mu, product, period)
    else:
        weights = np.ones(len(y))
        slope, _, _ = demeaned_slope(both[:, 0], both[:, 1], product, period, errors)
    if slope.n <= slope.params:
        return (*empty, "elasticity not identified: as many fixed effects as observations"), [], 0
    if not (np.isfinite(slope.estimate) and np.isfinite(slope.se)):
        return (*empty, "no estimate: the Poisson fit did not converge (try --estimator loglog)"), [], 0
    half = _t(confidence, slope.df) * slope.se
    best, change = _best_change(slope.estimate, slope.estimate - half, slope.estimate + half, low, high)
    row = (name, sold.height, slope.n, typical, slope.estimate, slope.se, slope.estimate - half, slope.estimate + half,
           low, high, best, change, dispersion, None if best is not None else
           "an interval on both sides of -1: cannot tell whether a cut or a rise earns more")
    products = _product_slopes(name, frame["product_id"], product, both[:, 1], both[:, 0], weights, confidence)
    return row, products, frame.height - sold_periods


def _product_slopes(category: str, ids: pl.Series, product: np.ndarray, xt: np.ndarray, yt: np.ndarray,
                    w: np.ndarray, confidence: float) -> list[tuple]:
    """Each product's own slope on the category's demeaned panel (x~, y~ of its periods), HC1 errors
    with n - 1 degrees of freedom; only products with 3+ periods whose own price spread is at least
    PRODUCT_SPREAD. Log-log: OLS (w = 1) on log units. PPML: weighted least squares with the
    converged fit's weights mu on its working response (one IRLS step from the category's fit),
    both weighted-demeaned. Vectorised over products with bincount."""
    from scipy.stats import t

    k = int(product.max()) + 1
    n = np.bincount(product, minlength=k)
    sxx = np.bincount(product, weights=w * xt * xt, minlength=k)
    spread = np.sqrt(np.bincount(product, weights=xt * xt, minlength=k) / np.maximum(n, 1))
    keep = (n >= 3) & (spread >= PRODUCT_SPREAD)
    beta = np.bincount(product, weights=w * xt * yt, minlength=k) / np.where(keep, sxx, 1.0)
    e = yt - beta[product] * xt
    meat = np.bincount(product, weights=(w * xt * e) ** 2, minlength=k)
    se = np.sqrt(n / np.maximum(n - 1, 1) * meat / np.where(keep, sxx, 1.0) ** 2)
    half = t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)) * se
    first = np.unique(product, return_index=True)[1]
    names = ids.gather(first).to_list()
    return [(category, names[p], int(n[p]), float(beta[p]), float(se[p]), float(beta[p] - half[p]),
             float(beta[p] + half[p])) for p in np.flatnonzero(keep)]


def _best_change(estimate: float, low: float, high: float, range_low: float | None,
                 range_high: float | None) -> tuple[float | None, float | None]:
    """Revenue ~ price^(1 + e): with e < -1 throughout its interval a cut to the range's low edge
    earns most, with e > -1 throughout a rise to its high edge; otherwise no answer."""
    if range_low is None or range_high is None:
        return None, None
    if high < -1:
        change = range_low
    elif low > -1:
        change = range_high
    else:
        return None, None
    return change, (1 + change) ** (1 + estimate) - 1


def price_bands(panel: pl.DataFrame) -> pl.DataFrame:
    """Per category, products in four bands by their median price: price range, products, units, revenue."""
    prices = panel.group_by("category", "product_id").agg(pl.col("price").median(), pl.col("units").sum(),
                                                          pl.col("revenue").sum())
    band = (pl.col("price").rank("ordinal").over("category") * 4 / pl.len().over("category")).ceil().cast(pl.Int64)
    return (prices.with_columns(band.clip(1, 4).alias("band"))
            .group_by("category", "band")
            .agg(pl.col("price").min().round(2).alias("price_low"), pl.col("price").max().round(2).alias("price_high"),
                 pl.len().alias("products"), pl.col("units").sum(), pl.col("revenue").sum().round(2))
            .with_columns((pl.col("revenue") / pl.col("revenue").sum().over("category")).alias("revenue_share"))
            .sort("category", "band"))


def segment_sensitivity(by_segment: pl.DataFrame, panel: pl.DataFrame) -> pl.DataFrame:
    """Per segment: units, revenue, price paid against each product's median price, and the share
    of units bought in periods when the product was at least 5% below its median (on markdown)."""
    typical = panel.group_by("product_id").agg(pl.col("price").median().alias("_typical"))
    level = panel.select("product_id", "period", "price")
    return (by_segment.join(typical, on="product_id").join(level, on=["product_id", "period"])
            .group_by("segment")
            .agg(pl.col("units").sum(), pl.col("revenue").sum().round(2),
                 (pl.col("revenue").sum() / (pl.col("units") * pl.col("_typical")).sum() - 1)
                 .alias("relative_price_paid"),
                 (pl.col("units").filter(pl.col("price") <= 0.95 * pl.col("_typical")).sum()
                  / pl.col("units").sum()).alias("markdown_units_share"))
            .sort("segment"))


def pricing_charts(confidence: float) -> tuple[Chart, ...]:
    """Elasticity per category with its confidence interval as whiskers; revenue by price band."""
    return (Chart("bar", f"Own-price elasticity by category, with its {confidence:.0%} interval", "categories", "category",
                  ("elasticity",), intervals=(("elasticity", "elasticity_ci_low", "elasticity_ci_high"),)),
            Chart("bar", "Revenue by price band", "bands", "band", ("revenue",), "category"))
