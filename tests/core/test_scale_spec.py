"""Scale spec parsing: every problem named with its key and line; init writes a valid spec."""

import datetime as dt

import pytest

from core.errors import InputError
from core.scale.spec import SpecError, init_spec, load_spec, parse_spec

GOOD = """\
[scale]
name = "Loyalty index"
missing = "listwise"
weights = "manual"
as_of = 2024-06-30

[[items]]
column = "nps"
range = [0, 10]
weight = 2

[[items]]
column = "recency_days"
direction = "lower"
transform = "winsorise"
winsorise = [0.05, 0.95]
normalise = "percentile"

[tiers]
method = "quantile"
cuts = [0.5, 0.9]
names = ["Bronze", "Silver", "Gold"]
"""


def _problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(SpecError) as info:
        parse_spec(text, source="loyalty.toml")
    return [(p.line, p.key, p.message) for p in info.value.problems]


def test_a_good_spec_parses_into_typed_values():
    spec = parse_spec(GOOD)
    assert spec.missing == "listwise" and spec.as_of == dt.date(2024, 6, 30)
    nps, recency = spec.items
    assert (nps.column, nps.range, nps.weight, nps.normalise) == ("nps", (0.0, 10.0), 2.0, "minmax")
    assert (recency.direction, recency.transform, recency.winsorise, recency.normalise) == (
        "lower", "winsorise", (0.05, 0.95), "percentile")
    assert spec.manual_weights() == {"nps": 2.0, "recency_days": 1.0}
    assert spec.tiers.cuts == (0.5, 0.9) and spec.tiers.names == ("Bronze", "Silver", "Gold")


def test_unknown_key_is_named_with_its_line_and_a_suggestion():
    text = GOOD.replace('direction = "lower"', 'direction = "lower"\nwieght = 3')
    [(line, key, message)] = _problems(text)
    assert line == 15 and key == "items[2].wieght"
    assert "unknown key 'wieght'" in message and "'weight'" in message


def test_impossible_values_are_each_named_with_their_line():
    text = (GOOD.replace('missing = "listwise"', 'missing = "sometimes"')
                .replace("winsorise = [0.05, 0.95]", "winsorise = [0.95, 0.05]")
                .replace("cuts = [0.5, 0.9]", "cuts = [0.5, 1.5]")
                .replace("weight = 2", "weight = -2"))
    problems = _problems(text)
    assert [(line, key) for line, key, _ in problems] == [
        (3, "scale.missing"), (10, "items[1].weight"), (16, "items[2].winsorise"),
        (21, "tiers.cuts")]
    assert "'sometimes' is not one of: pairwise, listwise, impute_median" in problems[0][2]
    assert "cannot be negative" in problems[1][2]


def test_the_error_message_names_file_line_and_key():
    text = GOOD.replace('direction = "lower"', 'direction = "down"')
    with pytest.raises(InputError) as info:
        parse_spec(text, source="loyalty.toml")
    message = str(info.value)
    assert "loyalty.toml" in message and "line 14" in message and "items[2].direction" in message


def test_tier_names_must_match_the_cut_points():
    text = GOOD.replace('names = ["Bronze", "Silver", "Gold"]', 'names = ["Bronze", "Gold"]')
    [(line, key, message)] = _problems(text)
    assert (line, key) == (22, "tiers.names") and "2 cut points make 3 tiers" in message


def test_fixed_cuts_are_scores_between_0_and_100_and_increase():
    text = GOOD.replace('method = "quantile"', 'method = "fixed"').replace(
        "cuts = [0.5, 0.9]", "cuts = [70, 40]")
    [(line, key, message)] = _problems(text)
    assert (line, key) == (21, "tiers.cuts") and "must increase" in message


def test_duplicate_items_and_missing_columns():
    text = GOOD.replace('column = "recency_days"', 'column = "nps"')
    [(line, key, message)] = _problems(text)
    assert (line, key) == (13, "items[2].column") and "already item #1" in message
    text = GOOD.replace('column = "recency_days"\n', "")
    [(line, key, message)] = _problems(text)
    assert line == 12 and "needs column" in message


def test_toml_syntax_errors_keep_their_line():
    [(line, key, message)] = _problems(GOOD.replace('name = "Loyalty index"', "name = "))
    assert line == 2 and key == "(syntax)"


def test_a_single_item_is_not_a_scale():
    text = GOOD[: GOOD.index("[[items]]\ncolumn = \"recency_days\"")] + GOOD[GOOD.index("[tiers]"):]
    [(_, key, message)] = _problems(text)
    assert key == "items" and "at least 2 items" in message


def test_delphi_weights_need_a_file():
    [(line, key, message)] = _problems(GOOD.replace('weights = "manual"', 'weights = "delphi"'))
    assert (line, key) == (4, "scale.weights") and "delphi" in message


def test_init_writes_a_commented_spec_that_parses(tmp_path):
    text = init_spec(["customer_id", "nps", "csat", "loy_trust", "recency_days", "monetary"])
    assert text.count("\n[[items]]\n") == 5 and "# " in text
    path = tmp_path / "loyalty.toml"
    path.write_text(text, encoding="utf-8")
    spec = load_spec(path)
    by_column = {i.column: i for i in spec.items}
    assert by_column["recency_days"].direction == "lower"
    assert by_column["monetary"].transform == "log"
    assert by_column["nps"].range == (0.0, 10.0)
    assert spec.source == str(path)


def test_a_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such scale spec"):
        load_spec(tmp_path / "nope.toml")
