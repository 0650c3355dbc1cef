"""Loyalty program: members against non-members, raw and after matching on behaviour.

Members differ from non-members before they ever join (the keenest customers sign up),
so the raw difference overstates what the program does. The matched lift compares each
member's spend in the `post_days` after joining with the non-member whose behaviour in
the year before the same month was closest (see core/evaluate/matching.py).

By default the comparison customers are not-yet members: customers who join only after
the window. They share the joiners' self-selection, and, like members at joining, are
known to be still buying; as they are known to be buying until they join, a long window
flatters them, so the default window is a short 60 days. Never-members (comparison=
"non_members") were not selected at all and give a (much) larger, generous estimate.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from scipy import stats as st

from core.errors import AnalysisError, InputError
from core.evaluate import stats
from core.evaluate.compare import MEAN, NPS, SHARE, Metric, compare_groups
from core.evaluate.inputs import UNNAMED, names, require, require_rows
from core.evaluate.matching import PRE_DAYS, behaviour, nearest_match
from core.evaluate.value import DISCOUNT_RATE, RETENTION_DAYS, customer_table, with_clv
from core.features import default_as_of
from core.result import Chart, Result

ANALYSIS = "program report"
COMPARISON = [
    Metric("spend", "monetary", MEAN),
    Metric("purchase_frequency", "frequency", MEAN),
    Metric("aov", "aov", MEAN),
    Metric("customers_retained", "retained", SHARE),
    Metric("active", "active", SHARE),
    Metric("clv", "clv", MEAN),
    Metric("nps", "nps", NPS),
]
MIN_MATCHED = 20
# The customer-table columns the report reads (metrics, CLV's inputs, anchors, tiers).
PEOPLE_COLUMNS = ("customer_id", "member", "member_since", "tier", "first_purchase", "in_base", "retained",
                  "annual_value", *(m.column for m in COMPARISON if m.column != "clv"))
# Comparison pools for the matched lift; the first is the default (see program()).
COMPARISONS = ("future_members", "non_members")
WHO = {
    # Customers who join later share the joiners' self-selection (they were still buying
    # when they joined), so they make the fairer default; never-members overstate the lift.
    "future_members": "customer who joined only after the window (a not-yet member)",
    "non_members": "never-member",
}


def program(
    transactions: pl.LazyFrame | None,
    customers: pl.LazyFrame | None,
    survey: pl.LazyFrame | None = None,
    *,
    as_of: dt.date | None = None,
    program_cost: float | None = None,
    post_days: int = 60,
    pre_days: int = PRE_DAYS,
    comparison: str = "future_members",
    max_controls: int = 5000,
    retention_days: int = RETENTION_DAYS,
    discount_rate: float = DISCOUNT_RATE,
    confidence: float = 0.95,
    workspace: str = UNNAMED,
    orders_adjacent: bool = False,
) -> Result:
    """Members vs non-members; matched lift after joining; ROI when the yearly cost is given.
    `orders_adjacent`: the data checks found the transactions laid out order by order
    (core.order_layout), so the customer table counts orders at their first lines."""
    require(transactions, "transactions", ANALYSIS, workspace)
    require(customers, "customers", ANALYSIS, workspace)
    cols = names(customers)
    if "is_member" not in cols and "member_since" not in cols:
        raise AnalysisError(f"{ANALYSIS} needs 'is_member' or 'member_since' in the customers table. "
                            "Fix: add who is a program member (yes/no) or when they joined")
    if comparison not in COMPARISONS:
        raise InputError(f"unknown comparison group {comparison!r}", fix=f"use one of {', '.join(COMPARISONS)}")
    if post_days < 7:
        raise InputError("the window after joining must be at least 7 days", fix="pass --post-days 180")
    if program_cost is not None and program_cost <= 0:
        raise InputError("the program cost must be positive", fix="pass --cost 50000 (per year)")
    as_of = as_of or default_as_of(transactions)
    membership = members_frame(customers, as_of)
    people_lf = customer_table(transactions, as_of, customers=customers, survey=survey, retention_days=retention_days,
                               orders_adjacent=orders_adjacent).join(membership, on="customer_id", how="left")
    # The customer table is collected first and the anchors built on it: handed the lazy
    # plan, the matching query recomputed every customer's features for their first purchase.
    # Only the columns the report reads: the channel shares and other features are then
    # never aggregated (projection pushdown).
    kept = [c for c in people_lf.collect_schema().names() if c in PEOPLE_COLUMNS]
    people = people_lf.select(kept).with_columns(pl.col("member").fill_null(False)).collect()
    has_since = "member_since" in cols
    rest = [behaviour(transactions, anchors(membership, people.lazy(), as_of, post_days, max_controls),
                      pre_days).collect()] if has_since else []
    if not people["member"].any() and (listed := membership.select(pl.col("member").sum()).collect().item()):
        # members in the customers table, none among the buyers: the two tables' ids do not meet
        raise InputError(f"{ANALYSIS}: none of the {listed:,} program members in the customers table has a "
                         f"purchase on or before {as_of}", file="customers", column="customer_id",
                         fix="check that customers and transactions write the ids alike (prefixes, leading "
                             "zeros); `loyalist data validate` counts the transactions' ids not in customers")
    require_rows(int(people["member"].sum()), 1, "program members", ANALYSIS)
    require_rows(int((~people["member"]).sum()), 1, "non-members", ANALYSIS)
    people = with_clv(people, "member", discount_rate)
    raw = compare_groups(people, "member", ("non_members", "members"), COMPARISON, confidence)
    members = int(people["member"].sum())
    headline = {
        "customers": people.height, "members": members,
        "participation_rate": members / people.height,
    }
    notes = [
        "Members vs non-members: raw differences, which include self-selection (keen customers "
        "join). The matched lift below is the estimate of what the program itself does.",
    ]
    tables = {"members_vs_non_members": raw}
    params_used = None
    if has_since:
        rows = rest[0]
        used = comparison
        if rows.filter(pl.col("pool") == comparison).height == 0:
            used = next(c for c in COMPARISONS if c != comparison)
            notes.append(f"No {comparison.replace('_', ' ')} to compare with: the matched lift uses "
                         f"{used.replace('_', ' ')} instead.")
        lift, balance = matched_lift(rows, used, post_days, confidence)
        params_used = used
        tables["lift"] = lift
        tables["balance"] = balance
        spend = lift.row(0, named=True)
        base = spend["matched_mean"]
        headline |= {
            "matched_members": spend["n_members"],
            "raw_spend_lift_relative": spend["raw_relative_lift"],
            "matched_spend_lift_relative": spend["matched_relative_lift"],
            "matched_spend_lift_relative_ci": (
                (spend["matched_lift_ci_low"] / base, spend["matched_lift_ci_high"] / base)
                if base else None),
        }
        notes.append(
            f"Matched lift: spend (net) and purchase days in the {post_days} days after joining, "
            f"each member against the {WHO[used]} closest in behaviour before the same month "
            f"(purchase days and spend over {pre_days} days, days since the last purchase, tenure, "
            "purchases to date). Members who joined at their first purchase have no history to "
            "match on and are left out. The interval ignores the uncertainty of the matching itself."
        )
        if program_cost is not None:
            yearly = spend["matched_lift"] * 365 / post_days * members
            headline |= {"program_cost": program_cost, "incremental_revenue_per_year": yearly,
                         "roi": (yearly - program_cost) / program_cost}
            notes.append("ROI: (matched lift per member x members, per year - yearly cost) / cost; "
                         "on revenue, not margin.")
    else:
        notes.append("No member_since column: the matched lift after joining cannot be estimated.")
    if "tier" in people.columns and people["tier"].drop_nulls().len():
        tables["tiers"] = (
            people.filter(pl.col("member")).group_by("tier")
            .agg(pl.len().alias("members"), pl.col("monetary").mean().alias("spend"),
                 pl.col("frequency").mean().alias("purchase_frequency"),
                 pl.col("active").mean().alias("active"))
            .sort("spend", descending=True)
        )
    return Result(
        name="report.program",
        title="Loyalty program: members against non-members",
        tables=tables,
        headline=headline,
        charts=(Chart("bar", "Members vs non-members", "members_vs_non_members", "metric",
                      ("non_members", "members")),),
        params={"as_of": as_of, "program_cost": program_cost, "post_days": post_days,
                "comparison": params_used,
                "pre_days": pre_days, "retention_days": retention_days,
                "discount_rate": discount_rate, "confidence": confidence},
        notes=tuple(notes),
    )


def members_frame(customers: pl.LazyFrame, as_of: dt.date) -> pl.LazyFrame:
    """customer_id, member (on as_of), member_since (null for non-members) and tier if given."""
    cols = names(customers)
    since = pl.col("member_since") if "member_since" in cols else pl.lit(None, pl.Date)
    flag = pl.col("is_member").fill_null(False) if "is_member" in cols else since.is_not_null()
    joined = since.is_null() | (since <= as_of)
    return customers.select(
        "customer_id",
        (flag & joined).alias("member"),
        pl.when(flag & joined).then(since).alias("member_since"),
        *(["tier"] if "tier" in cols else []),
    ).unique("customer_id")


def anchors(membership: pl.LazyFrame, people: pl.LazyFrame, as_of: dt.date, post_days: int,
            max_controls: int) -> pl.LazyFrame:
    """Members at their join date, and fixed samples of comparison customers at mid-month of
    each join month; each with the end of its outcome window and, for comparison customers,
    their pool: "future_members" join after the window, "non_members" never join."""
    last_join = as_of - dt.timedelta(days=post_days - 1)
    first_buy = people.select("customer_id", "first_purchase")
    treated = (
        membership.filter(pl.col("member"), pl.col("member_since") <= last_join)
        .join(first_buy, on="customer_id")
        .filter(pl.col("first_purchase") < pl.col("member_since"))  # needs a history before joining
        .select("customer_id", pl.col("member_since").alias("anchor"), pl.lit(True).alias("member"),
                pl.lit(None, pl.String).alias("pool"))
    )
    months = treated.select(pl.col("anchor").dt.truncate("1mo").alias("month")).unique()
    end = pl.col("anchor") + pl.duration(days=post_days - 1)
    controls = [
        membership.filter(pl.col("member") if pool == "future_members" else ~pl.col("member"))
        .join(first_buy, on="customer_id")
        # A fixed, order-free sample: the smallest hashes of the customer ids.
        .sort(pl.col("customer_id").hash(17), "customer_id").head(max_controls)
        .join(months, how="cross")
        .with_columns((pl.col("month") + pl.duration(days=14)).alias("anchor"))
        .filter(pl.col("first_purchase") < pl.col("anchor"), pl.col("anchor") <= last_join,
                pl.col("member_since").is_null() | (pl.col("member_since") > end))
        .select("customer_id", "anchor", pl.lit(False).alias("member"), pl.lit(pool).alias("pool"))
        for pool in COMPARISONS
    ]
    return pl.concat([treated, *controls]).with_columns(
        end.alias("outcome_end"), pl.col("anchor").dt.truncate("1mo").alias("month"),
    )


def matched_lift(rows: pl.DataFrame, pool: str, post_days: int,
                 confidence: float) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Spend and purchase days after joining: members against never-members (raw) and
    against their matched comparison customers from `pool`."""
    treated = rows.filter(pl.col("member"))
    never, control = (rows.filter(pl.col("pool") == p) for p in ("non_members", pool))
    require_rows(treated.height, MIN_MATCHED, "members who joined after their first purchase and at "
                 f"least {post_days} days before the as-of date", ANALYSIS)
    z = stats.z_critical(confidence)
    out, balance = [], None
    for outcome, label in (("post_revenue", "spend"), ("post_orders", "purchase_days")):
        m = nearest_match(treated, control, outcome, strata="month")
        balance = m.balance
        raw = never[outcome].mean() if never.height else None
        p = 2 * st.norm.sf(abs(m.effect) / m.se) if m.se > 0 else None
        out.append({
            "outcome": label, "window_days": post_days, "members_mean": treated[outcome].mean(),
            "non_members_mean": raw,
            "raw_lift": treated[outcome].mean() - raw if raw is not None else None,
            "raw_relative_lift": treated[outcome].mean() / raw - 1 if raw else None,
            "matched_members_mean": m.treated_mean, "matched_mean": m.control_mean,
            "matched_lift": m.effect,
            "matched_lift_ci_low": m.effect - z * m.se, "matched_lift_ci_high": m.effect + z * m.se,
            "matched_relative_lift": m.effect / m.control_mean if m.control_mean else None,
            "p_value": p, "n_members": m.n_treated, "n_controls": m.n_controls,
        })
    return pl.DataFrame(out).fill_nan(None), balance
