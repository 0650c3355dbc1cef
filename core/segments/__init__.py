"""Customer segmentations on the per-customer feature table (core.features).

Every segmentation returns a core.result.Result whose first table, "customers", has one
row per customer (customer_id, the features used, segment) and whose "segments" table
summarises each segment (columns in SUMMARY_COLUMNS).

Names are imported on first use, so `import core.segments.rfm` does not load
scikit-learn (only the clusters need it) and the CLI starts fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CustomerClusters": "clusters", "kmeans_segments": "clusters",
    "migration_between": "migration", "segment_migration": "migration",
    "SUMMARY_COLUMNS": "profile", "compare_segments": "profile",
    "segment_profile": "profile", "segment_summary": "profile",
    "QUADRANTS": "quadrants", "quadrant_segments": "quadrants",
    "DEFAULT_RFM_MAP": "rfm", "METHODS": "rfm", "parse_rfm_map": "rfm",
    "rfm_scores": "rfm", "rfm_segments": "rfm",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'core.segments' has no attribute {name!r}")
    return getattr(importlib.import_module(f"core.segments.{_EXPORTS[name]}"), name)
