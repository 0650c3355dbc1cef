"""K-Means clusters on transformed, standardised customer features.

Features are given as specs: "log:monetary" (signed log1p, for skewed counts and money)
or a plain column name. Missing values are imputed (recency: the largest recency, since a
customer without a purchase is the least recent; anything else: the median) and each
feature is standardised to mean 0, sd 1. With no k given, k is chosen by the silhouette
score on a random sample. Above `minibatch_threshold` customers MiniBatchKMeans is used.
Clusters are ordered by mean net spend (cluster 1 = highest value) and named from their
centres, so numbers and names are stable between runs with the same seed.

scikit-learn is imported when a model is fitted, not with this module: it is slow to
import, and from 1.9 it imports Rich (for progress bars) when Rich is installed, which
core must not load (tests/test_layers.py).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence

import numpy as np
import polars as pl

from core.errors import AnalysisError, InputError
from core.features import is_channel_feature
from core.progress import step
from core.result import Chart, Result
from core.segments.profile import segment_summary, summary_charts

DEFAULT_FEATURES = ("log:recency_days", "log:frequency", "log:monetary", "n_channels")
TRANSFORMS = ("log",)
# |standardised centre| from which a feature characterises a cluster in its name.
NAME_THRESHOLD = 0.5

_TRAITS: dict[str, tuple[str, str]] = {  # column: (name when high, name when low)
    "recency_days": ("lapsed", "recent"),
    "frequency": ("frequent", "infrequent"),
    "orders": ("frequent", "infrequent"),
    "engagement": ("engaged", "unengaged"),
    "aov": ("big baskets", "small baskets"),
    "return_rate": ("returns a lot", "few returns"),
    "tenure_days": ("long-standing", "newer"),
    "t_days": ("long-standing", "newer"),
}


def parse_feature(spec: str) -> tuple[str | None, str]:
    """'log:monetary' -> ('log', 'monetary'); 'n_channels' -> (None, 'n_channels')."""
    transform, _, column = spec.rpartition(":")
    if transform and transform not in TRANSFORMS:
        raise InputError(f"unknown transform {transform!r} in feature {spec!r}",
                         fix="write log:COLUMN or COLUMN")
    return (transform or None), column


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


class CustomerClusters:
    """K-Means on customer features, scikit-learn style: fit(features) returns self.

    Learned: features_ (specs used), k_, k_scores_ (k, silhouette; empty if k given, unless
    score_k asks for the silhouette of every k in k_range beside the given one),
    silhouette_ (of the final clustering, on a sample of at most sample_size customers),
    labels_ (0-based, 0 = highest mean spend), names_, centers_ (standardised, ordered),
    mean_, scale_ (of the transformed features), imputed_ (column -> values filled),
    algorithm_ ("KMeans" or "MiniBatchKMeans").
    """

    def __init__(
        self,
        features: Sequence[str] = DEFAULT_FEATURES,
        k: int | None = None,
        k_range: tuple[int, int] = (2, 8),
        sample_size: int = 2_000,
        seed: int = 0,
        minibatch_threshold: int = 100_000,
        n_init: int = 4,
        score_k: bool = False,
    ) -> None:
        self.features = tuple(features)
        self.k = k
        self.k_range = k_range
        self.sample_size = sample_size
        self.seed = seed
        self.minibatch_threshold = minibatch_threshold
        self.n_init = n_init
        self.score_k = score_k

    def fit(self, features: pl.DataFrame) -> CustomerClusters:
        from sklearn.exceptions import ConvergenceWarning
        from threadpoolctl import threadpool_limits

        x = self._design(features)
        n = len(x)
        if self.k is not None and not 2 <= self.k <= 50:
            raise InputError(f"k = {self.k} is out of range", fix="pass --k between 2 and 50")
        distinct = len(np.unique(x, axis=0)) if n <= 200_000 else n
        k_max = min(self.k_range[1], distinct - 1)
        if n < 3 or (self.k is not None and self.k > distinct) or (self.k is None and k_max < 2):
            raise AnalysisError(f"too few distinct customers ({distinct}) to form clusters")
        rng = np.random.default_rng(self.seed)
        if self.k is None:
            self.k_, self.k_scores_ = self._choose_k(x, rng, k_max)
        elif self.score_k:  # the analyst chose k: still show how every k in the range does
            _, scores = self._choose_k(x, rng, k_max)
            self.k_, self.k_scores_ = self.k, scores.with_columns(chosen=pl.col("k") == self.k)
        else:
            self.k_, self.k_scores_ = self.k, pl.DataFrame(
                schema={"k": pl.Int64, "silhouette": pl.Float64, "chosen": pl.Boolean})
        model = self._model(self.k_, n)
        # One thread here too: K-Means' OpenMP threads spin while they wait, so on two cores
        # at 75k customers two threads cost a third more CPU than one, for the same clusters.
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("error", ConvergenceWarning)
            try:
                raw_labels = model.fit_predict(x)
            except ConvergenceWarning as warning:
                raise AnalysisError(f"K-Means did not converge: {warning}") from None
        self.algorithm_ = type(model).__name__
        self.silhouette_ = self._silhouette(x, raw_labels, rng)
        self._order_and_name(features, x, raw_labels, model.cluster_centers_)
        return self

    def _silhouette(self, x: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> float | None:
        """Silhouette of the clustering made, on a seeded sample of at most sample_size
        customers (it is quadratic); None with a single cluster."""
        from sklearn.metrics import silhouette_score

        if len(np.unique(labels)) < 2:
            return None
        rows = np.arange(len(x)) if len(x) <= self.sample_size else rng.choice(len(x), self.sample_size,
                                                                                replace=False)
        if len(np.unique(labels[rows])) < 2:
            return None
        return float(silhouette_score(x[rows], labels[rows]))

    def _design(self, features: pl.DataFrame) -> np.ndarray:
        if features.is_empty():
            raise AnalysisError("no customers to cluster")
        specs = [parse_feature(s) for s in self.features]
        absent = [c for _, c in specs if c not in features.columns]
        if absent and all(is_channel_feature(c) for c in absent):
            raise InputError(f"{', '.join(absent)} need channels, and no transaction has one", file="transactions",
                             column="channel", fix="fill the channel column (or map another column as channel in "
                                                   "loyalist.toml), or leave these features out")
        if absent:
            raise InputError(f"unknown feature(s) {', '.join(absent)}",
                             fix="choose from: " + ", ".join(
                                 c for c, t in features.schema.items() if t.is_numeric()))
        text = [c for _, c in specs
                if not (features.schema[c].is_numeric() or features.schema[c] == pl.Boolean)]
        if text:
            raise InputError(f"feature(s) {', '.join(text)} are not numbers", column=text[0],
                             fix="choose numeric features, e.g. log:monetary or n_channels")
        columns, self.imputed_ = [], {}
        for transform, column in specs:
            values = features[column].cast(pl.Float64)
            if values.null_count() == len(values):
                raise AnalysisError(f"feature {column} has no values")
            if values.null_count():
                self.imputed_[column] = values.null_count()
                fill = values.max() if column == "recency_days" else values.median()
                values = values.fill_null(fill)
            arr = values.to_numpy()
            columns.append(_signed_log(arr) if transform == "log" else arr)
        x = np.column_stack(columns)
        self.mean_ = x.mean(axis=0)
        self.scale_ = x.std(axis=0)
        constant = [s for s, sd in zip(self.features, self.scale_) if sd == 0]
        if constant:
            raise AnalysisError(f"feature(s) {', '.join(constant)} do not vary, so they cannot "
                                "separate clusters; leave them out")
        self.features_ = list(self.features)
        self.columns_ = [c for _, c in specs]
        return (x - self.mean_) / self.scale_

    def _model(self, k: int, n: int):
        from sklearn.cluster import KMeans, MiniBatchKMeans

        if n > self.minibatch_threshold:
            return MiniBatchKMeans(n_clusters=k, random_state=self.seed, n_init=self.n_init,
                                   batch_size=4096)
        return KMeans(n_clusters=k, random_state=self.seed, n_init=self.n_init)

    def _choose_k(self, x: np.ndarray, rng: np.random.Generator, k_max: int):
        from sklearn.cluster import KMeans
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.metrics import silhouette_score
        from threadpoolctl import threadpool_limits

        sample = x if len(x) <= self.sample_size else x[rng.choice(len(x), self.sample_size,
                                                                   replace=False)]
        k_max = min(k_max, len(np.unique(sample, axis=0)) - 1)
        scores = []
        ks = range(max(2, self.k_range[0]), k_max + 1)
        for done, k in enumerate(ks):
            step(f"trying {k} clusters", done, len(ks))
            # One thread: on a small sample, thread start-up costs more than it saves.
            with warnings.catch_warnings(), threadpool_limits(1):
                warnings.simplefilter("ignore", ConvergenceWarning)
                labels = KMeans(n_clusters=k, random_state=self.seed,
                                n_init=self.n_init).fit_predict(sample)
                if len(np.unique(labels)) < 2:
                    continue
                scores.append((k, float(silhouette_score(sample, labels))))
        if not scores:
            raise AnalysisError("no k in the range gives at least two clusters on this data")
        best = max(scores, key=lambda s: (s[1], -s[0]))[0]
        return best, pl.DataFrame(
            {"k": [k for k, _ in scores], "silhouette": [s for _, s in scores],
             "chosen": [k == best for k, _ in scores]},
            schema={"k": pl.Int64, "silhouette": pl.Float64, "chosen": pl.Boolean})

    def _order_and_name(self, features: pl.DataFrame, x: np.ndarray, raw: np.ndarray,
                        centers: np.ndarray) -> None:
        k = len(centers)
        monetary = features["monetary"].cast(pl.Float64).fill_null(0).to_numpy()
        counts = np.bincount(raw, minlength=k)
        spend = np.bincount(raw, weights=monetary, minlength=k) / np.maximum(counts, 1)
        # Highest mean spend first; the centre breaks exact ties so the order is total.
        order = np.lexsort((centers[:, 0], -spend))
        relabel = np.empty(k, dtype=np.int64)
        relabel[order] = np.arange(k)
        self.labels_ = relabel[raw]
        self.centers_ = centers[order]
        log_spend = _signed_log(monetary)
        value_z = (np.bincount(raw, weights=log_spend, minlength=k) / np.maximum(counts, 1)
                   - log_spend.mean()) / (log_spend.std() or 1.0)
        channel_means = None
        if "n_channels" in features.columns:
            nch = features["n_channels"].cast(pl.Float64).fill_null(0).to_numpy()
            channel_means = (np.bincount(raw, weights=nch, minlength=k) / np.maximum(counts, 1))[order]
        self.names_ = _unique(
            [self._name(self.centers_[i], value_z[order][i],
                        None if channel_means is None else channel_means[i]) for i in range(k)])

    def _name(self, center: np.ndarray, value_z: float, channels: float | None) -> str:
        value = ("high value" if value_z >= NAME_THRESHOLD else
                 "low value" if value_z <= -NAME_THRESHOLD else "mid value")
        traits = []
        for column, z in zip(self.columns_, center):
            if column == "monetary" or abs(z) < NAME_THRESHOLD:
                continue
            if column == "n_channels" and channels is not None:
                word = "multi-channel" if channels >= 1.5 else "single-channel"
            elif column in _TRAITS:
                word = _TRAITS[column][0 if z > 0 else 1]
            else:
                word = f"{'high' if z > 0 else 'low'} {column}"
            traits.append((abs(z), word))
        words = [w for _, w in sorted(traits, key=lambda t: -t[0])]
        return ", ".join(dict.fromkeys([value, *words[:2]]))


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


# Features every customer table has, whatever the optional tables and columns.
_ALWAYS = ("customer_id", "first_purchase", "last_purchase", "recency_days", "frequency", "orders",
           "monetary", "gross_spend", "returns_value", "aov", "tenure_days", "t_days", "mean_ipt_days",
           "return_rate", "inactivity_threshold_days", "active")


def kmeans_columns(use: Sequence[str], has_channel: bool) -> list[str] | None:
    """The customer-table columns kmeans_segments reads for these feature specs, so the
    other features are never aggregated; None (every column) when a spec names a column
    that may be absent, so the error for an unknown feature can list every choice."""
    wanted = ["customer_id", *(parse_feature(spec)[1] for spec in use), "recency_days", "frequency",
              "monetary", *(["n_channels"] if has_channel else [])]
    present = (*_ALWAYS, *(("n_channels", "multi_channel") if has_channel else ()))
    return list(dict.fromkeys(wanted)) if all(c in present for c in wanted) else None


def kmeans_segments(
    features: pl.DataFrame,
    *,
    use: Sequence[str] = DEFAULT_FEATURES,
    k: int | None = None,
    k_range: tuple[int, int] = (2, 8),
    sample_size: int = 2_000,
    seed: int = 0,
    minibatch_threshold: int = 100_000,
    as_of: dt.date | None = None,
    score_k: bool = False,
) -> Result:
    """Result "segment.kmeans": tables customers (customer_id, features used, cluster,
    segment), segments (cluster + SUMMARY_COLUMNS), centers (standardised centres) and
    k_scores (k, silhouette, chosen; empty when k is given, unless score_k: then the
    silhouette of every k in k_range, the given k marked chosen)."""
    use = list(use)
    notes = []
    if use == list(DEFAULT_FEATURES):
        # The defaults adapt to the data; features the user names are used as given.
        if "n_channels" not in features.columns:
            use.remove("n_channels")
            notes.append("no channel in the transactions, so channel count is left out of the default features")
        elif features["n_channels"].n_unique() == 1:
            use.remove("n_channels")
            notes.append("every customer bought in the same number of channels, so channel "
                         "count is left out of the default features")
    model = CustomerClusters(use, k=k, k_range=k_range, sample_size=sample_size, seed=seed,
                             minibatch_threshold=minibatch_threshold, score_k=score_k).fit(features)
    columns = list(dict.fromkeys(["customer_id", *model.columns_,
                                  "recency_days", "frequency", "monetary"]))
    names = np.array(model.names_)
    assigned = features.select(columns).with_columns(
        cluster=pl.Series(model.labels_ + 1, dtype=pl.Int64),
        segment=pl.Series(names[model.labels_], dtype=pl.String),
    )
    summary = (segment_summary(assigned, model.names_)
               .with_columns(cluster=pl.int_range(1, model.k_ + 1, dtype=pl.Int64))
               .select("cluster", pl.exclude("cluster")))
    centers = pl.DataFrame(
        {"cluster": list(range(1, model.k_ + 1)), "segment": model.names_,
         **{spec: model.centers_[:, j] for j, spec in enumerate(model.features_)}})
    notes.append(f"{model.algorithm_} with k = {model.k_}"
                 + (" chosen by silhouette on a sample of "
                    f"{min(sample_size, features.height):,}" if k is None else " (given)")
                 + f", seed {seed}; features: {', '.join(model.features_)} "
                   "(log = sign(x) log(1 + |x|)), standardised"
                 + ("" if model.silhouette_ is None else
                    f"; silhouette {model.silhouette_:.3f} on {min(sample_size, features.height):,} customers"))
    if model.imputed_:
        notes.append("imputed: " + ", ".join(f"{c} ({n:,} missing)" for c, n in model.imputed_.items())
                     + "; recency by its maximum, others by the median")
    notes.append("clusters are numbered by mean net spend (1 = highest) and named from "
                 f"centres at least {NAME_THRESHOLD} sd from the mean")
    return Result(
        name="segment.kmeans",
        title=f"K-Means clusters ({assigned.height:,} customers, k = {model.k_}"
              + (f", as of {as_of.isoformat()})" if as_of else ")"),
        tables={"customers": assigned, "segments": summary, "centers": centers,
                "k_scores": model.k_scores_},
        headline={"customer_count": assigned.height, "k": model.k_,
                  "silhouette": model.silhouette_,
                  "algorithm": model.algorithm_},
        charts=(*summary_charts(),
                *((Chart("line", "Silhouette by k", "k_scores", x="k", y="silhouette"),)
                  if model.k_scores_.height else ())),
        params={"as_of": as_of, "features": model.features_, "k": k, "k_range": list(k_range),
                "sample_size": sample_size, "seed": seed,
                "minibatch_threshold": minibatch_threshold},
        notes=tuple(notes),
    )
