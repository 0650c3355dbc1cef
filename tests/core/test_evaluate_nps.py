"""NPS: the score, its interval (trinomial means) and breakdowns, against numpy and scipy."""

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import stats as st

from core.errors import AnalysisError, InputError, MissingTableError
from core.evaluate.nps import nps


def answers(counts, start=dt.date(2024, 1, 1), seed=0):
    """Survey with the given number of answers per NPS score (index = score 0-10)."""
    rng = np.random.default_rng(seed)
    scores = np.repeat(np.arange(11), counts)
    rng.shuffle(scores)
    n = scores.size
    return pl.DataFrame({
        "customer_id": [str(i) for i in range(n)],
        "response_date": [start + dt.timedelta(days=int(d)) for d in rng.integers(0, 90, n)],
        "nps": scores,
        "csat": rng.integers(1, 6, n),
    })


def trinomial(scores):
    return np.where(scores >= 9, 1.0, np.where(scores <= 6, -1.0, 0.0))


def test_nps_and_wald_interval_match_the_trinomial_mean():
    counts = [5, 2, 3, 4, 6, 8, 12, 20, 30, 25, 35]  # 150 answers
    survey = answers(counts)
    result = nps(survey.lazy())
    x = trinomial(survey["nps"].to_numpy())
    centre = 100 * x.mean()
    half = 100 * st.norm.ppf(0.975) * x.std(ddof=0) / np.sqrt(x.size)
    assert result.headline["responses"] == 150
    assert result.headline["promoters"] == pytest.approx(100 * 60 / 150)
    assert result.headline["detractors"] == pytest.approx(100 * 40 / 150)
    assert result.headline["nps"] == pytest.approx(centre)
    assert result.headline["nps_ci"] == pytest.approx((centre - half, centre + half))


def test_adjusted_wald_adds_three_quarters_to_promoters_and_detractors():
    counts = [1, 0, 0, 0, 0, 0, 1, 2, 3, 4, 4]  # 15 answers: 8 promoters, 2 detractors
    survey = answers(counts)
    result = nps(survey.lazy(), method="adjusted-wald", confidence=0.9)
    # Rocks (2016): n + 3, promoters + 3/4, detractors + 3/4, then the Wald interval.
    values = np.array([1.0, 0.0, -1.0])
    weights = np.array([8.75, 5 + 1.5, 2.75])
    mean = np.average(values, weights=weights)
    sd = np.sqrt(np.average((values - mean) ** 2, weights=weights))
    half = st.norm.ppf(0.95) * sd / np.sqrt(weights.sum())
    assert result.headline["nps"] == pytest.approx(100 * 6 / 15)  # the score itself is not adjusted
    assert result.headline["nps_ci"] == pytest.approx((100 * (mean - half), 100 * (mean + half)))
    assert any("Only 15" in n for n in result.notes)


def test_breakdowns_by_customer_segment_channel_and_month():
    survey = answers([10, 5, 5, 5, 5, 10, 10, 20, 20, 30, 30], seed=2)
    n = survey.height
    tiers = np.where(np.arange(n) % 3 == 0, "gold", "silver")
    customers = pl.LazyFrame({"customer_id": survey["customer_id"], "tier": tiers, "age": np.arange(n)})
    transactions = pl.LazyFrame({
        "customer_id": list(survey["customer_id"]) * 2,
        "order_date": [dt.date(2024, 1, 1)] * (2 * n),
        "amount": 1.0,
        "channel": ["web"] * n + ["store" if i % 2 else "web" for i in range(n)],
    })
    result = nps(survey.lazy(), customers, transactions)
    seg = result.tables["segments"]
    assert set(seg["dimension"]) == {"tier", "channel"}
    assert "age" not in seg.columns  # customer attributes are not survey scores
    gold = survey.filter(pl.Series(tiers == "gold"))["nps"].to_numpy()
    row = seg.filter((pl.col("dimension") == "tier") & (pl.col("group") == "gold")).row(0, named=True)
    assert row["responses"] == gold.size
    assert row["nps"] == pytest.approx(100 * trinomial(gold).mean())
    # Main channel: web for everybody (ties between web and store go alphabetically: store).
    channel = dict(zip(seg.filter(pl.col("dimension") == "channel")["group"],
                       seg.filter(pl.col("dimension") == "channel")["responses"]))
    assert channel == {"store": n // 2, "web": n - n // 2}
    monthly = result.tables["monthly"]
    months = survey.with_columns(pl.col("response_date").dt.strftime("%Y-%m").alias("m"))
    march = months.filter(pl.col("m") == "2024-03")["nps"].to_numpy()
    assert monthly.filter(pl.col("month") == "2024-03")["nps"][0] == pytest.approx(100 * trinomial(march).mean())
    assert monthly["responses"].sum() == n


def test_csat_and_other_scores_with_t_intervals():
    survey = answers([3] * 11, seed=5).with_columns(pl.Series("effort", np.arange(33) % 7 + 1.0))
    result = nps(survey.lazy(), by=())
    scores = {r["score"]: r for r in result.tables["scores"].iter_rows(named=True)}
    csat = survey["csat"].to_numpy().astype(float)
    lo, hi = st.t.interval(0.95, csat.size - 1, loc=csat.mean(), scale=st.sem(csat))
    assert (scores["csat"]["ci_low"], scores["csat"]["ci_high"]) == pytest.approx((lo, hi))
    assert scores["csat"]["top2_share"] == pytest.approx(100 * (csat >= 4).mean())
    assert result.headline["csat_top2"] == pytest.approx(100 * (csat >= 4).mean())
    assert scores["effort"]["mean"] == pytest.approx(survey["effort"].mean())
    dist = result.tables["distribution"]
    assert dist["responses"].to_list() == [3] * 11
    assert "segments" not in result.tables


def test_small_groups_are_flagged():
    survey = answers([2, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2])
    customers = pl.LazyFrame({"customer_id": survey["customer_id"], "region": ["north"] * 10 + ["south"] * 2})
    result = nps(survey.lazy(), customers, by=("region",), min_responses=5)
    flags = dict(zip(result.tables["segments"]["group"], result.tables["segments"]["small_sample"]))
    assert flags == {"north": False, "south": True}


def test_date_range_filters_answers():
    survey = answers([10] * 11)
    march = nps(survey.lazy(), since=dt.date(2024, 3, 1), as_of=dt.date(2024, 3, 31))
    assert march.headline["responses"] == survey.filter(pl.col("response_date").dt.month() == 3).height


def test_clear_errors():
    with pytest.raises(MissingTableError, match="survey"):
        nps(None, workspace="shop")
    survey = answers([1] * 11)
    with pytest.raises(AnalysisError, match="'nps'"):
        nps(survey.drop("nps").lazy())
    with pytest.raises(InputError, match="outside 0-10"):
        nps(survey.with_columns(pl.col("nps") * 2).lazy())
    with pytest.raises(InputError, match="cannot break NPS down by income"):
        nps(survey.lazy(), by=("income",))
    with pytest.raises(AnalysisError, match="no NPS answers in the chosen dates"):
        nps(survey.lazy(), as_of=dt.date(2023, 1, 1))
    # a survey export whose nps column came out empty: not a matter of dates
    with pytest.raises(InputError, match=r"no survey answer has an nps \(the column is empty\)") as err:
        nps(survey.with_columns(pl.lit(None, pl.Int64).alias("nps")).lazy())
    assert (err.value.file, err.value.column) == ("survey", "nps")


def test_a_customers_main_channel_counts_orders_not_lines():
    from core.evaluate.nps import main_channel

    tx = pl.LazyFrame({
        "order_id": ["s1", "s1", "s1", "w1", "w2"], "customer_id": ["c"] * 5,
        "order_date": [dt.date(2024, 1, d) for d in (1, 1, 1, 2, 3)],
        "channel": ["store", "store", "store", "web", "web"], "amount": [5.0, 5.0, 5.0, 9.0, 9.0],
    })
    assert main_channel(tx, None).collect()["channel"].to_list() == ["web"]  # 2 web orders, 1 store order
