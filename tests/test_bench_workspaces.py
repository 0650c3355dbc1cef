"""The bench's sharded workspace (1M customers is generated in shards, then merged)."""

import polars as pl

from bench.workspaces import TABLES, merge_shards
from core.demo import write_workspace


def test_merged_shards_keep_every_table_and_link_ids(tmp_path):
    for i in range(2):
        write_workspace(str(tmp_path / "shards" / str(i)), customers=60, seed=7000 + i, fmt="parquet")
    merge_shards(str(tmp_path), 2)

    written = {p.stem for p in tmp_path.glob("*.parquet")}
    assert written == set(TABLES)  # the points ledger too, not only the six older tables
    customers = pl.read_parquet(tmp_path / "customers.parquet")["customer_id"]
    assert customers.n_unique() == 120  # shard prefixes keep the two shards' ids apart
    for table in ("transactions", "touchpoints", "survey", "points"):
        ids = pl.read_parquet(tmp_path / f"{table}.parquet")["customer_id"]
        assert ids.is_in(customers.implode()).all(), table
