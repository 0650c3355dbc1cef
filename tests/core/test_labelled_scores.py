"""Survey tools export a score's end points with their labels ("10 - Extremely likely",
"0 - Not at all likely") and the points between as numbers. The number before the label is
the answer: read as missing, every promoter answering 10 would drop out of the NPS."""

import pytest

from core.errors import InputError
from core.registry import run_analysis
from core.validate import validate
from core.workspace import Workspace

TX = "customer_id,order_date,amount\nC1,2024-01-05,10\nC2,2024-01-06,20\n"
# as a survey tool writes them: labels at the ends of the scale (one with an en dash), numbers between
ANSWERS = ["10 - Extremely likely", "9", "0 - Not at all likely", "7", "6", "3", "10 – Extremely likely"]


def _survey(answers, column="nps"):
    rows = "".join(f"C{i % 2 + 1},2024-01-{i + 10:02d},\"{a}\"\n" for i, a in enumerate(answers))
    return f"customer_id,response_date,{column}\n{rows}"


def test_the_number_before_the_label_is_the_answer(make_workspace):
    answers = [*ANSWERS, "10 - Extremely likely"]  # promoters 4 (10, 9, 10, 10), detractors 3 (0, 6, 3), of 8
    labelled = make_workspace({"transactions.csv": TX, "survey.csv": _survey(answers)})
    result = run_analysis("report.nps", Workspace.open(labelled, lazy=True))
    assert result.headline["responses"] == 8
    assert result.headline["nps"] == pytest.approx(100 * (4 - 3) / 8)
    assert validate(Workspace.open(labelled)) == []  # nothing unparsed, nothing out of range


def test_csat_labels_read_the_same_way(make_workspace):
    answers = ["5 - Very satisfied", "1 - Very dissatisfied", "4", "3"]
    folder = make_workspace({"transactions.csv": TX, "survey.csv": _survey(answers, "csat")})
    read = Workspace.open(folder).scan("survey").collect()
    assert read["csat"].to_list() == [5, 1, 4, 3]


def test_a_labelled_number_out_of_range_is_still_an_error(make_workspace):
    folder = make_workspace({"transactions.csv": TX, "survey.csv": _survey(["11 - Extremely likely", "9"])})
    with pytest.raises(InputError, match="outside"):
        run_analysis("report.nps", Workspace.open(folder, lazy=True))


@pytest.mark.parametrize("answer", ["Extremely likely", "5 - 7", "7-8"])
def test_a_label_without_a_leading_answer_is_still_refused(make_workspace, answer):
    folder = make_workspace({"transactions.csv": TX, "survey.csv": _survey([answer, "9"])})
    [finding] = [f for f in validate(Workspace.open(folder)) if f.table == "survey"]
    assert finding.severity == "error" and finding.rule == "unparsable" and finding.rows == (2,)
