"""A deterministic sample workspace with planted truths (`loyalist demo`).

`generate` returns the seven contract tables plus the Delphi panel; `build` also returns
the ground truth; `write_workspace` writes everything to a folder. fixtures/README.md
documents every planted parameter (they live in core/demo/params.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from core.demo import params, tables
from core.demo.baskets import Catalogue, Lines, draw_catalogue, draw_lines, return_lines
from core.demo.calendar import Calendar
from core.demo.engagement import funnel_stages
from core.demo.festivals import festival_orders
from core.demo.marketing import (
    CampaignRun,
    Touches,
    always_on_touches,
    run_campaigns,
    run_experiments,
    tag_campaign_orders,
)
from core.demo.names import demographics
from core.demo.people import Population, draw_population
from core.demo.pricing import discount_promotions, plant_prices, plant_promotions
from core.demo.points import order_amounts, points_ledger
from core.demo.purchases import CAMPAIGN, FESTIVAL, OrderLines, Orders, btyd_orders, draw_returns, order_lines
from core.demo.survey import delphi_ratings, kano_answers, survey_answers
from core.errors import InputError

__all__ = ["Demo", "build", "generate", "write_workspace", "DEFAULT_END", "MIN_CUSTOMERS"]

DEFAULT_END = date(2025, 12, 31)
MIN_CUSTOMERS = 10
FORMATS = ("csv", "parquet")
WORKSPACE_TABLES = ("transactions", "customers", "touchpoints", "survey", "campaigns", "experiments", "points")
GENERATOR_VERSION = 2

# One random stream per component, so changing one part leaves the others' draws alone.
_STREAMS = ("people", "btyd", "touches", "campaigns", "lines", "returns", "customers",
            "names", "survey", "experiments", "delphi", "baskets", "engagement", "kano",
            # reserved for planted demand: holiday peaks, promotions, price paths, points ledger
            "festivals", "promotions", "prices", "points")


def _stream(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, _STREAMS.index(name)])


@dataclass(frozen=True)
class Demo:
    tables: dict[str, pl.DataFrame]  # the six contract tables and "delphi"
    customer_types: pl.DataFrame  # per-customer truth
    products: pl.DataFrame  # the catalogue (truth/products.csv)
    truth: dict[str, Any]  # planted parameters and realised counts (truth.json)


def build(customers: int = 2000, seed: int = 7, end: date = DEFAULT_END) -> Demo:
    """Simulate the workspace and keep the ground truth alongside it."""
    _check(customers, seed)
    cal = Calendar.ending(end)
    pop = draw_population(_stream(seed, "people"), customers, cal)
    orders, life = btyd_orders(_stream(seed, "btyd"), cal, pop)
    touches, triggered = always_on_touches(_stream(seed, "touches"), cal, pop, life)
    orders = Orders.concat([orders, triggered])
    runs, campaign_touches, campaign_orders = run_campaigns(
        _stream(seed, "campaigns"), cal, pop, life, orders)
    orders = Orders.concat([orders, campaign_orders])
    orders = Orders.concat([orders, festival_orders(_stream(seed, "festivals"), cal, orders)])
    touches = Touches.concat([touches, campaign_touches])

    lines = order_lines(_stream(seed, "lines"), cal, pop, life, orders)
    lines.campaign = tag_campaign_orders(runs, customers, lines.cust, lines.day, lines.campaign)
    returns = draw_returns(_stream(seed, "returns"), cal, lines)
    basket_rng = _stream(seed, "baskets")
    catalogue = draw_catalogue(basket_rng)
    basket = draw_lines(basket_rng, pop, lines, catalogue)

    ids = tables.customer_ids(customers)
    tx = tables.transactions(cal, ids, lines, basket, return_lines(returns, basket), catalogue)
    tx, promotions = plant_promotions(_stream(seed, "promotions"), tx)
    tx, prices = plant_prices(_stream(seed, "prices"), tx, tables.products(catalogue))
    tx, promotions = discount_promotions(tx, promotions)
    units = run_experiments(_stream(seed, "experiments"), cal, pop)
    answers = survey_answers(_stream(seed, "survey"), cal, pop)
    answers |= kano_answers(_stream(seed, "kano"), len(answers["cust"]))
    out = {
        "transactions": tx,
        "customers": tables.customers(_stream(seed, "customers"), cal, ids, pop, life,
                                      demographics(_stream(seed, "names"), customers), lines),
        "touchpoints": tables.touchpoints(cal, ids, touches,
                                          funnel_stages(_stream(seed, "engagement"), touches)),
        "survey": tables.survey(cal, ids, answers),
        "campaigns": tables.campaigns(cal, runs),
        "experiments": tables.experiments(cal, ids, units, runs, lines),
        "delphi": delphi_ratings(_stream(seed, "delphi")),
        "points": points_ledger(_stream(seed, "points"), cal, ids, life.member,
                                tables.member_days(cal, pop, life), lines, order_amounts(tx, len(lines.cust))),
    }
    out = {name: tables.conform(name, frame) if name in WORKSPACE_TABLES else frame
           for name, frame in out.items()}
    truth = {
        "generator": {"version": GENERATOR_VERSION, "customers": customers, "seed": seed,
                      "start": cal.start.isoformat(), "end": cal.end.isoformat()},
        "planted": params.planted(),
        "realised": {**_realised(out, pop, lines, runs, basket, catalogue),
                     "promotions": promotions, "prices": prices},
    }
    return Demo(out, tables.customer_truth(cal, ids, pop, life), tables.products(catalogue), truth)


def generate(customers: int = 2000, seed: int = 7, end: date = DEFAULT_END) -> dict[str, pl.DataFrame]:
    """The six contract tables (canonical column names and dtypes) plus "delphi"."""
    return build(customers, seed, end).tables


def write_workspace(out_dir: str | Path, customers: int = 2000, seed: int = 7, fmt: str = "csv",
                    end: date = DEFAULT_END) -> list[Path]:
    """Write <table>.csv|.parquet, delphi.csv and truth/ into out_dir; return the paths written.

    Same arguments, same bytes. Existing files of the same names are replaced; nothing
    else in the folder is touched.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}", fix="use csv or parquet")
    demo = build(customers, seed, end)
    root = Path(out_dir)
    (root / "truth").mkdir(parents=True, exist_ok=True)
    written = []
    for name in WORKSPACE_TABLES:
        path = root / f"{name}.{fmt}"
        _write(demo.tables[name], path, fmt)
        written.append(path)
    _write(demo.tables["delphi"], root / "delphi.csv", "csv")
    # The truth keeps its 4 decimals (a dropout of 0.0067 must not print as 0.01).
    _write(demo.customer_types, root / "truth" / "customer_types.csv", "csv", decimals=None)
    _write(demo.products, root / "truth" / "products.csv", "csv")
    written += [root / "delphi.csv", root / "truth" / "customer_types.csv", root / "truth" / "products.csv"]
    truth_path = root / "truth" / "truth.json"
    truth_path.write_text(json.dumps(demo.truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written.append(truth_path)
    return written


def _write(frame: pl.DataFrame, path: Path, fmt: str, decimals: int | None = 2) -> None:
    if fmt == "parquet":
        frame.write_parquet(path, compression="zstd", statistics=False)
    else:
        # Money gets two decimals; whole-number quantities print without them.
        if "quantity" in frame.columns:
            frame = frame.with_columns(pl.col("quantity").cast(pl.Int64))
        if "points" in frame.columns:  # the ledger's points are whole
            frame = frame.with_columns(pl.col("points").cast(pl.Int64))
        frame.write_csv(path, datetime_format="%Y-%m-%d %H:%M:%S", float_precision=decimals)


def _check(customers: int, seed: int) -> None:
    if not isinstance(customers, (int, np.integer)) or customers < MIN_CUSTOMERS:
        raise InputError(f"--customers must be a whole number of at least {MIN_CUSTOMERS}, "
                         f"got {customers!r}",
                         fix=f"pass --customers {MIN_CUSTOMERS} or more (the default is 2000)")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"--seed must be a non-negative whole number, got {seed!r}",
                         fix="pass e.g. --seed 7")


def _realised(out: dict[str, pl.DataFrame], pop: Population, lines: OrderLines,
              runs: list[CampaignRun], basket: Lines, catalogue: Catalogue) -> dict[str, Any]:
    """Counts of what this particular draw produced (exact, not estimates)."""
    type_counts = np.bincount(pop.type_idx, minlength=len(params.TYPES))
    campaign_rows = []
    for run in runs:
        mine = (lines.source == CAMPAIGN) & (lines.campaign == run.index)
        campaign_rows.append({
            "campaign_id": run.spec.campaign_id,
            "targeted": int(len(run.targeted)),
            "treated": int(run.treated.sum()),
            "holdout": int((~run.treated).sum()),
            "incremental_orders": run.incremental_orders,
            "incremental_revenue": round(float(lines.amount[mine].sum()), 2),
        })
    return {
        "rows": {name: frame.height for name, frame in out.items()},
        "customers_by_type": dict(zip(params.TYPE_NAMES, map(int, type_counts))),
        "multichannel_customers": int(pop.multichannel.sum()),
        "members": int(out["customers"]["is_member"].sum()),
        "orders": int(len(lines.cust)),
        "festival_orders": int((lines.source == FESTIVAL).sum()),
        "order_lines": int(len(basket.order)),
        "returns": int((out["transactions"]["amount"] < 0).sum()),
        "returned_orders": int(out["transactions"].filter(pl.col("amount") < 0)["order_id"].n_unique()),
        "campaigns": campaign_rows,
        "complements": _complements(out["transactions"]),
        "points": _points(out["points"]),
    }


def _points(ledger: pl.DataFrame) -> dict[str, Any]:
    """The ledger's totals by kind and the outstanding balance with its liability, as written."""
    total = {kind: float(ledger.filter(pl.col("kind") == kind)["points"].sum())
             for kind in ("earn", "redeem", "expire", "adjust")}
    outstanding = sum(total.values())
    return {"earned": total["earn"], "redeemed": -total["redeem"], "expired": -total["expire"],
            "adjusted": total["adjust"], "outstanding": outstanding,
            "liability": round(outstanding * params.POINTS.point_value, 2),
            "customers": int(ledger["customer_id"].n_unique()),
            "redeemers": int(ledger.filter(pl.col("kind") == "redeem")["customer_id"].n_unique())}


def _complements(tx: pl.DataFrame) -> list[dict[str, Any]]:
    """Each planted pair in this draw's order baskets (sale lines of the final table, so the
    promotions' copied orders count): orders with a, with b, with both, confidence P(b | a) and
    lift P(b | a) / P(b), exactly as counted."""
    sales = tx.filter(pl.col("amount") > 0)
    orders = sales["order_id"].n_unique()
    rows = []
    for pair in params.COMPLEMENTS:
        has = sales.group_by("order_id").agg(a=(pl.col("product_id") == pair.a).any(),
                                             b=(pl.col("product_id") == pair.b).any())
        n_a, n_b = int(has["a"].sum()), int(has["b"].sum())
        n_ab = int((has["a"] & has["b"]).sum())
        confidence = n_ab / n_a if n_a else None
        rows.append({"a": pair.a, "b": pair.b, "add_prob": pair.add_prob, "orders_with_a": n_a,
                     "orders_with_b": n_b, "orders_with_both": n_ab, "confidence": confidence,
                     "lift": confidence / (n_b / orders) if confidence is not None and n_b else None})
    return rows
