"""Headers that could be one contract column: refused, never guessed."""

import pytest
from typer.testing import CliRunner

from commands.app import app
from core.errors import InputError
from core.workspace import Workspace

# A CRM export with both a customer name-ish key and the loyalty card id.
CRM = "Customer,CustID,Order Date,Sales\nC-17,0042,2024-01-05,12.50\nC-18,0043,2024-01-06,8.00\n"


def test_two_headers_matching_one_column_are_refused_naming_both(make_workspace):
    folder = make_workspace({"transactions.csv": CRM})
    with pytest.raises(InputError) as err:
        Workspace.open(folder)
    message = str(err.value)
    assert "'Customer'" in message and "'CustID'" in message and "customer_id" in message
    assert "transactions.csv" in message and "[tables.transactions.columns]" in message


def test_the_mapping_fix_resolves_it(make_workspace):
    folder = make_workspace({
        "transactions.csv": CRM,
        "loyalist.toml": '[tables.transactions.columns]\ncustomer_id = "CustID"\n',
    })
    df = Workspace.open(folder).scan("transactions").collect()
    assert df["customer_id"].to_list() == ["0042", "0043"]
    assert df["Customer"].to_list() == ["C-17", "C-18"]  # the other header stays as an extra


def test_the_canonical_name_itself_wins_over_a_synonym(make_workspace):
    folder = make_workspace({"transactions.csv": "customer_id,CustID,order_date,amount\nA,B,2024-01-05,1\n"})
    assert Workspace.open(folder).scan("transactions").collect()["customer_id"].to_list() == ["A"]


def test_cli_exit_code_two(make_workspace):
    result = CliRunner().invoke(app, ["data", "inspect", "-w", str(make_workspace({"transactions.csv": CRM}))])
    assert result.exit_code == 2 and "CustID" in result.stderr and "internal error" not in result.output
