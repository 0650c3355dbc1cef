"""Campaigns: revenue and orders before, during and after, and the incremental effect.

Windows: "before" and "after" have the campaign's own length (after is cut at as_of).
The incremental revenue comes from the best comparison available, in this order:
- holdout: an experiment named after the campaign_id whose variant is "holdout" or
  "control" (randomised, so the difference is the campaign's effect);
- matched: customers touched by the campaign (touchpoints.campaign_id) against untouched
  customers with the closest behaviour in the year before the start;
- pre-post: revenue per day during against before, for every customer (not causal:
  seasonality and trends are in it too).
Holdout and matched comparisons measure revenue over the campaign's own dates (cut at
as_of), where its effect was planned; the after window shows what followed, for everyone.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from scipy import stats as st

from core.errors import AnalysisError
from core.evaluate import stats
from core.evaluate.inputs import UNNAMED, names, require, require_columns
from core.evaluate.matching import behaviour, nearest_match
from core.features import default_as_of
from core.result import Chart, Result

ANALYSIS = "campaign report"
HOLDOUT_NAMES = ("holdout", "control")
WINDOWS = ("before", "during", "after")
# The campaigns table; orders and new customers per window are in the windows table.
COLUMNS = (
    "campaign_id", "name", "channel", "start_date", "end_date", "spend",
    "revenue_before", "revenue_during", "revenue_after", "tagged_revenue",
    "method", "treated", "comparison", "revenue_per_treated", "revenue_per_comparison",
    "incremental_revenue", "incremental_ci_low", "incremental_ci_high", "p_value", "roi",
    "new_members_before", "new_members_during",
)


def campaign(
    campaigns: pl.LazyFrame | None,
    transactions: pl.LazyFrame | None,
    experiments: pl.LazyFrame | None = None,
    touchpoints: pl.LazyFrame | None = None,
    customers: pl.LazyFrame | None = None,
    *,
    campaign_id: str | None = None,
    as_of: dt.date | None = None,
    max_controls: int = 5000,
    confidence: float = 0.95,
    workspace: str = UNNAMED,
) -> Result:
    """One row per campaign: windows, comparison, incremental revenue, ROI, new members."""
    require(campaigns, "campaigns", ANALYSIS, workspace)
    require(transactions, "transactions", ANALYSIS, workspace)
    require_columns(campaigns, "campaigns", ("start_date", "end_date"), ANALYSIS,
                    "add each campaign's start_date and end_date")
    as_of = as_of or default_as_of(transactions)
    plan = campaign_windows(campaigns, campaign_id, as_of)  # a few rows: eager
    ids = plan["campaign_id"].to_list()
    tx = transactions.filter(pl.col("order_date") <= as_of)
    queries: dict[str, pl.LazyFrame] = {
        "daily": daily_totals(tx, "order_id" in names(transactions)),
        "first": tx.filter(pl.col("amount") > 0).group_by("customer_id")
        .agg(pl.col("order_date").min()).group_by("order_date").agg(pl.len().alias("new_customers")),
    }
    if "campaign_id" in names(transactions):
        queries["tagged"] = tx.filter(pl.col("campaign_id").is_in(ids)).group_by("campaign_id").agg(
            pl.sum("amount").alias("tagged_revenue"))
    if "member_since" in names(customers):
        queries["joins"] = customers.filter(pl.col("member_since").is_not_null()).group_by(
            pl.col("member_since").alias("order_date")).agg(pl.len().alias("new_members"))
    windows = plan.lazy().select("campaign_id", "start_date", "response_end")
    # One query at a time, each reduced before the next: their memory peaks do not add up.
    # Collected together they were the report's 1.9 GB peak at 10M rows (the day totals' sets
    # of order hashes, the first-purchase group_by and a row per tested customer at once);
    # one after the other they cost the same CPU. The holdout arms, a row per tested
    # customer, run on the streaming engine and come back as one row per arm.
    frames: dict[str, pl.DataFrame] = {}
    with_holdout: list[str] = []
    if experiments is not None:
        frames["arms"] = arm_summaries(holdout_outcomes(experiments, tx, windows)).collect(engine="streaming")
        with_holdout = campaigns_with_holdout(experiments, ids)
    # Matching is the costly comparison (every touched customer's behaviour around the
    # start): only for campaigns a holdout does not already measure.
    unmeasured = [cid for cid in ids if cid not in with_holdout]
    if unmeasured and touchpoints is not None and "campaign_id" in names(touchpoints):
        frames["matched"] = matched_rows(touchpoints, transactions, tx,
                                         windows.filter(pl.col("campaign_id").is_in(unmeasured)),
                                         max_controls).collect()
    frames |= {name: query.collect() for name, query in queries.items()}
    sums = window_sums(plan, frames)
    effects = pl.DataFrame([{"campaign_id": cid, **effect_of(cid, sums, frames, confidence)} for cid in ids])
    table = assemble(plan, sums, effects, frames)
    notes = [
        "Before and after windows have the campaign's length; the after window is cut at the "
        "as-of date. Incremental revenue: holdout (randomised) where an experiment named after "
        "the campaign has a holdout or control arm; else touched customers against matched "
        "untouched ones; else revenue per day during against before (pre-post: not causal).",
        "ROI = (incremental revenue - spend) / spend, on revenue, not margin.",
    ]
    skipped = table.filter(pl.col("method") == "none")["campaign_id"].to_list()
    if skipped:
        notes.append(f"No comparison possible for {', '.join(skipped)}.")
    return Result(
        name="report.campaign",
        title="Campaigns: before, during, after and incremental revenue",
        tables={"campaigns": table, "windows": sums},
        headline={
            "campaigns_read": table.height,
            "incremental_revenue": table["incremental_revenue"].sum() if table.height else None,
            "spend": table["spend"].sum() if "spend" in table.columns else None,
            "best_roi_campaign": best(table, "roi"),
        },
        charts=(Chart("bar", "Revenue per day by window", "windows", "campaign_id",
                      ("revenue_per_day",), "window"),
                Chart("bar", "Incremental revenue", "campaigns", "campaign_id", ("incremental_revenue",))),
        params={"campaign_id": campaign_id, "as_of": as_of, "confidence": confidence},
        notes=tuple(notes),
    )


def daily_totals(tx: pl.LazyFrame, has_order_id: bool) -> pl.LazyFrame:
    """Revenue and orders per day; an order of several lines (products) is one order."""
    if not has_order_id:
        return tx.group_by("order_date").agg(pl.sum("amount").alias("revenue"),
                                             (pl.col("amount") > 0).sum().cast(pl.Int64).alias("orders"))
    # One group_by per day; the distinct orders are counted on a hash of order_id (as in
    # core.features: a 64-bit collision between two orders of one day is too unlikely to
    # matter). Sets of text ids per day, or the distinct (day, order) pairs, were the report's
    # memory peak: 1.4 GB at 10M rows, against 0.46 GB for this.
    order_key = pl.when(pl.col("amount") > 0).then(pl.col("order_id").hash()).alias("_order")
    orders = pl.col("_order").n_unique() - (pl.col("_order").null_count() > 0).cast(pl.UInt32)
    return (tx.select("order_date", "amount", order_key).group_by("order_date")
            .agg(pl.sum("amount").alias("revenue"), orders.cast(pl.Int64).alias("orders")))


def campaign_windows(campaigns: pl.LazyFrame, campaign_id: str | None, as_of: dt.date) -> pl.DataFrame:
    """Campaigns that started by as_of, with before/during/after and response windows."""
    lf = campaigns.filter(pl.col("start_date").is_not_null(), pl.col("end_date").is_not_null(),
                          pl.col("start_date") <= as_of)
    if campaign_id is not None:
        lf = lf.filter(pl.col("campaign_id") == campaign_id)
    keep = [c for c in ("campaign_id", "name", "channel", "start_date", "end_date", "spend")
            if c in names(campaigns)]
    length = pl.duration(days=(pl.col("end_date") - pl.col("start_date")).dt.total_days() + 1)
    cut = pl.lit(as_of, pl.Date)
    plan = lf.select(keep).unique("campaign_id").sort("start_date", "campaign_id").with_columns(
        (pl.col("start_date") - length).alias("before_start"),
        (pl.col("start_date") - pl.duration(days=1)).alias("before_end"),
        pl.min_horizontal("end_date", cut).alias("during_end"),
        (pl.col("end_date") + pl.duration(days=1)).alias("after_start"),
        pl.min_horizontal(pl.col("end_date") + length, cut).alias("after_end"),
    ).with_columns(pl.col("during_end").alias("response_end")).collect()  # see the module docstring
    if plan.is_empty():
        which = f"campaign {campaign_id!r}" if campaign_id else "no campaign"
        raise AnalysisError(f"{ANALYSIS}: {which} with start and end dates started on or before "
                            f"{as_of}. Fix: check --campaign, --as-of and the campaign dates")
    return plan


def window_sums(plan: pl.DataFrame, frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Long table: campaign, window, dates, revenue, orders, per day, new customers and members."""
    spans = pl.concat([
        plan.select("campaign_id", pl.lit(w).alias("window"),
                    pl.col("start_date" if w == "during" else f"{w}_start").alias("start")
                    if w != "before" else pl.col("before_start").alias("start"),
                    pl.col(f"{w}_end").alias("end"))
        for w in WINDOWS
    ]).filter(pl.col("start") <= pl.col("end"))
    daily = frames["daily"].join(frames["first"], on="order_date", how="full", coalesce=True)
    if "joins" in frames:
        daily = daily.join(frames["joins"], on="order_date", how="full", coalesce=True)
    counted = [c for c in ("revenue", "orders", "new_customers", "new_members") if c in daily.columns]
    sums = (
        spans.join_where(daily, pl.col("order_date") >= pl.col("start"), pl.col("order_date") <= pl.col("end"))
        .group_by("campaign_id", "window").agg(pl.col(counted).sum())
    )
    return (
        spans.join(sums, on=["campaign_id", "window"], how="left")
        .with_columns(pl.col(counted).fill_null(0),
                      ((pl.col("end") - pl.col("start")).dt.total_days() + 1).alias("days"))
        .with_columns((pl.col("revenue") / pl.col("days")).alias("revenue_per_day"))
        .sort("campaign_id", pl.col("window").replace_strict({w: i for i, w in enumerate(WINDOWS)}))
    )


def holdout_outcomes(experiments: pl.LazyFrame, tx: pl.LazyFrame, windows: pl.LazyFrame) -> pl.LazyFrame:
    """Per campaign with a holdout arm: customer, treated flag and revenue in the response window."""
    # The campaigns by name (a filter, not a join that would carry their dates on every row)
    planned = windows.select("campaign_id").collect()["campaign_id"].to_list()
    arms = (
        experiments.filter(pl.col("experiment").is_in(planned))
        .select(pl.col("experiment").alias("campaign_id"), "customer_id",
                (~pl.col("variant").str.to_lowercase().is_in(HOLDOUT_NAMES)).alias("treated"))
        .unique(["campaign_id", "customer_id"])
    )
    # Revenue per campaign and customer from the transactions inside the campaign's response
    # window (rows in no window dropped first, then an inequality join with the few windows),
    # then matched to the arms: joining the arms to all their customers' transactions was the
    # report's memory peak at 10M rows. The windows are a few rows, read here.
    tested = windows.join(experiments.select(pl.col("experiment").alias("campaign_id")).unique(),
                          on="campaign_id", how="semi")
    spans = windows.select("start_date", "response_end").unique().collect().rows()
    in_a_window = (pl.any_horizontal(pl.col("order_date").is_between(a, b) for a, b in spans)
                   if spans else pl.lit(False))
    revenue = (
        tx.filter(in_a_window).select("customer_id", "order_date", "amount")
        .join_where(tested.select("campaign_id", "start_date", "response_end"),
                    pl.col("order_date") >= pl.col("start_date"), pl.col("order_date") <= pl.col("response_end"))
        .group_by("campaign_id", "customer_id").agg(pl.sum("amount").alias("response_revenue"))
    )
    return arms.join(revenue, on=["campaign_id", "customer_id"], how="left").with_columns(
        pl.col("response_revenue").fill_null(0.0)
    ).select("campaign_id", "customer_id", "treated", "response_revenue")


def arm_summaries(outcomes: pl.LazyFrame) -> pl.LazyFrame:
    """Per campaign and arm: customers, mean and sample variance (ddof=1) of the response
    revenue, all a Welch comparison needs; one row per arm instead of one per customer."""
    revenue = pl.col("response_revenue")
    return outcomes.group_by("campaign_id", "treated").agg(
        pl.len().alias("customers"), revenue.mean().alias("mean"),
        revenue.var(ddof=1).fill_null(float("nan")).alias("variance"))


def campaigns_with_holdout(experiments: pl.LazyFrame, ids: list[str]) -> list[str]:
    """Campaigns whose experiment has both a holdout (or control) arm and a treated arm:
    the randomised comparison effect_of uses first."""
    holdout = pl.col("variant").str.to_lowercase().is_in(HOLDOUT_NAMES)
    arms = (experiments.filter(pl.col("experiment").is_in(ids))
            .group_by("experiment").agg(holdout.any().alias("h"), (~holdout).any().alias("t"))
            .filter(pl.col("h") & pl.col("t")).collect())
    return arms["experiment"].to_list()


def matched_rows(touchpoints: pl.LazyFrame, transactions: pl.LazyFrame, tx: pl.LazyFrame,
                 windows: pl.LazyFrame, max_controls: int) -> pl.LazyFrame:
    """Touched customers and a fixed sample of untouched ones, with behaviour around the start."""
    touched = (
        touchpoints.filter(pl.col("campaign_id").is_not_null())
        .select("campaign_id", "customer_id").unique()
        .join(windows, on="campaign_id")
    )
    buyers = tx.filter(pl.col("amount") > 0).group_by("customer_id").agg(
        pl.col("order_date").min().alias("first_purchase"))
    pool = buyers.sort(pl.col("customer_id").hash(17), "customer_id").head(max_controls)
    controls = (
        pool.join(windows, how="cross")
        .filter(pl.col("first_purchase") < pl.col("start_date"))
        .join(touched.select("campaign_id", "customer_id"), on=["campaign_id", "customer_id"], how="anti")
        .select("campaign_id", "customer_id", "start_date", "response_end", pl.lit(False).alias("treated"))
    )
    anchors = pl.concat([
        touched.select("campaign_id", "customer_id", "start_date", "response_end",
                       pl.lit(True).alias("treated")),
        controls,
    ]).rename({"start_date": "anchor", "response_end": "outcome_end"})
    return behaviour(transactions, anchors)


def effect_of(cid: str, sums: pl.DataFrame, frames: dict[str, pl.DataFrame], confidence: float) -> dict:
    """Comparison method, groups and incremental revenue (with interval) for one campaign."""
    arms = ({r["treated"]: r for r in frames["arms"].filter(pl.col("campaign_id") == cid).iter_rows(named=True)}
            if "arms" in frames else {})
    if True in arms and False in arms:
        t, h = arms[True], arms[False]
        diff, lo, hi, _, _, p = stats.welch(t["mean"], t["variance"], t["customers"], h["mean"], h["variance"],
                                            h["customers"], confidence)
        return per_customer("holdout", t["customers"], h["customers"], t["mean"], h["mean"], float(diff),
                            float(lo), float(hi), float(p))
    rows = frames["matched"].filter(pl.col("campaign_id") == cid) if "matched" in frames else pl.DataFrame()
    if rows.height and rows["treated"].any() and (~rows["treated"]).any():
        treated, control = rows.filter(pl.col("treated")), rows.filter(~pl.col("treated"))
        m = nearest_match(treated, control, "post_revenue")
        z = stats.z_critical(confidence)
        p = 2 * float(st.norm.sf(abs(m.effect) / m.se)) if m.se > 0 else None
        return per_customer("matched", m.n_treated, m.n_controls, m.treated_mean, m.control_mean,
                            m.effect, m.effect - z * m.se, m.effect + z * m.se, p)
    windows = {r["window"]: r for r in sums.filter(pl.col("campaign_id") == cid).iter_rows(named=True)}
    if "before" in windows and "during" in windows:
        gain = (windows["during"]["revenue_per_day"] - windows["before"]["revenue_per_day"]) * windows["during"]["days"]
        return {"method": "pre-post", "incremental_revenue": gain}
    return {"method": "none"}


def per_customer(method: str, n_t: int, n_c: int, mean_t: float, mean_c: float, diff: float,
                 lo: float, hi: float, p: float | None) -> dict:
    """Per-customer comparison scaled to all treated customers."""
    return {
        "method": method, "treated": n_t, "comparison": n_c,
        "revenue_per_treated": mean_t, "revenue_per_comparison": mean_c,
        "incremental_revenue": diff * n_t, "incremental_ci_low": lo * n_t,
        "incremental_ci_high": hi * n_t, "p_value": p,
    }


def assemble(plan: pl.DataFrame, sums: pl.DataFrame, effects: pl.DataFrame,
             frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The campaigns table: identity, window sums side by side, comparison and ROI."""
    wide = sums.pivot(on="window", index="campaign_id",
                      values=[c for c in ("revenue", "orders", "new_members", "new_customers") if c in sums.columns])
    ident = plan.select([c for c in ("campaign_id", "name", "channel", "start_date", "end_date", "spend")
                         if c in plan.columns])
    table = ident.join(wide, on="campaign_id", how="left").join(effects, on="campaign_id", how="left")
    if "tagged" in frames:
        table = table.join(frames["tagged"], on="campaign_id", how="left")
    if "spend" in table.columns:
        table = table.with_columns(
            pl.when(pl.col("spend") > 0)
            .then((pl.col("incremental_revenue") - pl.col("spend")) / pl.col("spend")).alias("roi"))
    return table.select([c for c in COLUMNS if c in table.columns])


def best(table: pl.DataFrame, column: str) -> str | None:
    if column not in table.columns or table[column].drop_nulls().is_empty():
        return None
    return table.sort(column, descending=True, nulls_last=True)["campaign_id"][0]
