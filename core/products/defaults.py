"""ALS's defaults, declared once for the registry's options and the recommender (no heavy
imports: the CLI reads them at start-up). Chosen as the best NDCG@10 of a grid on the
sample's earlier split, not on the split `products evaluate` reports (core.products.tuning)."""

ALS_FACTORS = 8
ALS_REGULARIZATION = 0.1
