"""`loyalist segment rfm|kmeans|quadrant|profile|migrate`: customer segments.

The commands are made from the registry (core/registry/catalog/segment.py, run by
core/segments/run.py). Each reduces the workspace's transactions (with customers,
touchpoints and survey when present) to one row of features per customer as of --as-of
(core.features), runs one segmentation and prints its segments.

Output: `--format table` and `--format json` show the summary tables; the per-customer
table is left out of them (it can have a million rows). `--format csv` prints the
per-customer table and `--output FILE` writes it (.csv, .tsv, .parquet, .ndjson: one row
per customer with customer_id, the features used and the segment; .json, .xlsx, .html,
.md: every table). JSON keys are stable: name, title, params, headline, tables, notes;
tables.segments has one object per segment with segment (its name), customers,
customer_share, revenue, revenue_share, recency_mean, frequency_mean and monetary_mean
(plus rule for rfm, cluster for kmeans, top_channels for profile).
"""

from __future__ import annotations

import typer

from commands.analysis import add_analysis_commands

app = typer.Typer(no_args_is_help=True)
add_analysis_commands(app, "segment")
