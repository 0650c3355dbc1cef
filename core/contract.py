"""The data contract: the tables a workspace may hold and their canonical columns.

One place defines every table, its required and optional columns and the dtype each
column is coerced to, so loaders, validation and analyses agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

# Kinds of column, each with its own coercion rule (see core/coerce.py).
ID, TEXT, DATE, DATETIME, MONEY, NUMBER, INTEGER, FLAG = (
    "id", "text", "date", "datetime", "money", "number", "integer", "flag",
)

DTYPES: dict[str, pl.DataType] = {
    ID: pl.String(),
    TEXT: pl.String(),
    DATE: pl.Date(),
    DATETIME: pl.Datetime("us"),
    MONEY: pl.Float64(),
    NUMBER: pl.Float64(),
    INTEGER: pl.Int64(),
    FLAG: pl.Boolean(),
}


# An amount or quantity beyond this (in either direction) is a typo or a placeholder such
# as 1e308, not an order, cost or budget: validation refuses it like NaN and infinity.
MAX_MAGNITUDE = 1e12


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = False
    description: str = ""
    # Allowed answers of a score, inclusive; more ranges come from loyalist.toml.
    range: tuple[float, float] | None = None


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    description: str = ""
    # Columns not in the contract are kept (e.g. Likert items, customer attributes).
    keeps_extra_columns: bool = True

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def _t(name: str, description: str, *cols: tuple) -> Table:
    return Table(name, tuple(Column(*c) for c in cols), description)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        _t(
            "transactions", "one row per order (or order line); negative amounts are returns",
            ("customer_id", ID, True, "who bought"),
            ("order_date", DATE, True, "day of the order"),
            ("amount", MONEY, True, "order value; negative for a return"),
            ("order_id", ID), ("channel", TEXT), ("quantity", NUMBER),
            ("product_id", ID), ("category", TEXT), ("campaign_id", ID), ("promo_id", ID),
        ),
        _t(
            "customers", "one row per customer",
            ("customer_id", ID, True), ("signup_date", DATE), ("is_member", FLAG),
            ("member_since", DATE), ("tier", TEXT), ("acquisition_channel", TEXT),
            ("acquisition_cost", MONEY), ("region", TEXT), ("age", INTEGER),
            ("gender", TEXT), ("income_band", TEXT), ("name", TEXT),
        ),
        _t(
            "touchpoints", "marketing and service contacts with a customer",
            ("customer_id", ID, True), ("timestamp", DATETIME, True), ("channel", TEXT, True),
            ("campaign_id", ID), ("touch_type", TEXT), ("cost", MONEY),
        ),
        _t(
            "survey", "survey answers; any further numeric columns are Likert items",
            ("customer_id", ID, True), ("response_date", DATE),
            ("nps", INTEGER, False, "likelihood to recommend", (0, 10)),
            ("csat", INTEGER, False, "overall satisfaction", (1, 5)),
            ("ces", NUMBER, False, "customer effort (its scale varies: give its range in loyalist.toml)"),
            ("comment", TEXT),
        ),
        _t(
            "campaigns", "one row per campaign",
            ("campaign_id", ID, True), ("name", TEXT), ("channel", TEXT),
            ("start_date", DATE), ("end_date", DATE), ("spend", MONEY), ("target", TEXT),
        ),
        _t(
            "experiments", "one row per unit assigned to an experiment variant",
            ("customer_id", ID, True), ("experiment", TEXT, True), ("variant", TEXT, True),
            ("exposure_date", DATE), ("converted", FLAG), ("revenue", MONEY),
        ),
        _t(
            "points", "the loyalty points ledger: one row per movement of a customer's points",
            ("customer_id", ID, True, "whose points"),
            ("date", DATE, True, "day of the movement"),
            ("points", NUMBER, True, "points moved; the kind gives the sign of earn, redeem and expire"),
            ("kind", TEXT, True, "earn, redeem, expire or adjust (an adjustment keeps its own sign)"),
            ("reason", TEXT), ("order_id", ID),
            ("tier", TEXT, False, "the customer's tier when the points moved"),
        ),
    )
}

TABLE_NAMES: tuple[str, ...] = tuple(TABLES)
