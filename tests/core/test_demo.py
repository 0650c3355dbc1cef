"""The sample-workspace generator: determinism, the data contract, and the planted truths.

Statistical checks run on one 20,000-customer workspace drawn with a seed (11) that was
not used to choose the parameters; each tolerance is a few standard errors at that size.
References are the planted parameters in core/demo/params.py (documented in
fixtures/README.md), estimated with independent tools: statsmodels, scikit-learn, scipy.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from scipy import stats
from sklearn.cluster import KMeans
from sklearn.decomposition import FactorAnalysis
from sklearn.metrics import adjusted_rand_score
from statsmodels.stats.proportion import proportions_ztest

from core import contract
from core.demo import build, generate, params, write_workspace
from core.errors import InputError

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample"
SCALE_ITEMS = ["loy_recommend", "loy_repurchase", "loy_first_choice", "loy_trust", "loy_attachment"]


@pytest.fixture(scope="module")
def big():
    return build(20_000, seed=11)


@pytest.fixture(scope="module")
def small_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    write_workspace(out, customers=300, seed=3)
    return out


def _customer_table(demo) -> pl.DataFrame:
    """Per customer: gross spend, orders, first order; joined to the truth and customers."""
    end = demo.tables["transactions"]["order_date"].max()
    sales = demo.tables["transactions"].filter(pl.col("amount") > 0)
    return (sales.group_by("customer_id").agg(
        spend=pl.col("amount").sum(), orders=pl.len(), first=pl.col("order_date").min(),
        last=pl.col("order_date").max(),
        year2=pl.col("order_date").is_between(pl.lit(end) - pl.duration(days=729),
                                              pl.lit(end) - pl.duration(days=365)).any(),
        year3=(pl.col("order_date") > pl.lit(end) - pl.duration(days=365)).any())
        .with_columns(recency=(pl.lit(end) - pl.col("last")).dt.total_days())
        .join(demo.customer_types, on="customer_id")
        .join(demo.tables["customers"].select("customer_id", "is_member", "member_since"), on="customer_id"))


# --- determinism and files -------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_writes_the_same_bytes(tmp_path, fmt):
    first = write_workspace(tmp_path / "a", customers=200, seed=5, fmt=fmt)
    second = write_workspace(tmp_path / "b", customers=200, seed=5, fmt=fmt)
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_a_different_seed_gives_different_data():
    a, b = generate(200, seed=1), generate(200, seed=2)
    for name in ("transactions", "survey", "touchpoints", "experiments"):
        assert not a[name].equals(b[name]), name


def test_committed_sample_is_what_the_generator_writes(tmp_path):
    """fixtures/sample must be regenerated whenever the generator changes."""
    written = write_workspace(tmp_path, customers=2000, seed=7)
    for path in written:
        committed = SAMPLE / path.relative_to(tmp_path)
        assert committed.exists(), f"{committed} missing: regenerate fixtures/sample"
        assert committed.read_bytes() == path.read_bytes(), f"{committed.name} is stale: regenerate"
    # the points ledger (~0.5 MB) and the planted demand pattern (~15% more orders)
    assert sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file()) < 6_500_000


def test_writes_every_table_plus_delphi_and_truth(small_dir):
    names = {p.relative_to(small_dir).as_posix() for p in small_dir.rglob("*") if p.is_file()}
    assert names == {f"{t}.csv" for t in contract.TABLE_NAMES} | {
        "delphi.csv", "truth/customer_types.csv", "truth/products.csv", "truth/truth.json"}


def _parse(frame: pl.DataFrame, table: contract.Table) -> pl.DataFrame:
    """Coerce text columns to the contract's dtypes; raises on any value that does not parse."""
    rules = {
        contract.DATE: lambda c: pl.col(c).str.to_date("%Y-%m-%d", strict=True),
        contract.DATETIME: lambda c: pl.col(c).str.to_datetime("%Y-%m-%d %H:%M:%S", strict=True),
        contract.FLAG: lambda c: pl.col(c).replace_strict({"true": True, "false": False},
                                                           return_dtype=pl.Boolean),
    }
    def cast(col: contract.Column) -> pl.Expr:
        if col.kind in rules:
            return rules[col.kind](col.name)
        return pl.col(col.name).cast(contract.DTYPES[col.kind], strict=True)

    exprs = [cast(col) for col in table.columns if col.name in frame.columns]
    return frame.with_columns(exprs)


@pytest.mark.parametrize("name", contract.TABLE_NAMES)
def test_csv_files_load_under_the_contract_without_mapping(small_dir, name):
    table = contract.TABLES[name]
    frame = pl.read_csv(small_dir / f"{name}.csv", infer_schema=False)
    assert set(table.required) <= set(frame.columns)
    parsed = _parse(frame, table)
    for col in table.required:
        assert parsed[col].null_count() == 0, f"{name}.{col} has empty values"


def test_generated_frames_carry_the_contract_dtypes():
    tables = generate(200, seed=4)
    for name in contract.TABLE_NAMES:
        for col in contract.TABLES[name].columns:
            if col.name in tables[name].columns:
                assert tables[name][col.name].dtype == contract.DTYPES[col.kind], f"{name}.{col.name}"


def test_workspace_is_clean_ids_exist_and_returns_point_at_orders():
    t = generate(2000, seed=7)
    known = set(t["customers"]["customer_id"])
    for name in ("transactions", "touchpoints", "survey", "experiments"):
        assert set(t[name]["customer_id"]) <= known, name
    tx = t["transactions"]
    assert tx.select(pl.struct("order_id", "product_id").is_unique().all()).item()  # a product once per order
    returns = tx.filter(pl.col("amount") < 0)
    assert returns["order_id"].str.ends_with("-R").all()
    # Each returned line points at the line it refunds: same order, product and customer.
    originals = returns.with_columns(pl.col("order_id").str.strip_suffix("-R")).join(
        tx.filter(pl.col("amount") > 0), on=["order_id", "product_id"], suffix="_sale")
    assert originals.height == returns.height
    assert (originals["customer_id"] == originals["customer_id_sale"]).all()
    assert (originals["order_date"] > originals["order_date_sale"]).all()
    assert (-originals["amount"] <= originals["amount_sale"]).all()
    assert set(t["campaigns"]["campaign_id"]) >= set(tx["campaign_id"].drop_nulls())
    assert date(2023, 1, 1) <= tx["order_date"].min() and tx["order_date"].max() <= date(2025, 12, 31)
    members = t["customers"].filter("is_member")
    assert (members["member_since"] >= members["signup_date"]).all()
    assert t["customers"].filter(~pl.col("is_member"))["member_since"].null_count() == \
        t["customers"].filter(~pl.col("is_member")).height
    zh = t["customers"]["name"].str.contains(r"[\u4e00-\u9fff]").mean()
    assert 0.1 < zh < 0.3  # a share of Chinese names for CJK rendering


def test_survey_answers_stay_on_their_scales():
    s = generate(2000, seed=7)["survey"]
    assert s["nps"].is_between(0, 10).all() and s["csat"].is_between(1, 5).all()
    for item in params.LIKERT_ITEMS:
        assert s[item.name].drop_nulls().is_between(1, params.LIKERT_POINTS).all()
    for driver in params.DRIVERS:
        assert s[driver].drop_nulls().is_between(1, params.DRIVER_POINTS).all()


@pytest.mark.parametrize("seed", range(5))
def test_tiny_workspaces_keep_every_table_and_dtype(seed):
    """10 customers (the CLI's minimum): some campaigns or the survey may be empty."""
    tables = generate(10, seed=seed)
    for name in contract.TABLE_NAMES:
        for col in contract.TABLES[name].columns:
            if col.name in tables[name].columns:
                assert tables[name][col.name].dtype == contract.DTYPES[col.kind], f"{name}.{col.name}"


@pytest.mark.parametrize("kwargs", [{"customers": 9}, {"customers": 2.5}, {"seed": -1}, {"fmt": "xlsx"}])
def test_bad_arguments_raise_input_error(tmp_path, kwargs):
    with pytest.raises(InputError):
        write_workspace(tmp_path, **{"customers": 100, **kwargs})


# --- planted truths (20,000 customers) --------------------------------------------------

def _two_arms(ex: pl.DataFrame, name: str, control: str) -> tuple[np.ndarray, np.ndarray]:
    g = ex.filter(pl.col("experiment") == name).group_by("variant").agg(
        conv=pl.col("converted").sum(), n=pl.len())
    order = g.sort(pl.col("variant") != control)  # control first
    return order["conv"].to_numpy(), order["n"].to_numpy()


def test_experiment_lift_and_aa_test(big):
    ex = big.tables["experiments"]
    conv, n = _two_arms(ex, "free_shipping_offer", "control")
    rates = conv / n
    se = np.sqrt(rates * (1 - rates) / n)  # ~0.0032 and ~0.0038 with ~8,800 units per arm
    assert np.all(np.abs(rates - np.array([0.10, 0.15])) < 4 * se)
    assert proportions_ztest(conv, n)[1] < 1e-10
    conv, n = _two_arms(ex, "homepage_aa", "A1")
    rates = conv / n
    assert abs(rates[1] - rates[0]) < 4 * np.sqrt((rates * (1 - rates) / n).sum())
    assert stats.chisquare(n).pvalue > 1e-4  # 50/50 split: no sample-ratio mismatch


def test_campaign_holdouts_show_the_planted_lifts(big):
    ex = big.tables["experiments"]
    # Black Friday email (extra order for 10% of live treated customers) clearly lifts...
    conv, n = _two_arms(ex, "CMP07", "holdout")
    assert proportions_ztest(conv[::-1], n[::-1], alternative="larger")[1] < 1e-4
    # ...the display campaign (no effect) does not: within 4 SE (~0.04 with ~2,600 held out).
    conv, n = _two_arms(ex, "CMP05", "holdout")
    rates = conv / n
    assert abs(rates[1] - rates[0]) < 4 * np.sqrt((rates * (1 - rates) / n).sum())
    # Campaign-tagged revenue overstates the lift: it includes orders the holdout shows happen anyway.
    tx = big.tables["transactions"]
    tagged = tx.filter(pl.col("campaign_id") == "CMP07", pl.col("amount") > 0)["amount"].sum()
    real = next(c for c in big.truth["realised"]["campaigns"] if c["campaign_id"] == "CMP07")
    assert tagged > 3 * real["incremental_revenue"] > 0


def test_multichannel_customers_churn_less_and_are_worth_more(big):
    per = _customer_table(big).filter(pl.col("first") <= pl.date(2024, 12, 31))
    ltv = per.group_by("multichannel").agg(pl.col("spend").mean()).sort("multichannel")["spend"]
    # ~10,000 vs ~6,700 customers; the LTV ratio's SE is ~0.03, so +-0.12 is 4 SE around 1.40.
    assert abs(ltv[1] / ltv[0] - 1.40) < 0.12
    churn = (per.filter("year2").group_by("multichannel")
             .agg(churn=1 - pl.col("year3").mean()).sort("multichannel")["churn"])
    # Year-over-year churn ~0.30 vs ~0.20 (35% lower); the ratio's SE is ~0.03.
    assert abs(churn[1] / churn[0] - 0.65) < 0.12


def test_programme_self_selection_and_spend_lift(big):
    per = _customer_table(big)
    spend = per.group_by("is_member").agg(pl.col("spend").mean()).sort("is_member")["spend"]
    true_lift = (1 + params.PROGRAM.frequency_lift) * (1 + params.PROGRAM.spend_lift)
    assert spend[1] / spend[0] > 1.5 * true_lift  # the raw gap overstates the programme's effect
    # Within members, log order value after vs before joining (customer fixed effects):
    members = big.tables["customers"].filter("is_member").select("customer_id", "member_since")
    orders = (big.tables["transactions"].filter(pl.col("amount") > 0).join(members, on="customer_id")
              .with_columns(after=(pl.col("order_date") >= pl.col("member_since")).cast(pl.Float64),
                            log_value=pl.col("amount").log())
              .filter(pl.col("after").mean().over("customer_id").is_between(0, 1, closed="none")))
    within = orders.select((pl.col(c) - pl.col(c).mean().over("customer_id")) for c in ("after", "log_value"))
    fit = sm.OLS(within["log_value"].to_numpy(), within["after"].to_numpy()).fit()
    # ~100,000 member orders: SE ~0.004 on the log scale.
    assert abs(fit.params[0] - np.log(1 + params.PROGRAM.spend_lift)) < 4 * fit.bse[0] + 0.005


def test_factor_loadings_reverse_and_noise_items(big):
    items = [i.name for i in params.LIKERT_ITEMS]
    x = big.tables["survey"].select(items).drop_nulls().to_numpy().astype(float)
    z = (x - x.mean(0)) / x.std(0)
    loadings = FactorAnalysis(1, random_state=0).fit(z).components_[0]
    loadings *= np.sign(loadings[0])
    planted = np.array([i.loading for i in params.LIKERT_ITEMS])
    # ~7,000 respondents: SE ~0.01; 7-point items attenuate loadings by up to ~0.03.
    assert np.all(np.abs(loadings - planted) < 0.06), loadings
    r = np.corrcoef(x, rowvar=False)
    noise = items.index(params.NOISE_ITEM)
    reverse = items.index(params.REVERSE_ITEM)
    others = [i for i in range(len(items)) if i not in (noise, reverse)]
    assert np.all(np.abs(np.delete(r[noise], noise)) < 0.05)  # SE of r ~0.012
    assert np.all(r[reverse, others] < -0.2)


def test_key_drivers_of_nps(big):
    cols = ["nps", *params.DRIVERS]
    d = big.tables["survey"].select(cols).drop_nulls().to_numpy().astype(float)
    z = (d - d.mean(0)) / d.std(0)
    beta = sm.OLS(z[:, 0], z[:, 1:]).fit().params
    # Planted standardised effects on the latent propensity; SE ~0.01, and the 5- and
    # 11-point answer scales attenuate them by a few hundredths.
    assert np.all(np.abs(beta - np.array(params.DRIVER_EFFECTS_NPS)) < 0.05), beta
    assert list(np.argsort(-beta)) == [0, 1, 2, 3]


def test_loyalty_score_predicts_later_purchasing(big):
    survey = big.tables["survey"].with_columns(
        score=pl.mean_horizontal(*SCALE_ITEMS, 8 - pl.col(params.REVERSE_ITEM))
    ).select("customer_id", "response_date", "score").drop_nulls()
    later = (survey.join(big.tables["transactions"].filter(pl.col("amount") > 0), on="customer_id", how="left")
             .group_by("customer_id", "score")
             .agg(later=(pl.col("order_date") > pl.col("response_date")).sum()))
    rho = stats.spearmanr(later["score"], later["later"]).statistic
    assert rho > 0.25  # observed ~0.36; SE ~0.01


def test_rfm_kmeans_recovers_the_types(big):
    per = _customer_table(big)
    x = np.column_stack([np.log1p(per["recency"].to_numpy()), np.log(per["orders"].to_numpy()),
                         np.log(per["spend"].to_numpy())])
    labels = KMeans(6, n_init=4, random_state=0).fit_predict((x - x.mean(0)) / x.std(0))
    assert adjusted_rand_score(per["type"], labels) > 0.25  # observed ~0.33; chance is 0


def test_touch_channels_raise_purchases_except_display(big):
    """Orders in the 7 days after a touch vs the 7 days before it, for live customers."""
    truth = big.customer_types.select("customer_id", "alive", "last_purchase_before_leaving")
    end = big.tables["transactions"]["order_date"].max()
    touches = (big.tables["touchpoints"].filter(pl.col("campaign_id").is_null())
               .with_columns(day=pl.col("timestamp").dt.date()).join(truth, on="customer_id")
               .filter(pl.col("alive") | (pl.col("day") <= pl.col("last_purchase_before_leaving")),
                       pl.col("day") <= pl.lit(end) - pl.duration(days=7))
               .with_row_index("touch"))
    orders = big.tables["transactions"].filter(pl.col("amount") > 0).select("customer_id", "order_date")
    lag = (pl.col("order_date") - pl.col("day")).dt.total_days()
    hits = (touches.join(orders, on="customer_id").group_by("touch")
            .agg(post=lag.is_between(0, 6).any(), pre=lag.is_between(-7, -1).any()))
    rates = (touches.join(hits, on="touch", how="left").fill_null(False).group_by("channel")
             .agg(n=pl.len(), post=pl.col("post").mean(), pre=pl.col("pre").mean()))
    for row in rates.iter_rows(named=True):
        planted = next(c.purchase_prob for c in params.TOUCH_CHANNELS if c.name == row["channel"])
        # A triggered order only shows if there was no order anyway: effect x (1 - base rate).
        expected = planted * (1 - row["pre"])
        se = np.sqrt(2 * row["pre"] * (1 - row["pre"]) / row["n"])  # ~0.003-0.004
        assert abs(row["post"] - row["pre"] - expected) < 4 * se + 0.01, row


def test_seasonality_and_returns(big):
    sales = big.tables["transactions"].filter(pl.col("amount") > 0)
    y = sales.filter(pl.col("order_date").dt.year() == 2024).with_columns(m=pl.col("order_date").dt.month())
    peak = y.filter(pl.col("m") >= 11).height / 61
    rest = y.filter(pl.col("m") <= 10).height / 305
    assert peak / rest > 1.3  # planted Nov/Dec multipliers 1.35 and 1.45 vs ~0.92
    share = big.tables["transactions"].filter(pl.col("amount") < 0).height / sales.height
    planted = float(np.dot(params.CATEGORY_PROBS, params.RETURN_RATES))  # 0.073
    assert planted - 0.008 < share < planted + 0.002  # a few late returns fall after the end


def test_delphi_panel_converges(big):
    ratings = big.tables["delphi"]
    w = []
    for rnd in range(1, params.DELPHI.rounds + 1):
        m = ratings.filter(pl.col("round") == rnd).pivot(on="item", index="expert", values="rating")
        matrix = m.drop("expert").to_numpy()
        chi2 = stats.friedmanchisquare(*matrix.T).statistic  # tie-corrected
        w.append(chi2 / (matrix.shape[0] * (matrix.shape[1] - 1)))  # Kendall's W
    assert w == sorted(w) and w[-1] > 0.8
    final = ratings.filter(pl.col("round") == params.DELPHI.rounds).group_by("item").agg(pl.col("rating").median())
    ranked = final.sort("rating", descending=True)["item"].to_list()
    assert ranked[-1] == params.NOISE_ITEM


# --- products and baskets ---------------------------------------------------------------


def _sale_lines(demo) -> pl.DataFrame:
    return demo.tables["transactions"].filter(pl.col("amount") > 0).join(
        demo.customer_types.select("customer_id", "type"), on="customer_id")


def test_order_lines_add_up_to_the_order_and_follow_list_prices():
    demo = build(2000, seed=7)
    tx = demo.tables["transactions"]
    per_order = tx.filter(pl.col("amount") > 0).group_by("order_id").agg(
        lines=pl.len(), channels=pl.col("channel").n_unique(), days=pl.col("order_date").n_unique())
    assert (per_order["channels"] == 1).all() and (per_order["days"] == 1).all()  # an order is one event
    assert 1.5 < per_order["lines"].mean() < 1.9  # 1 + Poisson(0.7) capped, plus complements
    # Within an order, a line's share of the value is its share of list price x quantity (orders
    # with a line of a planted price category are repriced by core/demo/pricing.py, and left out).
    planted = [p.category for p in params.PRICE_PLANTS]
    repriced = tx.filter(pl.col("category").is_in(planted)).select("order_id").unique()
    lines = (tx.filter(pl.col("amount") > 0).join(repriced, on="order_id", how="anti")
             .join(demo.products.drop("category"), on="product_id")
             .with_columns(weight=pl.col("list_price") * pl.col("quantity")))
    shares = lines.with_columns(
        value_share=pl.col("amount") / pl.col("amount").sum().over("order_id"),
        weight_share=pl.col("weight") / pl.col("weight").sum().over("order_id"))
    gap = (shares["value_share"] - shares["weight_share"]).abs()
    assert gap.max() < 0.05 and gap.mean() < 0.002  # whole cents on small amounts only
    assert set(demo.products["product_id"]) >= set(tx["product_id"])


def test_planted_complements_show_their_lift(big):
    lines = big.tables["transactions"].filter(pl.col("amount") > 0)
    orders = lines["order_id"].n_unique()
    for pair in params.COMPLEMENTS:
        has = lines.group_by("order_id").agg(a=(pl.col("product_id") == pair.a).any(),
                                             b=(pl.col("product_id") == pair.b).any())
        n_a, n_b = has["a"].sum(), has["b"].sum()
        confidence = has.filter("a")["b"].mean()
        se = np.sqrt(pair.add_prob * (1 - pair.add_prob) / n_a)
        assert abs(confidence - pair.add_prob) < 4 * se + 0.01, pair  # b rarely there without the pull
        assert confidence / (n_b / orders) > 20, pair


def test_customer_types_prefer_their_favourites_and_categories(big):
    lines = _sale_lines(big).join(big.products.select("product_id", "favourite_of"), on="product_id")
    favourites = lines.group_by("type").agg(own=(pl.col("favourite_of") == pl.col("type")).mean())
    for row in favourites.iter_rows(named=True):
        i = params.TYPE_NAMES.index(row["type"])
        others = lines.filter(pl.col("type") != row["type"])
        other_share = (others["favourite_of"] == row["type"]).mean()
        # Each type's favourites: about taste_share of its lines that are not repeats (~0.3),
        # against about 5% for customers of other types (their Zipf draws only).
        assert row["own"] > 0.2 and other_share < 0.08, (row, other_share, i)
    further = lines.with_columns(line=pl.int_range(pl.len()).over("order_id")).filter(pl.col("line") > 0)
    champions = further.filter(pl.col("type") == "champions")["category"].value_counts(normalize=True)
    share = dict(zip(champions["category"], champions["proportion"]))
    planted = dict(zip(params.CATEGORIES, params.TYPE_CATEGORY_TASTE[0]))
    for category, p in planted.items():
        assert abs(share[category] - p) < 0.03, category  # ~20,000 further lines of champions


def test_staple_products_are_bought_again(big):
    lines = big.tables["transactions"].filter(pl.col("amount") > 0).sort("order_date", "order_id")
    again = lines.with_columns(again=pl.int_range(pl.len()).over("customer_id", "product_id") > 0)
    by_category = dict(again.group_by("category").agg(pl.col("again").mean()).iter_rows())
    # Staples are re-bought with chance 0.45 (grocery), 0.30 (beauty), 0.02-0.10 elsewhere; the rest
    # of "again" is chance (popular products and favourites are bought twice by chance too).
    ordinary = max(by_category[c] for c in ("apparel", "electronics", "sports", "home"))
    assert by_category["grocery"] > by_category["beauty"] + 0.05 > ordinary + 0.05
