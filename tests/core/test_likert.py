"""Likert answers exported as labels are read as the scale's points (core.likert)."""

import datetime as dt

import polars as pl
import pytest

from core.likert import scale_of
from core.validate import validate
from core.workspace import Workspace

AGREE7 = ["Strongly disagree", "Disagree", "Somewhat disagree", "Neither agree nor disagree",
          "Somewhat agree", "Agree", "Strongly agree"]


@pytest.mark.parametrize("answers, scale", [
    (["Agree", "strongly agree", "Disagree ", "Neutral"], "agreement, 5 points"),  # no Somewhat: 5 points
    (["Agree", "Somewhat agree", "Strongly agree"], "agreement, 7 points"),
    (["Very satisfied", "Satisfied", "Dissatisfied", None, "N/A"], "satisfaction, 5 points"),
    (["非常同意", "同意", "一般", "不同意"], "agreement, 5 points (zh)"),
    (["Very likely", "Likely", "Unlikely"], "likelihood, 5 points"),
    (["Agree", "Disagree"], None),  # two labels are no scale
    (["Agree", "Disagree", "Neutral", "Stronly agree"], "agreement, 5 points"),  # a typo is left to validation
    (["Red", "Green", "Blue"], None),
])
def test_the_scale_is_the_one_whose_labels_the_answers_are(answers, scale):
    assert scale_of(answers) == scale


def test_a_seven_point_item_is_judged_on_all_its_answers_not_its_first_rows(make_workspace):
    # the first 1,000 answers hold no 'Somewhat': read from them alone, Agree would be 4 of 5
    first = ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"]
    answers = [first[i % 5] for i in range(1_000)] + ["Somewhat agree", "Somewhat disagree", "Don't know", "Maybe"]
    survey = "customer_id,response_date,loy_trust,comment\n" + "".join(
        f"C{i},2024-01-05,{a},fine\n" for i, a in enumerate(answers))
    folder = make_workspace({"survey.csv": survey})
    ws = Workspace.open(folder)
    points = ws.scan("survey").collect()["loy_trust"]
    expected = [{label.lower(): p for p, label in enumerate(AGREE7, start=1)}.get(a.lower()) for a in answers]
    assert points.to_list() == expected  # by hand: 7 points, Agree = 6; Don't know and Maybe are missing
    assert ("loy_trust", 1.0, 7.0) == next(r[:3] for r in ws.sources["survey"].ranges if r[0] == "loy_trust")
    # 'Maybe' is no label of the scale: counted, with its row; "Don't know" is a non-answer
    found = [f for f in validate(ws, as_of=dt.date(2024, 12, 31)) if f.rule == "unparsable"]
    assert [(f.column, f.severity, f.count, f.rows) for f in found] == [("loy_trust", "warning", 1, (1_005,))]
    assert "such as 'Maybe'" in found[0].message


def test_labels_in_a_column_that_also_holds_other_text_stay_text(make_workspace):
    survey = "customer_id,response_date,note\nC1,2024-01-05,Agree\nC2,2024-01-05,call me back\n"
    ws = Workspace.open(make_workspace({"survey.csv": survey}))
    assert ws.scan("survey").collect_schema()["note"] == pl.String


def test_a_converted_copy_keeps_the_points_and_the_scale(make_workspace):
    from core.convert import convert_to_parquet

    answers = AGREE7 * 20
    survey = "customer_id,response_date,loy_trust\n" + "".join(
        f"C{i},2024-01-05,{a}\n" for i, a in enumerate(answers))
    folder = make_workspace({"survey.csv": survey})
    convert_to_parquet(Workspace.open(folder))
    ws = Workspace.open(folder)
    assert ws.sources["survey"].path.name == "survey.parquet"
    assert ws.scan("survey").collect()["loy_trust"].to_list() == list(range(1, 8)) * 20
    assert ("loy_trust", 1.0, 7.0) == next(r[:3] for r in ws.sources["survey"].ranges if r[0] == "loy_trust")


def test_scale_init_gives_a_likert_item_its_scales_range(make_workspace):
    from core.scale.run import init_text
    from core.scale.spec import parse_spec

    tx = "customer_id,order_date,amount\n" + "".join(f"C{i},2024-01-05,5\n" for i in range(30))
    survey = "customer_id,response_date,nps,loy_trust\n" + "".join(
        f"C{i},2024-01-05,{i % 11},{AGREE7[i % 7]}\n" for i in range(30))
    spec = parse_spec(init_text(Workspace.open(make_workspace({"transactions.csv": tx, "survey.csv": survey}))))
    ranges = {item.column: item.range for item in spec.items}
    assert ranges["loy_trust"] == (1, 7) and ranges["nps"] == (0, 10)
