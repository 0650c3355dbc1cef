"""Survey answers as survey tools export them: N/A tokens, score ranges."""

import datetime as dt

import polars as pl
import pytest

from core.errors import InputError
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


# A survey-tool export on a 1-7 agreement scale, with one answer keyed on a 10-point scale.
SURVEY_7 = (
    "customer_id,response_date,nps,csat,ces,loy_trust,loy_recommend,visits\n"
    "C1,2024-01-10,9,4,2,7,6,12\n"
    "C2,2024-01-10,11,7,3,10,5,40\n"
    "C3,2024-01-10,0,1,9,1,N/A,3\n"
)


def _range_findings(folder):
    found = validate(Workspace.open(folder), as_of=dt.date(2024, 12, 31))
    return {f.column: f for f in found if f.rule == "out_of_range"}


def test_contract_ranges_refuse_nps_11_and_csat_7(make_workspace):
    found = _range_findings(make_workspace({"transactions.csv": TX, "survey.csv": SURVEY_7}))
    assert sorted(found) == ["csat", "nps"]  # Likert items have no range until one is declared
    assert (found["csat"].severity, found["csat"].rows) == ("error", (3,))
    assert "1–5" in found["csat"].message and "[tables.survey.ranges]" in found["csat"].fix
    assert found["nps"].rows == (3,) and "0–10" in found["nps"].message


def test_likert_ranges_declared_in_loyalist_toml(make_workspace):
    folder = make_workspace({
        "transactions.csv": TX, "survey.csv": SURVEY_7,
        "loyalist.toml": '[tables.survey.ranges]\n"loy_*" = [1, 7]\nces = [1, 7]\ncsat = [1, 7]\n',
    })
    found = _range_findings(folder)
    assert sorted(found) == ["ces", "loy_trust", "nps"]  # csat 7 is fine on the declared 1-7 scale
    assert found["loy_trust"].rows == (3,) and "1–7" in found["loy_trust"].message
    assert "loyalist.toml" in found["loy_trust"].message
    assert found["ces"].rows == (4,)


def test_a_range_matching_no_number_column_is_refused(make_workspace):
    folder = make_workspace({
        "transactions.csv": TX, "survey.csv": SURVEY_7,
        "loyalist.toml": '[tables.survey.ranges]\n"loyalty_*" = [1, 7]\n',
    })
    with pytest.raises(InputError) as err:
        Workspace.open(folder)
    assert "loyalty_*" in str(err.value) and "loy_trust" in str(err.value)
