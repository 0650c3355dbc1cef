"""bench.engines' large workspaces: the base workspace repeated by DuckDB, each copy a new
set of customers and orders (ids prefixed), every row of the base in every copy."""

from __future__ import annotations

import polars as pl
import pytest

from bench.engines import replicate


def test_replicate_repeats_every_row_with_new_ids(tmp_path):
    pytest.importorskip("duckdb")
    base, out = tmp_path / "base", tmp_path / "out"
    base.mkdir()
    out.mkdir()
    tx = pl.DataFrame({"order_id": ["O1", "O1", "O2"], "customer_id": ["C1", "C1", "C2"],
                       "amount": [10.0, -2.5, 7.0]})
    tx.write_parquet(base / "transactions.parquet")
    pl.DataFrame({"customer_id": ["C1", "C2"], "region": ["N", "S"]}).write_parquet(base / "customers.parquet")
    replicate(str(base), str(out), 3)
    copied = pl.read_parquet(out / "transactions.parquet")
    assert copied.height == 9 and copied["customer_id"].n_unique() == 6
    assert sorted(copied.filter(pl.col("customer_id") == "R2-C1")["amount"].to_list()) == [-2.5, 10.0]
    assert set(copied["order_id"]) == {f"R{i}-O{j}" for i in range(3) for j in (1, 2)}
    customers = pl.read_parquet(out / "customers.parquet")
    assert customers.height == 6 and set(customers["region"]) == {"N", "S"}
    assert not list(out.glob("*.partial"))
