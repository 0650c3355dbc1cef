"""The sample workspace's planted loyalty factor is recovered by the scale tools.

The planted truth (item loadings, the reverse-keyed and the noise item, the Delphi
panel's true importances) is read from the workspace's truth/truth.json, written by
core.demo. Uses the committed fixtures/sample when present, else generates one.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from core.scale.readers import read_table
from core.scale.run import run_check, run_validate
from core.scale.spec import parse_spec
from core.scale.weights import delphi
from core.workspace import Workspace

SAMPLE = Path(__file__).resolve().parent.parent.parent / "fixtures" / "sample"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    if (SAMPLE / "truth" / "truth.json").is_file():
        return SAMPLE
    demo = pytest.importorskip("core.demo")
    folder = tmp_path_factory.mktemp("sample")
    demo.write_workspace(folder, customers=1000, seed=7)
    return folder


@pytest.fixture(scope="module")
def truth(sample) -> dict:
    return json.loads((sample / "truth" / "truth.json").read_text(encoding="utf-8"))["planted"]


@pytest.fixture(scope="module")
def ws(sample):
    return Workspace.open(sample)


def _spec(items, reversed_items=()):
    return parse_spec("".join(
        f'[[items]]\ncolumn = "{c}"\n' + ('direction = "lower"\n' if c in reversed_items else "")
        for c in items))


def test_reverse_keyed_item_is_detected(ws, truth):
    survey = truth["survey"]
    items = [i["name"] for i in survey["likert_items"]]
    table = run_check(ws, _spec(items)).tables["items"]
    assert table.filter(table["reverse_keyed"])["item"].to_list() == [survey["reverse_item"]]


def test_noise_item_is_flagged_by_alpha_if_deleted_and_a_low_loading(ws, truth):
    survey = truth["survey"]
    items = [i["name"] for i in survey["likert_items"]]
    spec = _spec(items, [survey["reverse_item"]])
    check = run_check(ws, spec)
    rows = {r["item"]: r for r in check.tables["items"].iter_rows(named=True)}
    noise = survey["noise_item"]
    assert rows[noise]["alpha_if_deleted"] > check.headline["alpha"] + 0.02
    assert rows[noise]["flag"] == "alpha rises if dropped"
    assert all(rows[i]["alpha_if_deleted"] < check.headline["alpha"] for i in items if i != noise)

    loadings = run_validate(ws, spec, n_factors=1).tables["loadings"]
    found = dict(zip(loadings["item"], loadings["factor_1"]))
    assert abs(found[noise]) < 0.15
    assert min(found, key=lambda i: abs(found[i])) == noise
    planted = {i["name"]: abs(i["loading"]) for i in survey["likert_items"]}
    for item, loading in planted.items():
        assert found[item] == pytest.approx(loading, abs=0.2), item
    assert stats.spearmanr([planted[i] for i in items], [found[i] for i in items]).statistic > 0.8


def test_delphi_panel_weights_follow_the_planted_importance_and_converge(sample, truth):
    panel = truth["delphi"]
    result = delphi(read_table(sample / "delphi.csv"), panel["items"])
    weights = dict(zip(result.tables["weights"]["item"], result.tables["weights"]["weight"]))
    importance = panel["importance"]
    assert stats.spearmanr([importance[i] for i in panel["items"]],
                           [weights[i] for i in panel["items"]]).statistic > 0.9
    assert min(weights, key=weights.get) == truth["survey"]["noise_item"]
    w = result.tables["agreement"]["kendall_w"].to_numpy()
    assert len(w) == panel["rounds"] and np.all(np.diff(w) > 0)
    spread = result.tables["agreement"]["mean_sd"].to_numpy()
    assert spread[-1] < spread[0]
