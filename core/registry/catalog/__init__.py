"""The declarations: one module per command group, each registering its group and analyses.

Options several analyses share are declared once here.
"""

from __future__ import annotations

from core.registry.options import CHOICE, DATE, FLOAT, Option

AS_OF = Option("as_of", DATE, help="Use data dated on or before this day (inclusive); empty: the last "
               "transaction date", title="As of")
CONFIDENCE = Option("confidence", FLOAT, 0.95, low=0.5, high=0.999, help="Confidence level of intervals and tests")
DISCOUNT_RATE = Option("discount_rate", FLOAT, 0.10, low=0.0, high=0.999,
                       help="Annual discount rate of future value, as a fraction (0.1 = 10%)")
# Where the per-customer reduction runs (core.engines; its ENGINES, repeated here so listing
# analyses imports no Polars).
ENGINE = Option("engine", CHOICE, choices=("polars", "duckdb", "postgres", "spark", "auto"),
                help="Where transactions are reduced to one row per customer: polars here, or duckdb, postgres or "
                "spark where the data is (only the per-customer table comes back); auto: duckdb for files larger "
                "than the memory budget; empty: polars for files, the database's own engine for a database table")
SINCE = Option("since", DATE, flags=("--from",), title="From",
               help="First day to include (YYYY-MM-DD); empty: from the start")
