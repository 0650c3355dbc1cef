"""Drivers from text (odds ratios of themes, detractors vs promoters), NMF topics and theme
shares by group and month: intervals checked against statsmodels, themes against what was
planted in the comments."""

import numpy as np
import polars as pl
import pytest
from statsmodels.stats.contingency_tables import Table2x2
from statsmodels.stats.proportion import proportion_confint

from core.errors import AnalysisError, InputError
from core.registry import run_analysis
from core.text.comments import comments
from core.text.drivers import comment_drivers, odds_ratios
from core.workspace import Workspace
from tests.conftest import SAMPLE


def survey(texts, nps, dates=None):
    n = len(texts)
    return pl.DataFrame({
        "customer_id": [f"C{i:04d}" for i in range(n)],
        "response_date": dates or ["2025-06-01"] * n,
        "nps": nps,
        "comment": texts,
    }, schema_overrides={"comment": pl.String}).with_columns(pl.col("response_date").str.to_date()).lazy()


@pytest.mark.parametrize("cells", [(12, 18, 3, 37), (7, 20, 0, 41), (0, 5, 9, 2), (40, 60, 35, 65)])
def test_odds_ratio_and_interval_are_statsmodels_table2x2(cells):
    a, b, c, d = cells
    ratio, low, high, p = odds_ratios([a], [b], [c], [d], 0.95)
    table = np.array([[a, b], [c, d]], dtype=float)
    # Haldane-Anscombe: 0.5 added to every cell when one is 0 (statsmodels' shift_zeros only
    # sets the zero cells to 0.5, so the corrected table is handed to it as it is)
    ref = Table2x2(table + 0.5 * (table == 0).any(), shift_zeros=False)
    assert ratio[0] == pytest.approx(ref.oddsratio, rel=1e-12)
    assert (low[0], high[0]) == pytest.approx(ref.oddsratio_confint(alpha=0.05), rel=1e-12)
    assert p[0] == pytest.approx(ref.oddsratio_pvalue(), rel=1e-9)


# Planted: detractors write about late delivery and rude staff, promoters about quality;
# "store" is said by both alike.
DETRACTOR = ["Delivery was late again", "Late delivery and rude staff in the store", "Rude staff, never again",
             "物流太慢，包装破损", "The store was fine but delivery was late"]
PROMOTER = ["Excellent quality", "Great quality, nice store", "Quality is superb", "质量很好，包装精美",
            "Love the store and the quality"]


def planted_survey():
    texts = DETRACTOR * 8 + PROMOTER * 8 + ["OK"] * 10
    nps = [2] * 40 + [10] * 40 + [8] * 10
    return survey(texts, nps)


def test_detractor_and_promoter_themes_are_found_with_counts_a_reader_can_check():
    result = comment_drivers(planted_survey())
    table = result.tables["drivers"]
    row = {r["term"]: r for r in table.iter_rows(named=True)}
    assert {"late", "delivery", "rude", "staff", "物流"} <= set(
        table.filter(pl.col("said_more_by") == "detractors")["term"])
    assert {"quality", "质量"} <= set(table.filter(pl.col("said_more_by") == "promoters")["term"])
    assert row["store"]["said_more_by"] == "either"
    # counted independently: comments containing the word, per side
    assert row["late"]["detractor_mentions"] == 8 * sum("late" in t.lower() for t in DETRACTOR)
    assert row["quality"]["promoter_mentions"] == 8 * sum("quality" in t.lower() for t in PROMOTER)
    assert (row["late"]["detractors"], row["late"]["promoters"]) == (40, 40)  # passives left out
    assert table["odds_ratio"].is_sorted(descending=True)
    assert result.headline["top_term"] in {"late", "delivery", "rude", "staff", "物流", "包装", "破损", "太慢"}


def test_comment_drivers_need_both_ends_of_the_scale():
    with pytest.raises(AnalysisError, match="both detractors"):
        comment_drivers(survey(["Great", "Lovely"], [10, 9]))
    with pytest.raises(AnalysisError, match="min-mentions"):
        comment_drivers(planted_survey(), min_mentions=10_000)


@pytest.mark.parametrize("column", ["nps", "comment"])
def test_an_empty_nps_or_comment_column_is_named_not_counted_as_no_detractors(column):
    empty = planted_survey().with_columns(pl.lit(None, pl.String if column == "comment" else pl.Int64).alias(column))
    with pytest.raises(InputError, match=f"no survey response has an answer in {column}") as caught:
        comment_drivers(empty)
    assert (caught.value.file, caught.value.column) == ("survey", column)


def test_comment_drivers_on_the_sample_find_the_detractors_bank():
    result = run_analysis("report.comment_drivers", Workspace.open(SAMPLE), {})
    worse = set(result.tables["drivers"].filter(pl.col("said_more_by") == "detractors")["term"])
    # the sample's detractors say "Delivery was late again", "商品和描述不符", "Return process is a pain"
    assert {"late", "描述", "return"} <= worse
    assert not worse & {"great", "helpful", "会员"}  # promoters' words


# Three planted topics; each comment is two phrases of one topic (so all are distinct).
TOPICS = {
    "delivery": ["delivery was late", "courier lost the parcel", "shipping took weeks", "tracking never updated",
                 "parcel arrived damaged"],
    "price": ["prices are too high", "discount coupon failed", "cheaper elsewhere online",
              "membership fee expensive", "checkout price changed"],
    "staff": ["cashier was rude", "assistant ignored customers", "manager never answered",
              "employee helped kindly", "salesperson pushy attitude"],
}


def topic_comments():
    rows = []
    for topic, phrases in TOPICS.items():
        for i, first in enumerate(phrases):
            for second in phrases[i + 1:]:
                rows.append((topic, f"{first}, {second}"))
    return rows


def test_nmf_topics_recover_the_planted_topics_and_are_reproducible():
    rows = topic_comments()
    texts = [t for _, t in rows]
    first = comments(survey(texts, [5] * len(texts)), topics=3)
    again = comments(survey(texts, [5] * len(texts)), topics=3)
    assert first.tables["topics"].equals(again.tables["topics"])
    topics = first.tables["topics"]
    assert topics.height == 3 and topics["comments"].sum() == len(texts)
    for planted, phrases in TOPICS.items():
        words = {w for p in phrases for w in p.split()}
        matching = [r for r in topics.iter_rows(named=True)
                    if len(set(r["terms"].split(", ")) & words) >= 3]
        assert len(matching) == 1, planted
        assert matching[0]["comments"] == sum(1 for t, _ in rows if t == planted)
        assert any(p in matching[0]["example"] for p in phrases)


def test_too_few_comments_for_the_topics_asked_is_a_note_not_a_crash():
    result = comments(survey(["Great quality", "Late delivery"], [10, 2]), topics=5)
    assert "topics" not in result.tables
    assert any(n.startswith("No topics: 2 distinct comments") for n in result.notes)
    assert "topics" not in comments(survey(["Great quality"], [10]), topics=0).tables


def test_theme_shares_by_month_have_wilson_intervals():
    texts = ["Late delivery"] * 6 + ["Great quality"] * 4 + ["Late delivery"] * 2 + ["Great quality"] * 8
    dates = ["2025-05-10"] * 10 + ["2025-06-10"] * 10
    result = comments(survey(texts, [5] * 20, dates), top_terms=6)
    months = result.tables["theme_groups"].filter((pl.col("dimension") == "month") & (pl.col("term") == "delivery"))
    assert months["group"].to_list() == ["2025-05", "2025-06"]
    assert months["mentions"].to_list() == [6, 2] and months["comments"].to_list() == [10, 10]
    for hits, low, high in months.select("mentions", "share_ci_low", "share_ci_high").iter_rows():
        ref = proportion_confint(hits, 10, alpha=0.05, method="wilson")
        assert (low / 100, high / 100) == pytest.approx(ref, abs=1e-12)
    by_month = result.tables["summary"].filter(pl.col("dimension") == "month")
    assert by_month["comments"].to_list() == [10, 10]


def test_key_drivers_of_nps_point_to_the_comment_drivers():
    result = run_analysis("predict.drivers", Workspace.open(SAMPLE), {"n_boot": 20})
    assert any("report comment-drivers" in n for n in result.notes)
    csat = run_analysis("predict.drivers", Workspace.open(SAMPLE), {"n_boot": 20, "outcome": "csat"})
    assert not any("comment-drivers" in n for n in csat.notes)
