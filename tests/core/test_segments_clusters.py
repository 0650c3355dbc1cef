"""K-Means clusters: recovery of separated groups, k by silhouette, stable order and names."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import adjusted_rand_score

from core.errors import AnalysisError, InputError
from core.segments.clusters import CustomerClusters, kmeans_segments, parse_feature


def _blobs(seed: int = 0, per_group: int = 60) -> tuple[pl.DataFrame, np.ndarray]:
    """Three customer groups far apart on the log scale the default features use."""
    rng = np.random.default_rng(seed)
    groups = [  # (recency days, purchase days, spend, channels)
        (5, 40, 5000.0, 3),  # recent, frequent, big spenders in three channels
        (60, 6, 400.0, 1),
        (600, 1, 30.0, 1),
    ]
    rows, truth = [], []
    for g, (rec, freq, spend, ch) in enumerate(groups):
        for i in range(per_group):
            jitter = np.exp(rng.normal(0, 0.15, 3))
            rows.append((f"g{g}-{i:03d}", int(rec * jitter[0]), max(1, int(freq * jitter[1])),
                         spend * jitter[2], ch))
            truth.append(g)
    frame = pl.DataFrame(rows, orient="row", schema={
        "customer_id": pl.String, "recency_days": pl.Int64, "frequency": pl.Int64,
        "monetary": pl.Float64, "n_channels": pl.Int64})
    order = rng.permutation(frame.height)  # no help from the row order
    return frame[order], np.asarray(truth)[order]


def test_recovers_separated_groups_and_chooses_k() -> None:
    frame, truth = _blobs()
    result = kmeans_segments(frame)
    labels = result.tables["customers"]["cluster"].to_numpy()
    assert adjusted_rand_score(truth, labels) == pytest.approx(1.0)
    scores = result.tables["k_scores"]
    assert scores["k"].to_list() == list(range(2, 9))
    assert scores.filter(pl.col("chosen"))["k"].item() == 3 == result.headline["k"]
    assert scores["silhouette"].arg_max() == 1  # k = 3 has the best silhouette


def test_clusters_ordered_by_value_and_named() -> None:
    frame, truth = _blobs()
    result = kmeans_segments(frame, k=3)
    summary = result.tables["segments"]
    assert summary["cluster"].to_list() == [1, 2, 3]
    assert summary["monetary_mean"].is_sorted(descending=True)
    names = summary["segment"].to_list()
    assert names[0].startswith("high value") and "multi-channel" in names[0]
    # At most the two most distinctive traits follow the value word.
    assert names[0] == "high value, multi-channel, frequent"
    assert names[2].startswith("low value") and "lapsed" in names[2]
    assert len(set(names)) == 3
    # Cluster 1 is the planted big-spender group (group 0).
    customers = result.tables["customers"]
    assert set(customers.columns) >= {"customer_id", "recency_days", "frequency", "monetary",
                                      "n_channels", "cluster", "segment"}
    assert (customers["cluster"].to_numpy()[truth == 0] == 1).all()
    assert result.tables["k_scores"].is_empty()


def test_deterministic_with_seed_and_stable_between_runs() -> None:
    frame, _ = _blobs(seed=4)
    first = kmeans_segments(frame, k=4, seed=11).tables["customers"]
    second = kmeans_segments(frame, k=4, seed=11).tables["customers"]
    assert first.equals(second)
    # A shuffled input gives the same cluster numbers and names to the same customers.
    shuffled = kmeans_segments(frame.sample(fraction=1.0, shuffle=True, seed=1), k=3, seed=11)
    plain = kmeans_segments(frame, k=3, seed=11)
    joined = plain.tables["customers"].join(shuffled.tables["customers"], on="customer_id")
    assert (joined["segment"] == joined["segment_right"]).all()


def test_minibatch_above_threshold() -> None:
    frame, truth = _blobs(per_group=80)
    model = CustomerClusters(k=3, minibatch_threshold=100).fit(frame)
    assert model.algorithm_ == "MiniBatchKMeans"
    assert adjusted_rand_score(truth, model.labels_) == pytest.approx(1.0)
    assert CustomerClusters(k=3).fit(frame).algorithm_ == "KMeans"


def test_missing_recency_is_imputed_and_noted() -> None:
    frame, _ = _blobs()
    frame = pl.concat([frame, pl.DataFrame(
        {"customer_id": ["only-returns"], "recency_days": [None], "frequency": [0],
         "monetary": [-20.0], "n_channels": [0]}, schema=frame.schema)])
    result = kmeans_segments(frame, k=3)
    row = result.tables["customers"].filter(pl.col("customer_id") == "only-returns")
    assert row["cluster"].item() == 3  # grouped with the lapsed, low-value customers
    assert any("recency_days (1 missing)" in n for n in result.notes)


def test_feature_specs_and_errors() -> None:
    assert parse_feature("log:monetary") == ("log", "monetary")
    assert parse_feature("n_channels") == (None, "n_channels")
    with pytest.raises(InputError, match="transform"):
        parse_feature("sqrt:monetary")
    frame, _ = _blobs()
    with pytest.raises(InputError, match="unknown feature"):
        kmeans_segments(frame, use=["log:spend"])
    with pytest.raises(InputError, match="not numbers"):
        kmeans_segments(frame.with_columns(last_channel=pl.lit("web")), use=["last_channel"])
    with pytest.raises(AnalysisError, match="do not vary"):
        kmeans_segments(frame.with_columns(n_channels=pl.lit(1)), k=3,
                        use=["log:monetary", "n_channels"])
    with pytest.raises(AnalysisError, match="too few"):
        kmeans_segments(frame.head(2))
    with pytest.raises(AnalysisError):
        kmeans_segments(frame.clear())


def test_default_features_without_channels() -> None:
    frame, _ = _blobs()
    result = kmeans_segments(frame.drop("n_channels"), k=3)
    assert result.params["features"] == ["log:recency_days", "log:frequency", "log:monetary"]
    assert any("channel" in n for n in result.notes)
    single = kmeans_segments(frame.with_columns(n_channels=pl.lit(1)), k=3)
    assert "n_channels" not in single.params["features"]


@pytest.mark.parametrize("k", [None, 3, 4])
def test_the_silhouette_headline_is_that_of_the_clustering_made(k) -> None:
    from sklearn.metrics import silhouette_score

    frame, _ = _blobs()
    model = CustomerClusters(k=k).fit(frame)  # 180 customers: the sample is all of them
    result = kmeans_segments(frame, k=k)
    labels = result.tables["customers"]["cluster"].to_numpy()
    x = model._design(frame)  # the standardised features K-Means saw
    assert result.headline["silhouette"] == pytest.approx(silhouette_score(x, labels), abs=1e-12)


def test_a_given_k_can_still_show_the_silhouette_of_every_k() -> None:
    frame, _ = _blobs()
    chosen = kmeans_segments(frame).tables["k_scores"]
    given = kmeans_segments(frame, k=4, score_k=True)
    scores = given.tables["k_scores"]
    assert scores["k"].to_list() == chosen["k"].to_list()
    assert scores["silhouette"].to_list() == pytest.approx(chosen["silhouette"].to_list())
    assert scores.filter(pl.col("chosen"))["k"].to_list() == [4] == [given.headline["k"]]
    assert given.tables["segments"].height == 4


def test_kmeans_on_a_workspace_clusters_as_on_the_full_customer_table(sample_copy) -> None:
    # The command reads only the features the model and summary use; the clusters must be
    # those of the full table, and a feature of an optional table must still be found.
    from core.registry import run_analysis
    from core.segments.run import customer_table
    from core.workspace import Workspace

    ws = Workspace.open(sample_copy)
    lean = run_analysis("segment.kmeans", ws, {"k": 3})
    full, day = customer_table(ws, None)
    direct = kmeans_segments(full, k=3, as_of=day)
    # (run_analysis rounds money to cents, so the assignments are compared, not the money)
    assigned = ["customer_id", "cluster", "segment"]
    assert lean.tables["customers"].select(assigned).equals(direct.tables["customers"].select(assigned))
    assert lean.tables["centers"].equals(direct.tables["centers"])
    engaged = run_analysis("segment.kmeans", ws, {"k": 3, "features": ["log:engagement", "log:monetary"]})
    assert engaged.params["features"] == ["log:engagement", "log:monetary"]
    assert "engagement" in engaged.tables["customers"].columns
