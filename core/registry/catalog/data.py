"""`loyalist data ...`: what a workspace holds and what is wrong with it."""

from __future__ import annotations

from core.registry.catalog import AS_OF, ENGINE
from core.registry.model import Analysis, Group, register, register_group

register_group(Group("data", "Data", "Inspect and validate a workspace's tables."))

register(Analysis(
    "data.inspect", "Workspace tables", "Tables found, files, row counts, date ranges, and each column's "
    "mapping and dtype", run="core.inspect:inspect_workspace", needs=(),
))
register(Analysis(
    "data.validate", "Data quality", "Errors and warnings with table, column, rule, count, first rows and a "
    "fix (exit 2 on errors)", run="core.validate:validation_result", needs=(), options=(AS_OF, ENGINE),
))
