"""`loyalist products ...`: exit codes, the planted pairs through the CLI, and a file without
product_id refused with the column and the mapping that fixes it."""

import csv
import io

import pytest
from typer.testing import CliRunner

from commands.app import app
from tests.conftest import SAMPLE

runner = CliRunner()

# A POS export: the product column is called "Warenbezeichnung", which Loyalist cannot guess.
POS = ("order_id,customer_id,order_date,amount,Warenbezeichnung\n"
       "R1,K1,2024-03-01,4.50,milk\nR1,K1,2024-03-01,2.20,bread\n"
       "R2,K2,2024-03-02,4.50,milk\nR2,K2,2024-03-02,2.20,bread\n"
       "R3,K3,2024-03-03,4.50,milk\nR3,K3,2024-03-03,1.10,eggs\n"
       "R4,K1,2024-03-09,2.20,bread\nR4,K1,2024-03-09,1.10,eggs\n")


def rows(output: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(output)))


def test_rules_on_the_sample_list_the_planted_pairs():
    result = runner.invoke(app, ["products", "rules", "-w", str(SAMPLE), "--min-lift", "10", "--format", "csv"])
    assert result.exit_code == 0, result.output
    found = {(r["antecedent"], r["consequent"]) for r in rows(result.stdout)}
    assert ("ELE-003", "ELE-052") in found and ("SPO-004", "GRO-058") in found and len(found) == 12


def test_without_product_id_the_error_names_the_column_and_the_mapping(make_workspace):
    folder = make_workspace({"transactions.csv": POS})
    for command in ("rules", "recommend", "evaluate", "cross-sell"):
        result = runner.invoke(app, ["products", command, "-w", str(folder)])
        assert result.exit_code == 2, (command, result.output)
        assert "product_id" in result.output and "[tables.transactions.columns]" in result.output, command
        assert "internal error" not in result.output.lower()


def test_the_mapping_the_error_suggests_works(make_workspace):
    folder = make_workspace({"transactions.csv": POS,
                             "loyalist.toml": '[tables.transactions.columns]\nproduct_id = "Warenbezeichnung"\n'})
    result = runner.invoke(app, ["products", "rules", "-w", str(folder), "--min-support", "0.5", "--min-lift", "0",
                                 "--format", "csv"])
    assert result.exit_code == 0, result.output
    # bread and milk are in 2 of 4 orders together: support 0.5, confidence 2/3, lift (2/3) / (3/4)
    found = {(r["antecedent"], r["consequent"]): r for r in rows(result.stdout)}
    assert float(found[("milk", "bread")]["confidence"]) == 2 / 3
    assert float(found[("milk", "bread")]["support"]) == 0.5
    assert float(found[("milk", "bread")]["lift"]) == pytest.approx(8 / 9, abs=1e-4)


def test_recommend_for_a_customer_and_bad_options():
    result = runner.invoke(app, ["products", "recommend", "-w", str(SAMPLE), "--customer", "C000001", "--top", "3",
                                 "--format", "csv"])
    assert result.exit_code == 0, result.output
    picks = rows(result.stdout)
    assert [p["rank"] for p in picks] == ["1", "2", "3"] and {p["customer_id"] for p in picks} == {"C000001"}
    assert all(p["reason"].startswith("bought with ") for p in picks if p["source"] == "item_item")
    unknown = runner.invoke(app, ["products", "recommend", "-w", str(SAMPLE), "--customer", "NOBODY"])
    assert unknown.exit_code == 2 and "NOBODY" in unknown.output
    bad = runner.invoke(app, ["products", "recommend", "-w", str(SAMPLE), "--method", "magic"])
    assert bad.exit_code == 2
    both = runner.invoke(app, ["products", "cross-sell", "-w", str(SAMPLE), "--product", "ELE-003",
                               "--by", "tier", "--segment", "gold"])
    assert both.exit_code == 2 and "not both" in both.output


def test_cross_sell_of_a_planted_pair_puts_its_partner_first():
    result = runner.invoke(app, ["products", "cross-sell", "-w", str(SAMPLE), "--product", "ELE-003", "--format",
                                 "csv"])
    assert result.exit_code == 0, result.output
    assert rows(result.stdout)[0]["product_id"] == "ELE-052"
