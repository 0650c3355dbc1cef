"""`loyalist report comments|kano` through the real Typer app, on survey exports shaped like
real ones (a GB18030 CSV from a Chinese survey tool), with their exit codes."""

import json

from typer.testing import CliRunner

from commands.app import app

runner = CliRunner()
SURVEY = ("customer_id,response_date,nps,comment,kano_gift_func,kano_gift_dysf\n"
          "C1,2025-06-01,10,送货很快，质量很好,喜欢,无所谓\n"
          "C2,2025-06-02,9,\"Great service, will buy again\",like,neutral\n"
          "C3,2025-06-03,2,客服态度很差，非常失望,无所谓,无所谓\n"
          "C4,2025-06-04,3,\"Terrible quality, it broke\",3,3\n"
          "C5,2025-06-05,8,,能忍受,不喜欢\n"
          "C6,2025-06-06,7,👍👍,neutral,dislike\n")


def invoke(*args: str):
    return runner.invoke(app, ["report", *args], env={"COLUMNS": "200"})


def test_comments_json_from_a_gb18030_export(make_workspace):
    folder = make_workspace({"survey.csv": SURVEY.encode("gb18030")})
    result = invoke("comments", "-w", str(folder), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["comments"] == 4
    coverage = {r["status"]: r["answers"] for r in data["coverage"]}
    assert coverage["zh"] == 2 and coverage["en"] == 2 and coverage["none"] == 1 and coverage["no_words"] == 1
    groups = {r["group"]: r for r in data["summary"] if r["dimension"] == "nps_group"}
    assert groups["detractor"]["mean_score"] < 0 < groups["promoter"]["mean_score"]


def test_kano_from_words_in_two_languages(make_workspace):
    folder = make_workspace({"survey.csv": SURVEY.encode("gb18030")})
    result = invoke("kano", "-w", str(folder), "--format", "json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)["features"][0]
    # like/neutral twice -> A; neutral/neutral twice -> I; live with/dislike, neutral/dislike -> M
    assert (row["A"], row["I"], row["M"], row["answers"]) == (2, 2, 2, 6)
    assert row["category"] == "M"  # a three-way tie goes to must-be


def test_a_survey_without_comments_exits_1_and_a_bad_kano_answer_exits_2(make_workspace):
    folder = make_workspace({"survey.csv": "customer_id,nps,comment,kano_x_func,kano_x_dysf\n"
                                           "C1,9,,like,maybe\nC2,3,,like,dislike\n"})
    result = invoke("comments", "-w", str(folder))
    assert result.exit_code == 1
    assert "Chinese or English comment" in result.output
    result = invoke("kano", "-w", str(folder))
    assert result.exit_code == 2
    assert "kano_x_dysf" in result.output


def test_comment_drivers_json_and_exit_1_without_promoters(make_workspace):
    rows = "".join(f"D{i},2025-06-01,2,\"Delivery was late, box damaged\"\n" for i in range(6))
    rows += "".join(f"P{i},2025-06-01,10,\"Great quality, friendly staff\"\n" for i in range(6))
    folder = make_workspace({"survey.csv": "customer_id,response_date,nps,comment\n" + rows})
    result = invoke("comment-drivers", "-w", str(folder), "--format", "json")
    assert result.exit_code == 0, result.output
    terms = {r["term"]: r for r in json.loads(result.stdout)["drivers"]}
    assert terms["late"]["said_more_by"] == "detractors" and terms["quality"]["said_more_by"] == "promoters"
    assert (terms["late"]["detractor_mentions"], terms["late"]["promoter_mentions"]) == (6, 0)
    folder = make_workspace({"survey.csv": "customer_id,nps,comment\nC1,3,Late again\nC2,5,Too slow\n"})
    result = invoke("comment-drivers", "-w", str(folder))
    assert result.exit_code == 1
    assert "both detractors" in result.output
