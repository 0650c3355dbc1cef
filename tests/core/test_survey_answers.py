"""Survey answers as survey tools export them: N/A tokens, score ranges."""

import datetime as dt

import polars as pl

from core.scale.run import init_text
from core.validate import validate
from core.workspace import Workspace

TX = "customer_id,order_date,amount\nC1,2024-01-05,10\nC2,2024-01-06,20\nC3,2024-01-07,5\nC4,2024-01-08,8\n"
# A survey-tool export: N/A, a dash and the Chinese "not applicable" for skipped questions.
SURVEY_NA = (
    "customer_id,response_date,csat,loy_trust,loy_recommend\n"
    "C1,2024-01-10,4,5,N/A\n"
    "C2,2024-01-10,N/A,-,4\n"
    "C3,2024-01-10,5,不适用,3\n"
    "C4,2024-01-10,3,2, n/a \n"
)


def test_likert_columns_with_na_tokens_stay_numeric_with_those_answers_missing(make_workspace):
    ws = Workspace.open(make_workspace({"transactions.csv": TX, "survey.csv": SURVEY_NA}))
    survey = ws.scan("survey").collect()
    assert survey["loy_trust"].dtype == pl.Float64
    assert survey["loy_trust"].to_list() == [5.0, None, None, 2.0]
    assert survey["loy_recommend"].to_list() == [None, 4.0, 3.0, None]
    assert survey["csat"].to_list() == [4, None, 5, 3]
    # N/A is an answer left blank, not a value that failed to parse: no warning about it
    found = validate(ws, as_of=dt.date(2024, 12, 31))
    assert not [f for f in found if f.table == "survey"], found


def test_likert_columns_with_na_tokens_are_offered_by_scale_init(make_workspace):
    ws = Workspace.open(make_workspace({"transactions.csv": TX, "survey.csv": SURVEY_NA}))
    spec = init_text(ws)
    assert 'column = "loy_trust"' in spec and 'column = "loy_recommend"' in spec
