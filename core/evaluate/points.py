"""Points report: the ledger's outstanding balance and liability, earn, burn and breakage,
redemption, time to first redemption, balances, by tier, segment and month; and redeemers
against comparable customers who had not redeemed, for spend after the first redemption.

Definitions (core.ledger gives each row its sign by kind):
- issued: points earned plus positive adjustments (bonuses); redeemed, expired: points taken
  by those kinds; a negative adjustment is `adjusted_out`.
- balance: a customer's signed points up to the as-of date. Outstanding: the sum of positive
  balances (a negative balance is a data fault, counted in the notes, never an asset);
  liability: outstanding x --point-value.
- burn rate: redeemed / issued; breakage rate: expired / issued; share of points that left by
  expiry: expired / (expired + redeemed), which is what liability_after_breakage assumes
  the outstanding points will do.
- redemption rate: customers issued points who redeemed / customers issued points.
- time to first redemption: days from a customer's first issued points to the first
  redemption, Kaplan-Meier, customers who have not redeemed censored at the as-of date.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from core import ledger
from core.errors import AnalysisError
from core.evaluate import stats
from core.evaluate.inputs import UNNAMED, names, on_or_before, require, require_rows
from core.evaluate.matching import PRE_DAYS, behaviour, nearest_match
from core.result import Chart, Result

ANALYSIS = "points report"
BANDS = (0.0, 1.0, 100.0, 500.0, 1000.0, 5000.0)  # balance bands: [0, 1), [1, 100), ...
HORIZONS = (30, 90, 180, 365)  # days after the first issued points: share redeemed by then
MIN_MATCHED = 20
KINDS = {"liability": "money", "liability_after_breakage": "money", "*/liability": "money",
         "point_value": "money"}


def points(
    points: pl.LazyFrame | None,
    transactions: pl.LazyFrame | None = None,
    customers: pl.LazyFrame | None = None,
    *,
    point_value: float = 0.01,
    by: str | None = None,
    post_days: int = 90,
    pre_days: int = PRE_DAYS,
    max_controls: int = 5000,
    as_of: dt.date | None = None,
    confidence: float = 0.95,
    workspace: str = UNNAMED,
) -> Result:
    """Balances, liability and rates of the points ledger; redeemers against matched non-redeemers."""
    require(points, "points", ANALYSIS, workspace)
    if point_value <= 0:
        raise AnalysisError(f"{ANALYSIS}: --point-value must be positive, got {point_value}. "
                            "Fix: give what one point is worth in money, e.g. --point-value 0.01")
    by_column = _by_column(by, customers, transactions)
    as_of = as_of or _last_day(points, transactions)
    rows = signed_rows(points, as_of)
    cols = names(points)
    people_q = per_customer(rows, "tier" in cols)
    queries = {"people": people_q, "month": by_month(rows), "unknown": points.select(
        (ledger.kind_of().is_null() & pl.col("kind").is_not_null()).sum().alias("n"))}
    linked = transactions is not None and "order_id" in cols and "order_id" in names(transactions)
    if linked:
        queries["earn"] = earn_per_spend(rows, transactions, "tier" in cols)
    if by_column is not None:
        queries["by"] = by_column
    frames = dict(zip(queries, pl.collect_all(list(queries.values()))))
    people = frames["people"]
    require_rows(people.height, 1, f"customers with points on or before {as_of}", ANALYSIS)
    if by_column is not None:  # --by tier: the customers table's tier, beside the ledger's own
        by_frame = frames["by"]
        if by in people.columns:
            by = f"customers_{by}"
            by_frame = by_frame.rename({by.removeprefix("customers_"): by})
        people = people.join(by_frame, on="customer_id", how="left")
    totals = summary(people, point_value)
    km = first_redemption(people, as_of)
    tables = {"by_month": month_table(frames["month"], point_value), "balances": balance_bands(people)}
    earn = frames.get("earn")
    if "tier" in people.columns:
        tables["by_tier"] = group_table(people, "tier", point_value, earn)
    if by:
        tables[f"by_{by}"] = group_table(people, by, point_value, None)
    tables["first_redemption"] = km
    notes = [
        "Signs by kind: earn adds, redeem and expire take away (whatever sign the file gives them), "
        "adjust keeps its own sign. Issued = earned + positive adjustments.",
        f"Liability: positive balances on {as_of} x point value {point_value:g}. After breakage: times the "
        "share of points that left by redemption so far, i.e. assuming outstanding points leave as past ones did.",
        "Time to first redemption: Kaplan-Meier from each customer's first issued points, customers who have not "
        f"redeemed censored on {as_of}.",
    ]
    headline = {**totals, "point_value": point_value,
                "median_days_to_first_redemption": _median(km)}
    if earn is not None and earn.height:
        spent = float(earn["spent"].sum())
        headline["points_per_unit_spent"] = float(earn["earned"].sum()) / spent if spent > 0 else None
        notes.append("Points per unit spent: points earned on orders found in transactions (by order_id) over "
                     "those orders' value.")
    negative = int((people["balance"] < 0).sum())
    if negative:
        notes.append(f"{negative} customer(s) have a negative balance (redemptions beyond their earnings): left "
                     "out of the outstanding balance. `loyalist data validate` lists the rows.")
    unknown = int(frames["unknown"]["n"][0])
    if unknown:
        notes.append(f"{unknown} points row(s) have a kind that is not earn, redeem, expire or adjust: left out.")
    if transactions is not None:
        compared, balance, note = redeemers_vs_others(people, transactions, as_of, post_days, pre_days,
                                                      max_controls, confidence)
        notes.append(note)
        if compared is not None:
            tables["redeemers_vs_non_redeemers"] = compared
            tables["matching_balance"] = balance
            spend = compared.row(0, named=True)
            headline["spend_lift_after_redemption"] = spend["matched_lift"]
            headline["spend_lift_after_redemption_ci"] = (spend["matched_lift_ci_low"], spend["matched_lift_ci_high"])
    else:
        notes.append("No transactions table: no points per unit spent and no comparison of redeemers.")
    tables["customers"] = people
    return Result(
        name="report.points",
        title=f"Points ledger on {as_of}: balance, liability and redemption",
        tables=tables,
        headline=headline,
        charts=(Chart("line", "Outstanding balance by month", "by_month", "month", ("closing_balance",)),
                Chart("bar", "Customers by balance", "balances", "band", ("customers",))),
        params={"point_value": point_value, "by": by, "post_days": post_days, "pre_days": pre_days,
                "as_of": as_of, "confidence": confidence},
        notes=tuple(notes),
        kinds=KINDS,
    )


def _last_day(points: pl.LazyFrame, transactions: pl.LazyFrame | None) -> dt.date:
    """The default as-of date: the last transaction's, else the ledger's last day."""
    if transactions is not None:
        from core.features import default_as_of

        return default_as_of(transactions)
    day = points.select(pl.col("date").max()).collect().item()
    if day is None:
        raise AnalysisError(f"{ANALYSIS}: the points table has no dated rows. Fix: fill in the date column")
    return day


def _by_column(by: str | None, customers: pl.LazyFrame | None,
               transactions: pl.LazyFrame | None) -> pl.LazyFrame | None:
    """customer_id and the --by column: a customers column, or 'segment' (RFM segments)."""
    if not by:
        return None
    if by in names(customers):
        return customers.select("customer_id", by).unique("customer_id", keep="first")
    if by == "segment" and transactions is not None:
        return rfm_segment_frame(transactions).lazy()
    raise AnalysisError(f"{ANALYSIS}: --by {by!r} is not a column of the customers table "
                        f"({'no customers table' if customers is None else ', '.join(names(customers))}). "
                        "Fix: pick a customers column such as region, or 'segment' for RFM segments "
                        "(needs transactions), or leave --by empty")


def rfm_segment_frame(transactions: pl.LazyFrame, as_of: dt.date | None = None) -> pl.DataFrame:
    """customer_id and segment: the RFM segment (segment rfm's default map) as of the date."""
    from core.features import customer_features
    from core.segments.rfm import rfm_segments

    features = customer_features(transactions, as_of=as_of).collect()
    return rfm_segments(features, as_of=as_of).tables["customers"].select("customer_id", "segment")


def signed_rows(points: pl.LazyFrame, as_of: dt.date) -> pl.LazyFrame:
    """Rows on or before the as-of date with their canonical kind and signed points."""
    kind = ledger.kind_of()
    return (points.filter(on_or_before(pl.col("date"), as_of))
            .with_columns(kind.alias("_kind"))
            .filter(pl.col("_kind").is_not_null(), pl.col("points").is_not_null())
            .with_columns(ledger.signed_points(pl.col("_kind")).alias("_signed")))


def _flows() -> list[pl.Expr]:
    kind, signed = pl.col("_kind"), pl.col("_signed")
    issued = (kind == ledger.EARN) | ((kind == ledger.ADJUST) & (signed > 0))
    return [
        signed.filter(issued).sum().alias("issued"),
        (-signed).filter(kind == ledger.REDEEM).sum().alias("redeemed"),
        (-signed).filter(kind == ledger.EXPIRE).sum().alias("expired"),
        (-signed).filter((kind == ledger.ADJUST) & (signed < 0)).sum().alias("adjusted_out"),
    ]


def per_customer(rows: pl.LazyFrame, has_tier: bool) -> pl.LazyFrame:
    kind, signed = pl.col("_kind"), pl.col("_signed")
    return rows.sort("date").group_by("customer_id").agg(
        *_flows(),
        signed.sum().alias("balance"),
        pl.col("date").filter(signed > 0).min().alias("first_issued"),
        pl.col("date").filter(kind == ledger.REDEEM).min().alias("first_redemption"),
        (kind == ledger.REDEEM).sum().alias("redemptions"),
        *([pl.col("tier").drop_nulls().last().alias("tier")] if has_tier else []),
    ).sort("customer_id")


def by_month(rows: pl.LazyFrame) -> pl.LazyFrame:
    kind = pl.col("_kind")
    return (rows.with_columns(pl.col("date").dt.truncate("1mo").alias("month"))
            .group_by("month").agg(
                *_flows(), pl.col("_signed").sum().alias("net"),
                pl.col("customer_id").filter(kind == ledger.EARN).n_unique().alias("earners"),
                pl.col("customer_id").filter(kind == ledger.REDEEM).n_unique().alias("redeemers"))
            .sort("month"))


def earn_per_spend(rows: pl.LazyFrame, transactions: pl.LazyFrame, has_tier: bool) -> pl.LazyFrame:
    """Earned points and the value of the orders they were earned on, per tier."""
    orders = (transactions.filter(pl.col("amount") > 0, pl.col("order_id").is_not_null())
              .group_by("order_id").agg(pl.col("amount").sum().alias("spent")))
    keys = ["tier"] if has_tier else []
    earned = (rows.filter(pl.col("_kind") == ledger.EARN, pl.col("order_id").is_not_null())
              .group_by("order_id", *keys).agg(pl.col("_signed").sum().alias("earned")))
    return (earned.join(orders, on="order_id", how="inner")
            .group_by(keys or pl.lit(True).alias("_all")).agg(pl.col("earned").sum(), pl.col("spent").sum()))


def _rates(issued: pl.Expr, redeemed: pl.Expr, expired: pl.Expr) -> list[pl.Expr]:
    return [pl.when(issued > 0).then(redeemed / issued).alias("burn_rate"),
            pl.when(issued > 0).then(expired / issued).alias("breakage_rate")]


def summary(people: pl.DataFrame, point_value: float) -> dict[str, object]:
    issued, redeemed, expired = (float(people[c].sum()) for c in ("issued", "redeemed", "expired"))
    outstanding = float(people["balance"].clip(lower_bound=0).sum())
    left = expired + redeemed
    issued_to = int((people["issued"] > 0).sum())
    redeemers = int((people["redemptions"] > 0).sum())
    issued_redeemers = int(((people["redemptions"] > 0) & (people["issued"] > 0)).sum())
    liability = outstanding * point_value
    return {
        "customer_count": people.height,
        "points_issued": issued, "points_redeemed": redeemed, "points_expired": expired,
        "points_adjusted_out": float(people["adjusted_out"].sum()),
        "points_outstanding": outstanding,
        "liability": liability,
        "liability_after_breakage": liability * (redeemed / left) if left > 0 else None,
        "burn_rate": redeemed / issued if issued > 0 else None,
        "breakage_rate": expired / issued if issued > 0 else None,
        "used_points_expired_share": expired / left if left > 0 else None,
        "redeemers": redeemers,
        "redemption_rate": issued_redeemers / issued_to if issued_to else None,
    }


def group_table(people: pl.DataFrame, key: str, point_value: float, earn: pl.DataFrame | None) -> pl.DataFrame:
    table = people.group_by(key).agg(
        pl.len().alias("customers"),
        pl.col("issued", "redeemed", "expired").sum(),
        pl.col("balance").clip(lower_bound=0).sum().alias("outstanding"),
        (pl.col("redemptions") > 0).sum().alias("redeemers"),
        (pl.col("issued") > 0).sum().alias("_issued_to"),
        ((pl.col("issued") > 0) & (pl.col("redemptions") > 0)).sum().alias("_issued_redeemers"),
    ).with_columns(
        (pl.col("outstanding") * point_value).alias("liability"),
        *_rates(pl.col("issued"), pl.col("redeemed"), pl.col("expired")),
        pl.when(pl.col("_issued_to") > 0).then(pl.col("_issued_redeemers") / pl.col("_issued_to"))
        .alias("redemption_rate"),
    ).drop("_issued_to", "_issued_redeemers")
    if earn is not None and key in earn.columns:
        table = table.join(earn.select(key, pl.when(pl.col("spent") > 0).then(pl.col("earned") / pl.col("spent"))
                                       .alias("points_per_unit_spent")), on=key, how="left")
    return table.sort(key, nulls_last=True)


def month_table(months: pl.DataFrame, point_value: float) -> pl.DataFrame:
    """Flows per month, the closing balance (all customers' signed points to date) and its liability."""
    return months.with_columns(
        pl.col("net").cum_sum().alias("closing_balance"),
        *_rates(pl.col("issued"), pl.col("redeemed"), pl.col("expired")),
    ).with_columns((pl.col("closing_balance") * point_value).alias("liability"))


def balance_bands(people: pl.DataFrame) -> pl.DataFrame:
    labels = ["negative", *[f"{lo:,.0f} to <{hi:,.0f}" if hi - lo > 1 else f"{lo:,.0f}"
                            for lo, hi in zip(BANDS, BANDS[1:])], f"{BANDS[-1]:,.0f}+"]
    band = pl.lit(labels[-1])
    for bound, label in reversed(list(zip(BANDS, labels[:-1]))):  # "negative" below 0, "0" below 1, ...
        band = pl.when(pl.col("balance") < bound).then(pl.lit(label)).otherwise(band)
    table = (people.group_by(band.alias("band")).agg(pl.len().alias("customers"),
                                                    pl.col("balance").sum().alias("balance"))
             )
    order = pl.DataFrame({"band": labels, "_order": range(len(labels))})
    return (order.join(table, on="band", how="left")
            .with_columns(pl.col("customers").fill_null(0).cast(pl.Int64), pl.col("balance").fill_null(0.0))
            .with_columns((pl.col("customers") / people.height).alias("customer_share"))
            .filter((pl.col("band") != "negative") | (pl.col("customers") > 0))
            .sort("_order").drop("_order"))


def kaplan_meier(durations: np.ndarray, events: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Event times, at risk, events and the survival function just after each (Kaplan & Meier 1958)."""
    times = np.unique(durations[events])
    at_risk = (durations[None, :] >= times[:, None]).sum(axis=1) if times.size else np.array([], int)
    happened = (durations[None, :] == times[:, None]) & events[None, :] if times.size else np.empty((0, 0), bool)
    d = happened.sum(axis=1) if times.size else np.array([], int)
    return times, at_risk, d, np.cumprod(1.0 - d / np.maximum(at_risk, 1))


def first_redemption(people: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Share of customers who have redeemed by each horizon after their first issued points (KM)."""
    ok = people.filter(pl.col("first_issued").is_not_null())
    redeemed = ok["first_redemption"].is_not_null() & (ok["first_redemption"] >= ok["first_issued"])
    ends = pl.select(pl.when(pl.Series(redeemed)).then(ok["first_redemption"]).otherwise(pl.lit(as_of))).to_series()
    durations = (ends - ok["first_issued"]).dt.total_days().to_numpy().astype(float)
    events = redeemed.to_numpy()
    times, at_risk, d, surv = kaplan_meier(durations, events)
    rows = []
    for h in HORIZONS:
        upto = times <= h
        rows.append({"days": h, "redeemed_share": float(1 - surv[upto][-1]) if upto.any() else 0.0,
                     "still_followed": int((durations >= h).sum())})
    median = times[np.argmax(surv <= 0.5)] if (surv <= 0.5).any() else None
    return pl.DataFrame(rows).with_columns(pl.lit(median, pl.Float64).alias("median_days"))


def _median(km: pl.DataFrame) -> float | None:
    return km["median_days"][0] if km.height else None


def redeemers_vs_others(people: pl.DataFrame, transactions: pl.LazyFrame, as_of: dt.date, post_days: int,
                        pre_days: int, max_controls: int,
                        confidence: float) -> tuple[pl.DataFrame | None, pl.DataFrame | None, str]:
    """Spend and purchase days in the post_days after a first redemption, against customers
    with points who had not redeemed by the end of that window, matched on behaviour before
    the same month (core.evaluate.matching, as the program report does)."""
    last = as_of - dt.timedelta(days=post_days - 1)
    first_buy = (transactions.filter(pl.col("amount") > 0, pl.col("order_date") <= as_of)
                 .group_by("customer_id").agg(pl.col("order_date").min().alias("first_purchase")))
    base = people.lazy().select("customer_id", "first_issued", "first_redemption").join(first_buy, on="customer_id")
    treated = (base.filter(pl.col("first_redemption").is_not_null(), pl.col("first_redemption") <= last,
                           pl.col("first_purchase") < pl.col("first_redemption"))
               .select("customer_id", pl.col("first_redemption").alias("anchor"), pl.lit(True).alias("redeemer")))
    months = treated.select(pl.col("anchor").dt.truncate("1mo").alias("month")).unique()
    end = pl.col("anchor") + pl.duration(days=post_days - 1)
    controls = (base.sort(pl.col("customer_id").hash(17), "customer_id").head(max_controls)
                .join(months, how="cross")
                .with_columns((pl.col("month") + pl.duration(days=14)).alias("anchor"))
                .filter(pl.col("first_issued") < pl.col("anchor"), pl.col("first_purchase") < pl.col("anchor"),
                        pl.col("anchor") <= last,
                        pl.col("first_redemption").is_null() | (pl.col("first_redemption") > end))
                .select("customer_id", "anchor", pl.lit(False).alias("redeemer")))
    anchors = pl.concat([treated, controls]).with_columns(end.alias("outcome_end"),
                                                          pl.col("anchor").dt.truncate("1mo").alias("month"))
    rows = behaviour(transactions, anchors, pre_days).collect()
    mine, others = rows.filter(pl.col("redeemer")), rows.filter(~pl.col("redeemer"))
    what = (f"Redeemers vs non-redeemers: spend (net) and purchase days in the {post_days} days from each "
            f"customer's first redemption, against the customer with points who had not redeemed by the end of "
            f"that window, closest in behaviour over the {pre_days} days before the same month (purchase days, "
            "spend, days since the last purchase, tenure, purchases to date). Redeeming is chosen, so this is "
            "an association after matching, not a randomised effect: customers redeem right after buying enough to "
            "earn a reward, which matching on a year of behaviour does not undo. The interval ignores the "
            "matching itself.")
    if mine.height < MIN_MATCHED or others.is_empty():
        return None, None, (f"Redeemers vs non-redeemers: not compared, {mine.height} redeemers with a purchase "
                            f"before their first redemption at least {post_days} days before {as_of} and "
                            f"{others.height} comparison rows (needs {MIN_MATCHED} and 1).")
    z = stats.z_critical(confidence)
    out, balance = [], None
    from scipy import stats as st

    for outcome, label in (("post_revenue", "spend"), ("post_orders", "purchase_days")):
        m = nearest_match(mine, others, outcome, strata="month")
        balance = m.balance
        out.append({
            "outcome": label, "window_days": post_days, "redeemers_mean": m.treated_mean,
            "matched_mean": m.control_mean, "matched_lift": m.effect,
            "matched_lift_ci_low": m.effect - z * m.se, "matched_lift_ci_high": m.effect + z * m.se,
            "matched_relative_lift": m.effect / m.control_mean if m.control_mean else None,
            "p_value": 2 * float(st.norm.sf(abs(m.effect) / m.se)) if m.se > 0 else None,
            "n_redeemers": m.n_treated, "n_controls": m.n_controls,
        })
    return pl.DataFrame(out).fill_nan(None), balance, what
