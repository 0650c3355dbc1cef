"""The points ledger's rules, shared by validation and the points reports.

A row's kind says which way its points move: earn adds, redeem and expire take away,
whatever sign the export gave them (some systems write redemptions as -500, others as
500 with kind "redeem"); an adjustment keeps its own sign. Kinds are read in English or
Chinese, in any case.
"""

from __future__ import annotations

import polars as pl

EARN, REDEEM, EXPIRE, ADJUST = "earn", "redeem", "expire", "adjust"
KINDS = (EARN, REDEEM, EXPIRE, ADJUST)
KIND_WORDS = {
    EARN: ("earn", "earned", "accrue", "accrual", "award", "credit", "积分获得", "获得", "累积", "积累", "赚取", "发放"),
    REDEEM: ("redeem", "redeemed", "redemption", "burn", "spend", "use", "兑换", "积分兑换", "使用", "消耗", "抵扣"),
    EXPIRE: ("expire", "expired", "expiry", "expiration", "lapse", "过期", "失效", "积分过期"),
    ADJUST: ("adjust", "adjustment", "correction", "bonus", "manual", "调整", "积分调整", "补发", "扣减"),
}
_WORD_TO_KIND = {word: kind for kind, words in KIND_WORDS.items() for word in words}


def kind_of(column: str = "kind") -> pl.Expr:
    """The canonical kind (earn, redeem, expire, adjust), or null for a word not known."""
    word = pl.col(column).cast(pl.String).str.strip_chars().str.to_lowercase()
    return word.replace_strict(_WORD_TO_KIND, default=None, return_dtype=pl.String)


def signed_points(kind: pl.Expr, points: pl.Expr = pl.col("points")) -> pl.Expr:
    """Points as they move the balance: + earn, - redeem, - expire, adjust as given."""
    magnitude = points.abs()
    return (pl.when(kind == EARN).then(magnitude)
            .when(kind.is_in([REDEEM, EXPIRE])).then(-magnitude)
            .when(kind == ADJUST).then(points)
            .otherwise(None))


def running(expr: pl.Expr, order: list[str]) -> pl.Expr:
    """A running sum within each customer, in date order (file order within a day)."""
    return expr.fill_null(0).cum_sum().over("customer_id", order_by=order)
