"""Turn the simulated arrays into the contract's tables, with canonical names and dtypes."""

from __future__ import annotations

import numpy as np
import polars as pl

from core import contract
from core.demo.baskets import Catalogue, Lines, ReturnLines
from core.demo.calendar import Calendar
from core.demo.marketing import TOUCH_CHANNEL_NAMES, CampaignRun, ExperimentUnits, Touches
from core.demo.params import (
    ACQUISITION_CHANNELS,
    ACQUISITION_COST,
    ACQUISITION_COST_SIGMA,
    CAMPAIGNS,
    CATEGORIES,
    DRIVERS,
    EXPERIMENTS,
    LIKERT_ITEMS,
    PROGRAM,
    PURCHASE_CHANNELS,
    TOUCH_CHANNELS,
    TYPE_NAMES,
    TYPES,
)
from core.demo.people import Population
from core.demo.purchases import Lifetimes, OrderLines


def conform(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Cast the contract's columns to their dtypes (an empty draw must not change a schema)."""
    table = contract.TABLES[name]
    return frame.with_columns(pl.col(c.name).cast(contract.DTYPES[c.kind])
                              for c in table.columns if c.name in frame.columns)


def _ids(prefix: str, index: np.ndarray, count: int) -> pl.Series:
    """Zero-padded ids ('C000001'), wide enough for `count` values."""
    width = max(6, len(str(count)))
    return prefix + pl.Series(np.asarray(index, dtype=np.int64) + 1).cast(pl.String).str.zfill(width)


def customer_ids(n: int) -> pl.Series:
    return _ids("C", np.arange(n), n)


def transactions(cal: Calendar, cust_id: pl.Series, orders: OrderLines, lines: Lines,
                 returns: ReturnLines, catalogue: Catalogue) -> pl.DataFrame:
    """Order lines and return lines, sorted by date, order_id, then line (each return's
    lines right after its order id's: "O000123" then "O000123-R")."""
    m = len(orders.cust)
    order = np.concatenate((lines.order, returns.order))
    line = np.concatenate((lines.line, returns.line))
    is_return = np.repeat(np.array([False, True]), [len(lines.order), len(returns.order)])
    day = np.concatenate((orders.day[lines.order], returns.day))
    # Sorting integers in numpy is far cheaper than sorting the id strings in Polars.
    sort = np.lexsort((line, is_return, order, day))
    order, is_return, day = order[sort], is_return[sort], day[sort]
    product = np.concatenate((lines.product, returns.product))[sort]
    amount = np.concatenate((lines.amount, returns.amount))[sort]
    quantity = np.concatenate((lines.quantity, returns.quantity))[sort]
    campaign_ids = pl.Series([c.campaign_id for c in CAMPAIGNS] + [None])
    campaign = orders.campaign[order]
    return pl.DataFrame({
        "order_id": pl.select(pl.when(pl.Series(is_return)).then(_ids("O", order, m) + "-R")
                              .otherwise(_ids("O", order, m))).to_series(),
        "customer_id": cust_id[orders.cust[order]],
        "order_date": cal.dates(day),
        "amount": amount,
        "channel": pl.Series(PURCHASE_CHANNELS)[orders.channel[order]],
        "category": pl.Series(CATEGORIES)[catalogue.category[product]],
        "product_id": pl.Series(catalogue.ids)[product],
        "quantity": quantity.astype(np.float64),
        "campaign_id": campaign_ids[np.where(campaign >= 0, campaign, len(CAMPAIGNS))],
    })


def products(catalogue: Catalogue) -> pl.DataFrame:
    """The catalogue (written to truth/products.csv): id, category, rank, list price, and the
    customer type whose favourite it is."""
    return pl.DataFrame({
        "product_id": catalogue.ids,
        "category": pl.Series(CATEGORIES)[catalogue.category],
        "popularity_rank": catalogue.rank,
        "list_price": catalogue.price,
        "favourite_of": pl.Series([*TYPE_NAMES, None])[np.where(catalogue.favourite_of >= 0,
                                                                catalogue.favourite_of, len(TYPE_NAMES))],
    })


def trailing_spend(cal: Calendar, n: int, lines: OrderLines, days: int = 365) -> np.ndarray:
    """Gross spend per customer over the last `days` days (returns not netted)."""
    recent = lines.day > cal.days - 1 - days
    return np.bincount(lines.cust[recent], weights=lines.amount[recent], minlength=n)


def member_days(cal: Calendar, pop: Population, life: Lifetimes) -> np.ndarray:
    """Day index each member joined on (member_since); 0 for non-members."""
    join_day = np.floor(np.minimum(pop.join_t, cal.days - 1))
    return np.where(life.member, join_day, 0).astype(np.int64)


def customers(rng: np.random.Generator, cal: Calendar, cust_id: pl.Series, pop: Population,
              life: Lifetimes, demographics: pl.DataFrame, lines: OrderLines) -> pl.DataFrame:
    n = pop.n
    mix = np.array([t.acquisition_mix for t in TYPES])[pop.type_idx]
    u = rng.random(n)
    acq = np.minimum((u[:, None] > np.cumsum(mix, axis=1)).sum(axis=1), len(ACQUISITION_CHANNELS) - 1)
    sigma = ACQUISITION_COST_SIGMA
    cost = np.asarray(ACQUISITION_COST)[acq] * rng.lognormal(-sigma**2 / 2, sigma, size=n)
    member_day = member_days(cal, pop, life)

    spend = trailing_spend(cal, n, lines)
    silver, gold = PROGRAM.tier_thresholds
    tier = np.where(spend >= gold, "gold", np.where(spend >= silver, "silver", "bronze"))
    table = pl.DataFrame({
        "customer_id": cust_id,
        "signup_date": cal.dates(pop.signup_day),
        "is_member": life.member,
        "member_since": cal.dates(member_day),
        "acquisition_channel": pl.Series(ACQUISITION_CHANNELS)[acq],
        "acquisition_cost": np.round(cost, 2),
        "tier": tier,
    }).with_columns(pl.when(pl.col("is_member")).then(pl.col(c)).alias(c)
                    for c in ("member_since", "tier"))
    return table.hstack(demographics).select(
        "customer_id", "signup_date", "is_member", "member_since", "tier", "acquisition_channel",
        "acquisition_cost", "region", "age", "gender", "income_band", "name")


def touchpoints(cal: Calendar, cust_id: pl.Series, touches: Touches, stages: np.ndarray) -> pl.DataFrame:
    """`stages`: a message's furthest funnel stage, None where the channel's touch_type applies."""
    channel = pl.Series(TOUCH_CHANNEL_NAMES)[touches.channel]
    campaign_ids = pl.Series([c.campaign_id for c in CAMPAIGNS] + [None])
    costs = np.array([c.cost for c in TOUCH_CHANNELS])[touches.channel]
    per_contact = np.array([c.cost_per_contact for c in CAMPAIGNS] + [0.0])
    in_campaign = touches.campaign >= 0
    costs = np.where(in_campaign, per_contact[touches.campaign], costs)
    # Sort by (second, customer, channel) through one integer key: cheaper than lexsort.
    seconds = np.floor(touches.t * 86400.0).astype(np.int64)
    k = len(TOUCH_CHANNELS)
    order = np.argsort((seconds * len(cust_id) + touches.cust) * k + touches.channel, kind="stable")
    return pl.DataFrame({
        "customer_id": cust_id[touches.cust[order]],
        "timestamp": cal.datetimes(touches.t[order]),
        "channel": channel[order],
        "campaign_id": campaign_ids[np.where(in_campaign, touches.campaign, len(CAMPAIGNS))[order]],
        "touch_type": np.where(stages[order] == None, np.array([c.touch_type for c in TOUCH_CHANNELS],  # noqa: E711
                                                               dtype=object)[touches.channel[order]],
                               stages[order]).astype(str),
        "cost": costs[order],
    })


def campaigns(cal: Calendar, runs: list[CampaignRun]) -> pl.DataFrame:
    return pl.DataFrame({
        "campaign_id": [r.spec.campaign_id for r in runs],
        "name": [r.spec.name for r in runs],
        "channel": [r.spec.channel for r in runs],
        "start_date": cal.dates(np.array([r.start_day for r in runs])),
        "end_date": cal.dates(np.array([r.end_day for r in runs])),
        "spend": [round(r.spec.cost_per_contact * int(r.treated.sum()), 2) for r in runs],
        "target": [r.spec.target for r in runs],
    })


def experiments(cal: Calendar, cust_id: pl.Series, units: ExperimentUnits,
                runs: list[CampaignRun], lines: OrderLines) -> pl.DataFrame:
    """Product experiments, then one 'experiment' per campaign: treatment vs holdout.

    A campaign unit converted if it placed any order in the campaign window (start to end
    date inclusive); revenue is its gross order value in that window.
    """
    names = pl.Series([e.name for e in EXPERIMENTS])
    labels = np.array([list(e.variants) for e in EXPERIMENTS], dtype=object)
    frames = [pl.DataFrame({
        "customer_id": cust_id[units.cust],
        "experiment": names[units.experiment],
        "variant": pl.Series(labels[units.experiment, units.variant].astype(str)),
        "exposure_date": cal.dates(units.day),
        "converted": units.converted,
        "revenue": units.revenue,
    })]
    n = len(cust_id)
    for run in runs:  # eight campaigns, not rows
        inside = (lines.day >= run.start_day) & (lines.day <= run.end_day)
        buyer = lines.cust[inside]
        orders = np.bincount(buyer, minlength=n)[run.targeted]
        revenue = np.bincount(buyer, weights=lines.amount[inside], minlength=n)[run.targeted]
        frames.append(pl.DataFrame({
            "customer_id": cust_id[run.targeted],
            "experiment": pl.repeat(run.spec.campaign_id, len(run.targeted), eager=True),
            "variant": pl.Series(["holdout", "treatment"])[run.treated.astype(np.int64)],
            "exposure_date": cal.dates(np.full(len(run.targeted), run.start_day)),
            "converted": orders > 0,
            "revenue": np.round(revenue.astype(np.float64), 2),  # bincount of nothing is int
        }))
    return pl.concat(frames)


def survey(cal: Calendar, cust_id: pl.Series, answers: dict[str, np.ndarray]) -> pl.DataFrame:
    items = [i.name for i in LIKERT_ITEMS] + list(DRIVERS)
    return pl.DataFrame({
        "customer_id": cust_id[answers["cust"]],
        "response_date": cal.dates(answers["day"]),
        "nps": answers["nps"].astype(np.int64),
        "csat": answers["csat"].astype(np.int64),
        **{name: pl.Series(answers[name]).fill_nan(None).cast(pl.Int64) for name in items},
        "comment": pl.Series(answers["comment"].tolist(), dtype=pl.String),
        **{name: pl.Series(v.tolist(), dtype=pl.String) for name, v in answers.items() if name.startswith("kano_")},
    }).sort("response_date", "customer_id")


def customer_truth(cal: Calendar, cust_id: pl.Series, pop: Population, life: Lifetimes) -> pl.DataFrame:
    dead = np.isfinite(life.death_t)
    death_day = np.floor(np.where(dead, life.death_t, 0.0)).astype(np.int64)
    return pl.DataFrame({
        "customer_id": cust_id,
        "type": pl.Series(TYPE_NAMES)[pop.type_idx],
        "multichannel": pop.multichannel,
        "purchase_rate": np.round(pop.rate, 4),
        "dropout_p": np.round(pop.dropout, 4),
        "mean_order_value": np.round(pop.spend_p / pop.spend_nu, 2),
        "loyalty": np.round(pop.loyalty, 4),
        "alive": ~dead,
        "last_purchase_before_leaving": cal.dates(death_day),
    }).with_columns(pl.when(~pl.col("alive")).then(pl.col("last_purchase_before_leaving"))
                    .alias("last_purchase_before_leaving"))
