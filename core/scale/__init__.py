"""Loyalty scale builder: spec, reliability, validity, weights, scores and tiers.

Functions work on a Polars DataFrame with customer_id and item columns (survey answers
joined with per-customer features); `core.scale.data` builds that table from a workspace.
"""

from core.scale.build import check, merge, reliability_of, validate, weight_map, weights
from core.scale.items import normalise_items
from core.scale.reliability import alpha_from_cov, feldt_ci, reliability, standardised_alpha
from core.scale.score import score
from core.scale.spec import ItemSpec, ScaleSpec, SpecError, TierSpec, init_spec, load_spec, parse_spec
from core.scale.validity import auc, criterion_validity, efa, later_activity
from core.scale.weights import data_weights, delphi, kendalls_w, sensitivity

__all__ = [
    "ItemSpec", "ScaleSpec", "SpecError", "TierSpec", "alpha_from_cov", "auc", "check", "merge",
    "reliability_of",
    "criterion_validity", "data_weights", "delphi", "efa", "feldt_ci", "init_spec",
    "kendalls_w", "later_activity", "load_spec", "normalise_items", "parse_spec",
    "reliability", "score", "sensitivity", "standardised_alpha", "validate", "weight_map",
    "weights",
]
