"""`loyalist segment ...`: customer segments from per-customer features (core.segments.run)."""

from __future__ import annotations

from core.registry.catalog import AS_OF, ENGINE
from core.registry.model import Analysis, Group, When, register, register_group
from core.registry.options import CHOICE, DATE, FLOAT, INT, LIST, PATH, Option

register_group(Group("segment", "Segments", "RFM, clusters, loyalty quadrants, profiles, migration."))

FEATURE_TABLES = ("customers", "touchpoints", "survey")
BINS = Option("bins", INT, 5, low=3, high=5, help="RFM score bins: 3, 4 or 5")
METHOD = Option("method", CHOICE, "rank", choices=("rank", "midrank"),
                help="Quantile scoring: rank (equal bins, ties broken by the other RFM metrics) or midrank "
                "(ties share a score)")
BY = Option("by", CHOICE, "rfm", choices=("rfm", "kmeans", "quadrant"), help="The segmentation to use")
K = Option("k", INT, low=2, high=50, flags=("--k",), help="Clusters for by = kmeans; empty: chosen by silhouette")
SEED = Option("seed", INT, 0, help="Random seed (same seed, same clusters)")

register(Analysis(
    "segment.rfm", "RFM segments", "RFM scores by quantile and named segments (Champions, Loyal, ... Hibernating)",
    run="core.segments.run:rfm", per_customer=("customers",),
    options=(
        AS_OF, BINS, METHOD,
        Option("scheme", CHOICE, "map", choices=("map", "levels"),
               help="map: the 10-segment R x F map (editable in loyalist.toml, table segments.rfm_map); "
               "levels: high/mid/low value"),
        ENGINE,
    ),
))
register(Analysis(
    "segment.kmeans", "K-Means clusters", "K-Means clusters on standardised features, numbered by value and "
    "named from their profiles", run="core.segments.run:kmeans", uses=FEATURE_TABLES, per_customer=("customers",),
    options=(
        AS_OF,
        Option("features", LIST, sample='["log:monetary", "n_channels"]', help="Per-customer features, comma-separated; log:NAME takes sign(x) log(1 + |x|); "
               "empty: log:recency_days, log:frequency, log:monetary, n_channels"),
        Option("k", INT, low=2, high=50, flags=("--k",), help="Number of clusters; empty: chosen by silhouette"),
        Option("k_max", INT, 8, low=2, high=50, help="Largest k tried when choosing k"),
        Option("sample_size", INT, 2000, low=100, help="Customers sampled to choose k"),
        SEED,
        Option("minibatch_threshold", INT, 100_000, low=1, help="Use MiniBatchKMeans above this many customers"),
        ENGINE,
    ),
))
register(Analysis(
    "segment.quadrant", "Loyalty quadrants", "Loyalty quadrants: purchase frequency x engagement (active loyal, "
    "passive loyal, chasers, lapsed)", run="core.segments.run:quadrant", needs=("transactions", "touchpoints"),
    uses=("customers", "survey"), per_customer=("customers",), noun="loyalty quadrants",
    options=(
        AS_OF,
        Option("frequency_split", FLOAT, help="High frequency means above this many purchase days; empty: the median"),
        Option("engagement_split", FLOAT, help="High engagement means above this many touchpoints in 90 days; "
               "empty: the median"),
        ENGINE,
    ),
))
register(Analysis(
    "segment.profile", "Segment profiles", "Each segment's size, revenue share, feature means and medians, "
    "index (100 = average) and channels; or two segments compared", run="core.segments.run:profile",
    uses=FEATURE_TABLES, long=("features", "channels"), noun="segment profiles",
    when=(When("by", "quadrant", needs=("touchpoints",)), When("segments", drops=("touchpoints",))),
    options=(
        AS_OF, BY,
        Option("segments", PATH, flags=("--segments",), sample='"segments.csv"', title="Segments file",
               help="Profile these segments instead: a file with customer_id and segment columns (e.g. written "
               "by --output)"),
        Option("compare", LIST, repeat=True, sample='["Champions", "At Risk"]', help="Two segments to compare: --compare A --compare B "
               "(in a recipe: compare = [\"A\", \"B\"])"),
        BINS, K,
        Option("inactivity_days", INT, low=1, help="Lapsed after this many days without a purchase; empty: "
               "inactivity_multiple x the customer's mean inter-purchase time"),
        Option("inactivity_multiple", FLOAT, 3.0, low=0.1, help="Lapsed after this many mean inter-purchase times"),
        ENGINE,
    ),
))
register(Analysis(
    "segment.migrate", "Segment migration", "Segments at two dates and the transition matrix (counts and row "
    "shares) between them", run="core.segments.run:migrate", uses=FEATURE_TABLES,
    per_customer=("customers",), long=("transitions",), noun="segment migration",
    when=(When("by", "quadrant", needs=("touchpoints",)),),
    options=(
        AS_OF,
        Option("from_date", DATE, flags=("--from",), title="From",
               help="The earlier date (YYYY-MM-DD); empty: 180 days before the as-of date"),
        BY, BINS, METHOD, K, SEED,
    ),
))
