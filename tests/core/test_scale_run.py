"""Scale analyses from a workspace: survey answers and features as of a date, the outcome
after it, and a planted loyalty factor the scale must find."""

import datetime as dt

import numpy as np
import polars as pl
import pytest

from core.scale.data import latest_answers, scale_data
from core.scale.run import init_text, run_check, run_score, run_validate
from core.scale.spec import parse_spec
from core.workspace import Workspace

END = dt.date(2024, 12, 31)


def write_workspace(folder, n=400, seed=9):
    """Customers whose purchase rate and survey answers share a latent loyalty factor;
    loy_switch is reverse-keyed and loy_weekend is noise."""
    rng = np.random.default_rng(seed)
    loyalty = rng.normal(size=n)
    ids = [f"C{i:04d}" for i in range(n)]
    rows = []
    for i, cid in enumerate(ids):
        rate = np.exp(-3.2 + 0.9 * loyalty[i])  # purchases per day
        days = np.flatnonzero(rng.random(730) < rate)
        if days.size == 0:
            days = np.array([rng.integers(0, 365)])
        for d in days:
            rows.append((cid, END - dt.timedelta(days=int(729 - d)), round(float(rng.gamma(2, 20)), 2)))
    tx = pl.DataFrame(rows, schema=["customer_id", "order_date", "amount"], orient="row")
    tx.write_csv(folder / "transactions.csv")

    def likert(loading):
        latent = loading * loyalty + np.sqrt(1 - loading**2) * rng.normal(size=n)
        return np.clip(np.round(4 + 1.5 * latent), 1, 7).astype(int)

    survey = pl.DataFrame({
        "customer_id": ids,
        "response_date": [dt.date(2024, 6, 1)] * n,
        "nps": np.clip(np.round(7 + 2 * loyalty + rng.normal(size=n)), 0, 10).astype(int),
        "loy_recommend": likert(0.8), "loy_trust": likert(0.7), "loy_first_choice": likert(0.7),
        "loy_switch": likert(-0.6), "loy_weekend": likert(0.0),
    })
    survey.write_csv(folder / "survey.csv")
    return folder


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return Workspace.open(write_workspace(tmp_path_factory.mktemp("scale_ws")))


SPEC = """
[scale]
outcome_days = 90
[[items]]
column = "loy_recommend"
[[items]]
column = "loy_trust"
[[items]]
column = "loy_first_choice"
[[items]]
column = "loy_switch"
direction = "lower"
[[items]]
column = "nps"
range = [0, 10]
[[items]]
column = "frequency"
transform = "log"
"""


def test_latest_answers_respect_as_of():
    survey = pl.DataFrame({
        "customer_id": ["a", "a", "a", "b"],
        "response_date": [dt.date(2024, 1, 1), dt.date(2024, 3, 1), dt.date(2024, 5, 1), dt.date(2024, 2, 1)],
        "nps": [3, None, 9, 7], "trust": [1.0, 2.0, None, 5.0],
    })
    latest, columns = latest_answers(survey.lazy(), dt.date(2024, 4, 1))
    out = latest.collect().sort("customer_id")
    assert columns == ["nps", "trust"]
    # a: the May answer is after as_of; March has no nps, so January's nps is the latest.
    assert out.rows() == [("a", 3, 2.0), ("b", 7, 5.0)]


def test_same_day_answers_give_the_lowest_as_the_features_do_whatever_the_row_order():
    from core.features import latest_answers as features_latest

    rows = {"customer_id": ["a", "a", "b"], "response_date": [dt.date(2024, 3, 1)] * 3,
            "nps": [9, 4, 6], "trust": [2.0, 5.0, None]}
    as_of = dt.date(2024, 4, 1)
    for order in ([0, 1, 2], [1, 0, 2]):
        survey = pl.DataFrame(rows)[order]
        latest, _ = latest_answers(survey.lazy(), as_of)
        assert latest.collect().sort("customer_id").rows() == [("a", 4, 2.0), ("b", 6, None)]
        features = features_latest(survey.lazy(), as_of, ["nps"]).collect().sort("customer_id")
        assert features["nps"].to_list() == [4, 6]


def test_a_survey_of_comments_only_has_no_items():
    survey = pl.DataFrame({"customer_id": ["a"], "response_date": [dt.date(2024, 3, 1)], "comment": ["ok"]})
    latest, columns = latest_answers(survey.lazy(), dt.date(2024, 4, 1))
    assert columns == [] and latest.collect()["customer_id"].to_list() == ["a"]


def test_scale_data_joins_features_and_survey(ws):
    data = scale_data(ws, dt.date(2024, 9, 30))
    assert data.as_of == dt.date(2024, 9, 30)
    assert {"loy_recommend", "nps", "frequency", "recency_days"} <= set(data.table.columns)
    assert data.table["customer_id"].is_unique().all()
    assert "loy_switch" in data.survey_columns and "frequency" in data.feature_columns


def test_init_offers_survey_items_and_behaviour(ws):
    text = init_text(ws)
    spec = parse_spec(text)
    assert {"loy_recommend", "loy_switch", "nps", "recency_days", "frequency"} <= set(spec.columns)
    assert next(i for i in spec.items if i.column == "recency_days").direction == "lower"
    assert "Other columns you can use" in text


def test_check_finds_the_reverse_keyed_item_then_the_noise_item(ws):
    def spec(switch_direction):
        return parse_spec("".join(
            f'[[items]]\ncolumn = "{c}"\n'
            + (f'direction = "{switch_direction}"\n' if c == "loy_switch" else "")
            for c in ("loy_recommend", "loy_trust", "loy_first_choice", "loy_switch", "loy_weekend")))

    first = run_check(ws, spec("higher"))
    flags = dict(zip(first.tables["items"]["item"], first.tables["items"]["flag"]))
    assert flags["loy_switch"] == "reverse-keyed"
    assert any('set direction = "lower"' in n for n in first.notes)
    fixed = run_check(ws, spec("lower"))
    table = fixed.tables["items"]
    flags = dict(zip(table["item"], table["flag"]))
    assert flags["loy_switch"] == "" and flags["loy_weekend"] == "alpha rises if dropped"
    assert table.filter(pl.col("item") == "loy_weekend")["alpha_if_deleted"].item() > fixed.headline["alpha"]
    assert fixed.headline["alpha"] > first.headline["alpha"]
    assert {"weights", "sensitivity"} <= set(fixed.tables)


def test_score_as_of_writes_items_score_and_tier(ws):
    result = run_score(ws, parse_spec(SPEC), as_of=dt.date(2024, 9, 30))
    scores = result.tables["scores"]
    assert scores.columns == ["customer_id", "loy_recommend", "loy_trust", "loy_first_choice",
                              "loy_switch", "nps", "frequency", "score", "tier"]
    assert scores["score"].min() >= 0 and scores["score"].max() <= 100
    assert result.headline["as_of"] == dt.date(2024, 9, 30)
    assert result.tables["tiers"]["customers"].sum() == scores["score"].drop_nulls().len()


def test_validate_recovers_the_factor_and_predicts_later_buying(ws):
    result = run_validate(ws, parse_spec(SPEC))
    assert result.headline["outcome_start"] == END - dt.timedelta(days=90)
    assert result.headline["auc"] > 0.65
    deciles = result.tables["deciles"]
    assert deciles["rate"][-1] > deciles["rate"][0]
    loadings = dict(zip(result.tables["loadings"]["item"], result.tables["loadings"]["factor_1"]))
    assert all(loadings[c] > 0.5 for c in ("loy_recommend", "loy_trust", "loy_first_choice"))
    assert loadings["loy_switch"] > 0.3  # reversed by the spec, so it loads positively
    assert result.headline["kmo"] > 0.6


def test_regression_weights_use_the_window_before_as_of(ws):
    spec = parse_spec(SPEC.replace("outcome_days = 90", 'outcome_days = 90\nweights = "regression"'))
    result = run_score(ws, spec)
    weights = result.tables["weights"]
    assert weights["weight"].sum() == pytest.approx(1.0)
    assert result.params["weight_method"] == "regression"


def test_items_from_a_survey_left_out_for_its_errors_say_so(make_workspace):
    from core.errors import InputError
    from core.registry import run_analysis

    # a survey tool's label in the nps column: the survey has an error, and a scale's checks leave it out
    tx = "customer_id,order_date,amount\n" + "".join(f"C{i},2024-01-0{1 + i % 5},{10 + i}\n" for i in range(20))
    survey = "customer_id,response_date,nps,sat_x\n" + "".join(
        f"C{i},2024-01-05,{'Extremely likely' if i == 3 else i % 10},{1 + i % 5}\n" for i in range(20))
    folder = make_workspace({"transactions.csv": tx, "survey.csv": survey})
    (folder / "scale.toml").write_text(
        '[scale]\nweights = "equal"\n[[items]]\ncolumn = "sat_x"\n[[items]]\ncolumn = "frequency"\n')
    with pytest.raises(InputError, match="sat_x would come from the survey table, which was left out") as err:
        run_analysis("scale.check", Workspace.open(folder), {"spec": str(folder / "scale.toml")})
    assert "--skip-invalid" in err.value.fix
