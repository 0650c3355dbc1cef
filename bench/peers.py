"""The peers Loyalist is measured beside: `python -m bench.peers NAME WORKSPACE OUT`.

Each peer is the script an analyst would write without Loyalist, doing the same work as
`loyalist segment rfm --output OUT.parquet`: read the transactions, R, F and M per
customer (as of the last transaction date), 1-5 scores by strict rank (ties broken by the
other two metrics, then customer_id), the 10-segment R x F map, and the customer table
written as Parquet. They run as fresh processes, so like the CLI they pay for the
interpreter and their imports. bench.sidebyside checks that each gives the same scores
and segments as Loyalist before its time is compared.

  polars      bare Polars from the Parquet file (the floor)
  polars-csv  bare Polars from the CSV copy: one scan of the file
  polars-streaming  bare Polars from the Parquet file on its streaming engine (bench.engines, 100m)
  pandas      pandas read_parquet + groupby
  duckdb      DuckDB SQL over the Parquet file, COPY to Parquet
"""

from __future__ import annotations

import sys
from pathlib import Path

# The R x F map of core.segments.rfm.DEFAULT_RFM_MAP, restated so no peer imports Loyalist.
RF_MAP = (
    ("Champions", (5, 5), (4, 5)), ("Loyal", (3, 4), (4, 5)),
    ("Potential Loyalists", (4, 5), (2, 3)), ("New", (5, 5), (1, 1)),
    ("Promising", (4, 4), (1, 1)), ("Need Attention", (3, 3), (3, 3)),
    ("About to Sleep", (3, 3), (1, 2)), ("At Risk", (1, 2), (3, 4)),
    ("Can't Lose Them", (1, 2), (5, 5)), ("Hibernating", (1, 2), (1, 2)),
)
# score: the metric's own key first, then the other two ("better" first), then customer_id
SCORE_KEYS = {"r_score": ("r", "f", "m"), "f_score": ("f", "m", "r"), "m_score": ("m", "f", "r")}


def map_rows() -> list[tuple[int, int, str]]:
    return [(r, f, name) for name, (r0, r1), (f0, f1) in RF_MAP
            for r in range(r0, r1 + 1) for f in range(f0, f1 + 1)]


def polars_rfm(source: Path, out: Path, streaming: bool = False) -> None:
    import polars as pl

    if source.suffix == ".csv":
        tx = pl.scan_csv(source, schema_overrides={"customer_id": pl.String, "order_date": pl.Date})
    else:
        tx = pl.scan_parquet(source)
    tx = tx.select("customer_id", "order_date", "amount").filter(pl.col("customer_id").is_not_null())
    as_of = pl.col("order_date").max()
    buy_date = pl.when(pl.col("amount") > 0).then(pl.col("order_date"))
    table = (
        tx.with_columns(_as_of=as_of, _buy=buy_date)
        .group_by("customer_id")
        .agg(recency_days=(pl.col("_as_of").first() - pl.col("_buy").max()).dt.total_days(),
             frequency=pl.col("_buy").drop_nulls().n_unique(),
             monetary=pl.col("amount").sum().round(2))
        .collect(engine="streaming" if streaming else "auto")
    )
    good = {"r": -pl.col("recency_days").fill_null(2**62), "f": pl.col("frequency"),
            "m": pl.col("monetary")}
    n = table.height
    for score, keys in SCORE_KEYS.items():
        rank = pl.int_range(n, dtype=pl.Int64)
        table = (table.sort([good[k] for k in keys] + [pl.col("customer_id")])
                 .with_columns((rank * 5 // n + 1).cast(pl.Int8).alias(score)))
    lookup = pl.DataFrame(map_rows(), schema={"r_score": pl.Int8, "f_score": pl.Int8,
                                              "segment": pl.String}, orient="row")
    table.sort("customer_id").join(lookup, on=["r_score", "f_score"], how="left") \
        .write_parquet(out)


def pandas_rfm(source: Path, out: Path) -> None:
    import numpy as np
    import pandas as pd

    tx = pd.read_parquet(source, columns=["customer_id", "order_date", "amount"])
    tx = tx[tx["customer_id"].notna()]
    as_of = pd.Timestamp(tx["order_date"].max())
    buys = tx[tx["amount"] > 0]
    by = buys.groupby("customer_id")["order_date"]
    table = pd.DataFrame({"monetary": tx.groupby("customer_id")["amount"].sum().round(2)})
    table = table.join(pd.DataFrame({"last": by.max(), "frequency": by.nunique()}))
    table["recency_days"] = (as_of - pd.to_datetime(table["last"])).dt.days
    table["frequency"] = table["frequency"].fillna(0).astype("int64")
    table = table.drop(columns="last").reset_index()
    n = len(table)
    good = pd.DataFrame({"r": -table["recency_days"].fillna(2**62), "f": table["frequency"],
                         "m": table["monetary"], "customer_id": table["customer_id"]})
    for score, keys in SCORE_KEYS.items():
        order = good.sort_values([*keys, "customer_id"]).index.to_numpy()
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        table[score] = (rank * 5 // n + 1).astype("int8")
    lookup = pd.DataFrame(map_rows(), columns=["r_score", "f_score", "segment"]).astype(
        {"r_score": "int8", "f_score": "int8"})
    table.merge(lookup, on=["r_score", "f_score"], how="left") \
        .sort_values("customer_id").to_parquet(out, index=False)


def duckdb_rfm(source: Path, out: Path) -> None:
    import duckdb

    rows = ", ".join(f"({r}, {f}, '{name.replace(chr(39), chr(39) * 2)}')" for r, f, name in map_rows())
    score = {name: f"((row_number() OVER (ORDER BY {', '.join(keys)}, customer_id) - 1) * 5 // n + 1)"
             for name, keys in SCORE_KEYS.items()}
    duckdb.sql(f"""
        COPY (
          WITH tx AS (SELECT customer_id, order_date, amount FROM read_parquet('{source}')
                      WHERE customer_id IS NOT NULL),
          per AS (
            SELECT customer_id,
                   date_diff('day', max(order_date) FILTER (WHERE amount > 0),
                             (SELECT max(order_date) FROM tx)) AS recency_days,
                   count(DISTINCT order_date) FILTER (WHERE amount > 0) AS frequency,
                   round(sum(amount), 2) AS monetary
            FROM tx GROUP BY customer_id),
          good AS (SELECT *, -coalesce(recency_days, 4611686018427387904) AS r,
                          frequency AS f, monetary AS m, count(*) OVER () AS n FROM per),
          scored AS (SELECT customer_id, recency_days, frequency, monetary,
                            {score['r_score']} AS r_score, {score['f_score']} AS f_score,
                            {score['m_score']} AS m_score FROM good),
          rf(r_score, f_score, segment) AS (VALUES {rows})
          SELECT scored.*, rf.segment FROM scored LEFT JOIN rf USING (r_score, f_score)
          ORDER BY customer_id
        ) TO '{out}' (FORMAT parquet)""")


def polars_streaming_rfm(source: Path, out: Path) -> None:
    polars_rfm(source, out, streaming=True)


PEERS = {"polars": polars_rfm, "polars-csv": polars_rfm, "pandas": pandas_rfm, "duckdb": duckdb_rfm,
         "polars-streaming": polars_streaming_rfm}


def main() -> None:
    name, workspace, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    source = workspace / ("transactions.csv" if name == "polars-csv" else "transactions.parquet")
    PEERS[name](source, out)


if __name__ == "__main__":
    main()
