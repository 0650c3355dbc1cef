"""loyalist alerts: rules in loyalist.toml, checked strictly; a hand-made workspace whose
figures are counted by hand; the audience behind each fired alert; the CLI writes it."""

import datetime as dt

import polars as pl
import pytest
from typer.testing import CliRunner

from commands.app import app
from core.alerts import check_alerts
from core.errors import InputError
from core.workspace import Workspace

# As of 2024-03-31 with a 28-day window: this window is 03-04..03-31, the one before 02-05..03-03.
# Before: A, B, C, D buy (A twice); now: A, B and the newcomer E. Active 4 -> 3 (-25%).
TX = ("customer_id,order_date,amount\n"
      "A,2024-02-10,100\nA,2024-02-20,100\nB,2024-02-11,50\nC,2024-02-12,40\nD,2024-03-01,10\n"
      "A,2024-03-10,60\nB,2024-03-12,50\nE,2024-03-31,30\nC,2023-12-01,5\n")
RULES = '''
[[alerts]]
name = "active falls"
metric = "active_customers"
change = "-15%"
window = "28d"

[[alerts]]
metric = "revenue"
change = "+10%"
window = "4w"

[[alerts]]
metric = "orders"
change = "30%"
window = "28d"
'''


def workspace(make_workspace, rules=RULES):
    return make_workspace({"transactions.csv": TX, "loyalist.toml": rules})


def test_hand_counted_alerts_and_their_audience(make_workspace):
    result = check_alerts(Workspace.open(workspace(make_workspace)), as_of=dt.date(2024, 3, 31))
    rows = {r["alert"]: r for r in result.tables["alerts"].iter_rows(named=True)}
    active = rows["active falls"]
    assert (active["figure"], active["comparison"], active["fired"], active["customers"]) == (3, 4, True, 2)
    assert active["relative_change"] == pytest.approx(-0.25)
    revenue = rows["revenue 4w"]  # 140 now against 300 before: a fall, and the rule watches for a rise
    assert (revenue["figure"], revenue["comparison"], revenue["fired"]) == (140, 300, False)
    orders = rows["orders 28d"]  # purchase days: 3 now against 5 before, -40%, either direction fires
    assert (orders["figure"], orders["comparison"], orders["fired"]) == (3, 5, True)
    audience = result.tables["audience"]
    assert audience.filter(pl.col("alert") == "active falls")["customer_id"].to_list() == ["C", "D"]
    # fewer purchase days now than before: A (2 -> 1), C (1 -> 0), D (1 -> 0)
    assert audience.filter(pl.col("alert") == "orders 28d")["customer_id"].to_list() == ["A", "C", "D"]
    assert result.headline == {"rules": 3, "fired": 2, "audience_customers": 3}


def test_segment_rules_count_only_that_segment(make_workspace):
    rules = '[[alerts]]\nmetric = "active_customers"\nsegment = "nope"\nchange = "-15%"\n'
    with pytest.raises(InputError, match="segment 'nope' is not an RFM segment") as err:
        check_alerts(Workspace.open(workspace(make_workspace, rules)), as_of=dt.date(2024, 3, 31))
    assert "use one of" in str(err.value)


@pytest.mark.parametrize("rules, words", [
    ('[[alerts]]\nmetric = "active_customer"\nchange = "-15%"\n', ["alert 1", "unknown metric 'active_customer'",
                                                                    "active_customers, revenue"]),
    ('[[alerts]]\nname = "x"\nmetric = "revenue"\nchange = "-15"\n', ["alert 1 ('x')", "not a percentage", '"-15%"']),
    ('[[alerts]]\nmetric = "revenue"\nchange = "-15%"\nwindow = "a month"\n', ["window 'a month'", '"4w"']),
    ('[[alerts]]\nmetric = "churn_risk"\n', ["churn_risk needs a threshold", "threshold = 0.8"]),
    ('[[alerts]]\nmetric = "revenue"\nchange = "-5%"\nthreshhold = 1\n', ["unknown key 'threshhold'",
                                                                          "did you mean 'threshold'"]),
    ('[[alerts]]\nmetric = "revenue"\nchange = "-10%"\n[[alerts]]\nname = "b"\nmetric = "revenue"\nchange = "15%"\n',
     ["alerts 1 ('revenue') and 2 ('b') overlap", "different segments or windows"]),
    ('[[alerts]]\nname = "a"\nmetric = "revenue"\nchange = "-10%"\n[[alerts]]\nname = "a"\nmetric = "orders"\n'
     'change = "-10%"\n', ["both named 'a'", "its own name"]),
    ('alerts = 3\n', ["alerts must be a list of tables"]),
])
def test_bad_rules_are_errors_naming_the_rule_and_the_fix(make_workspace, rules, words):
    with pytest.raises(InputError) as err:
        Workspace.open(workspace(make_workspace, rules))
    text = str(err.value) + " " + (err.value.fix or "")
    for word in words:
        assert word in text


def test_rules_in_opposite_directions_do_not_overlap(make_workspace):
    rules = ('[[alerts]]\nname = "down"\nmetric = "revenue"\nchange = "-10%"\n'
             '[[alerts]]\nname = "up"\nmetric = "revenue"\nchange = "+10%"\n')
    assert Workspace.open(workspace(make_workspace, rules)).options["alerts"][1]["name"] == "up"


def test_cli_lists_alerts_and_writes_the_audience(make_workspace, tmp_path):
    folder = workspace(make_workspace)
    out = tmp_path / "audience.csv"
    run = CliRunner().invoke(app, ["alerts", "-w", str(folder), "--as-of", "2024-03-31", "--output", str(out)])
    assert run.exit_code == 0, run.output
    written = pl.read_csv(out)
    assert written.filter(pl.col("alert") == "active falls")["customer_id"].to_list() == ["C", "D"]
    json_run = CliRunner().invoke(app, ["alerts", "-w", str(folder), "--as-of", "2024-03-31", "--format", "json"])
    assert '"fired": 2' in json_run.output


def test_no_rules_says_how_to_add_one(make_workspace):
    run = CliRunner().invoke(app, ["alerts", "-w", str(make_workspace({"transactions.csv": TX}))])
    assert run.exit_code == 0, run.output
    assert "No [[alerts]] in" in run.output and "0 of 0 fired" in run.output
