"""`loyalist scale ...`: a loyalty scale's reliability, scores and validity, from a spec file."""

from __future__ import annotations

from core.registry.catalog import AS_OF
from core.registry.model import Analysis, Group, register, register_group
from core.registry.options import CHOICE, FLOAT, INT, PATH, Option

register_group(Group("scale", "Scale", "Build, check and score loyalty scales."))

SPEC = Option("spec", PATH, required=True, flags=("--spec", "-s"), title="Scale spec",
              help="Scale spec (TOML); `loyalist scale init` writes one")
TABLES = ("customers", "touchpoints", "survey")

register(Analysis(
    "scale.check", "Scale reliability", "Reliability (alpha with CI, item-total, alpha if deleted, omega), "
    "weights and sensitivity", run="core.scale.run:check_spec_file", uses=TABLES, noun="scale check",
    options=(
        SPEC,
        Option("missing", CHOICE, choices=("pairwise", "listwise", "impute_median"),
               help="Missing-data policy; empty: the spec's, else pairwise"),
        Option("ci", CHOICE, "feldt", choices=("feldt", "bootstrap"), help="Confidence interval for alpha"),
        Option("level", FLOAT, 0.95, low=0.5, high=0.999, help="Confidence level"),
        Option("n_boot", INT, 1000, low=100, help="Bootstrap resamples (with ci = bootstrap)"),
        Option("seed", INT, 0, help="Bootstrap seed"),
        AS_OF,
    ),
))
register(Analysis(
    "scale.score", "Scale scores", "0-100 score and tier per customer (customer_id, each normalised item, "
    "score and tier)", run="core.scale.run:score_spec_file", uses=TABLES, long=("scores",), noun="scale scores",
    options=(SPEC, AS_OF),
))
register(Analysis(
    "scale.validate", "Scale validity", "Item correlations, factor analysis (KMO, Bartlett, loadings rotated by "
    "varimax, oblimin or promax, factor correlations) "
    "and criterion validity: AUC and buying rate by score decile over the spec's outcome_days",
    run="core.scale.run:validate_spec_file", uses=TABLES, noun="scale validation",
    options=(SPEC, Option("factors", INT, low=1, help="Number of factors; empty: eigenvalues above 1"),
             Option("rotation", CHOICE, "varimax", choices=("varimax", "oblimin", "promax", "none"),
                    help="Factor rotation; oblimin and promax let the factors correlate"),
             AS_OF),
))
