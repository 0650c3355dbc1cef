"""`loyalist products ...`: association rules, recommendations, their evaluation and cross-sell
(core.products)."""

from __future__ import annotations

from core.products.defaults import ALS_FACTORS, ALS_REGULARIZATION
from core.registry.catalog import AS_OF, CONFIDENCE, SINCE
from core.registry.model import Analysis, Group, When, register, register_group
from core.registry.options import CHOICE, DATE, FLOAT, INT, LIST, TEXT, Option

register_group(Group("products", "Products", "Association rules, recommendations, their evaluation and "
                     "cross-sell.", screen="reports"))

BY = Option("by", TEXT, help="Per segment: rfm, kmeans, quadrant or a customers column such as tier; empty: "
            "overall")
BY_QUADRANT = When("by", "quadrant", needs=("touchpoints",))
METHOD_CHOICES = ("item_item", "als", "popularity")
SIMILARITY = Option("similarity", CHOICE, "cosine", choices=("cosine", "lift"),
                    help="Item-item similarity of two products' buyers")
NEIGHBOURS = Option("neighbours", INT, 50, low=1, help="Item-item: the most similar products kept per product")
FACTORS = Option("factors", INT, ALS_FACTORS, low=1, high=512,
                 help="ALS: latent factors (tastes) per customer and product "
                 "(the default was chosen on an earlier split than the one evaluated)")
REGULARIZATION = Option("regularization", FLOAT, ALS_REGULARIZATION, low=0.0,
                        help="ALS: how strongly the factors are pulled "
                        "towards 0 (larger: fewer, broader tastes)")

register(Analysis(
    "products.rules", "Association rules", "Products (or categories) bought together: support, confidence, "
    "lift, leverage and conviction, overall or per segment", run="core.products.rules:rules",
    uses=("customers",), when=(BY_QUADRANT,), noun="association rules",
    options=(
        Option("level", CHOICE, "product", choices=("product", "category"),
               help="Mine rules between products or categories"),
        Option("window_days", INT, low=1, title="Window days", help="Basket = a customer's purchases within this "
               "many days; empty: one order"),
        Option("min_support", FLOAT, 0.001, low=0.0, high=1.0, help="Smallest share of baskets a rule's "
               "products must be in together"),
        Option("min_confidence", FLOAT, 0.05, low=0.0, high=1.0, help="Smallest share of the baskets with the "
               "first side that hold the second"),
        Option("min_lift", FLOAT, 1.0, low=0.0, help="Smallest lift (1 = no more often than by chance)"),
        Option("max_size", INT, 2, low=2, high=6, help="Most products in a rule (both sides)"),
        BY,
        Option("top", INT, 200, low=0, help="Rules listed, highest lift first (0 = all)"),
        AS_OF, SINCE,
    ),
))
register(Analysis(
    "products.recommend", "Recommendations", "Top-n products each customer has not bought yet, with the reason "
    "(item-item, ALS or best sellers)", run="core.products.recommend:recommend", noun="recommendations",
    long=("recommendations",),
    options=(
        Option("method", CHOICE, "item_item", choices=METHOD_CHOICES,
               help="item_item (bought together), als (matrix factorisation) or popularity (best sellers)"),
        Option("n", INT, 10, low=1, high=100, flags=("--top", "-n"), title="Top", help="Products per customer"),
        Option("customers", LIST, flags=("--customer", "-c"), repeat=True, sample='["C000001"]',
               help="Only these customer_ids; empty: everyone"),
        SIMILARITY, NEIGHBOURS, FACTORS, REGULARIZATION, AS_OF, SINCE,
    ),
))
register(Analysis(
    "products.evaluate", "Recommender evaluation", "Do the recommenders beat the best sellers? Precision, "
    "recall, MAP, NDCG, hit rate, coverage and novelty on a time split", run="core.products.evaluate:evaluate",
    uses=("customers",), when=(BY_QUADRANT,), noun="recommender evaluation", long=("customers",),
    options=(
        Option("train_until", DATE, help="Last day of the training purchases; empty: the last date minus "
               "the test days"),
        Option("test_days", INT, 90, low=1, help="Days after the split whose new purchases are the test"),
        Option("k", INT, 10, low=1, high=100, flags=("--k",), help="Recommendations scored per customer"),
        Option("methods", LIST, flags=("--method", "-m"), repeat=True, sample='["item_item", "als"]',
               help="item_item, als, popularity; empty: all three (popularity is always included)"),
        BY, SIMILARITY, NEIGHBOURS, FACTORS, REGULARIZATION, CONFIDENCE, AS_OF,
    ),
))
register(Analysis(
    "products.cross_sell", "Cross-sell", "Next-best products for the buyers of a product or for a segment, "
    "with their uplift and the audience to target", run="core.products.cross_sell:cross_sell",
    command="cross-sell", uses=("customers",), when=(BY_QUADRANT,), noun="cross-sell",
    per_customer=("audience",),
    options=(
        Option("product", TEXT, help="The product whose buyers are the group; empty: the best seller's "
               "(unless a segment is given)"),
        BY,
        Option("segment", TEXT, help="The segment of --by that is the group"),
        Option("n", INT, 10, low=1, high=100, flags=("--top", "-n"), title="Top", help="Products listed"),
        AS_OF, SINCE,
    ),
))
