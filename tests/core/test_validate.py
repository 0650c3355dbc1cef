"""Every validation rule, each with its own small bad-input file."""

import dataclasses
import datetime as dt

import pytest

from core.errors import InputError, MissingTableError
from core.invalid import checked_workspace
from core.validate import validate
from core.workspace import Workspace

GOOD_TX = "customer_id,order_date,amount,order_id\nC1,2024-01-05,10,O1\nC2,2024-01-06,20,O2\n"


def findings(folder, **kwargs):
    return {(f.table, f.column, f.rule): f for f in validate(Workspace.open(folder), **kwargs)}


def test_clean_workspace_has_no_findings(make_workspace):
    folder = make_workspace({"transactions.csv": GOOD_TX, "customers.csv": "customer_id\nC1\nC2\n"})
    assert findings(folder, as_of=dt.date(2024, 12, 31)) == {}


@pytest.mark.parametrize("files, key, severity, count, rows", [
    ({"transactions.csv": "customer_id,order_date,amount\nC1,2024-01-05,1\nC2,2024-01-05,-4\nC3,2024-01-05,-1\n"},
     ("transactions", "amount", "negative_amount"), "warning", 2, (3, 4)),
    ({"transactions.csv": "customer_id,order_date,amount\nC1,2024-01-05,1\nC2,not a date,2\n"},
     ("transactions", "order_date", "unparsable"), "error", 1, (3,)),
    ({"transactions.csv": "customer_id,order_date,amount\nC1,2024-01-05,abc\n"},
     ("transactions", "amount", "unparsable"), "error", 1, (2,)),
    ({"transactions.csv": "customer_id,order_date,amount\n,2024-01-05,1\n"},
     ("transactions", "customer_id", "missing_value"), "error", 1, (2,)),
    ({"transactions.csv": "customer_id,order_date,amount,order_id\nC1,2024-01-05,1,O1\nC1,2024-01-05,1,O1\nC2,2024-01-06,1,O2\n"},
     ("transactions", "order_id", "duplicate_order"), "warning", 2, (2, 3)),
    ({"transactions.csv": "customer_id,order_date,amount\nC1,2024-01-05,1\nC1,2025-03-01,1\n"},
     ("transactions", "order_date", "date_after_as_of"), "warning", 1, (3,)),
    ({"transactions.csv": GOOD_TX, "customers.csv": "customer_id\nC1\nC1\n"},
     ("customers", "customer_id", "duplicate_customer"), "error", 2, (2, 3)),
    ({"transactions.csv": GOOD_TX, "customers.csv": "customer_id\nC1\n"},
     ("transactions", "customer_id", "orphan_customer"), "warning", 1, (3,)),
    ({"transactions.csv": GOOD_TX, "survey.csv": "customer_id,nps\nC1,9\nC2,11\n"},
     ("survey", "nps", "out_of_range"), "error", 1, (3,)),
    ({"transactions.csv": GOOD_TX, "survey.csv": "customer_id,csat\nC1,4\nC2,7\n"},
     ("survey", "csat", "out_of_range"), "error", 1, (3,)),  # CSAT 7 on 1-5: a wrong mean
    ({"transactions.csv": GOOD_TX, "customers.csv": "customer_id,age\nC1,40\nC2,forty\n"},
     ("customers", "age", "unparsable"), "warning", 1, (3,)),
])
def test_rule(make_workspace, files, key, severity, count, rows):
    found = findings(make_workspace(files), as_of=dt.date(2024, 12, 31))
    assert key in found, sorted(found)
    finding = found[key]
    assert (finding.severity, finding.count, finding.rows) == (severity, count, rows)
    assert finding.fix  # every finding says how to fix it


@pytest.mark.parametrize("first_rows", [1000, 1])  # category's one value: in the first rows read, or after them
@pytest.mark.parametrize("quantity", ["", '""'])  # an empty field, and a quoted one (as Polars writes "")
def test_an_optional_column_empty_in_every_row_is_one_warning(make_workspace, monkeypatch, quantity, first_rows):
    # a POS export with its channel and quantity columns left blank: one warning per column,
    # counting the table's rows; a column with one value somewhere is not flagged
    import core.validate

    monkeypatch.setattr(core.validate, "FIRST_ROWS", first_rows)
    tx = ("customer_id,order_date,amount,channel,quantity,category\n"
          + "".join(f"C{i},2024-01-0{i},{i},,{quantity},{'food' if i == 3 else ''}\n" for i in range(1, 5)))
    found = findings(make_workspace({"transactions.csv": tx}), as_of=dt.date(2024, 12, 31))
    empty = {key[1]: f for key, f in found.items() if key[2] == "empty_column"}
    assert sorted(empty) == ["channel", "quantity"]
    assert all((f.severity, f.count, f.rows) == ("warning", 4, ()) for f in empty.values())
    assert empty["channel"].message == "'channel' is empty in every row" and "channel" in empty["channel"].fix


def test_labels_written_more_than_one_way_are_a_counted_warning(make_workspace):
    # 'web' 4 times, 'Web' twice, 'WEB' once; 'store' once; a touch type's case is the engagement report's
    channels = ["web", "Web", "web", "WEB", "web", "store", "Web", "web"]
    tx = "customer_id,order_date,amount,channel\n" + "".join(
        f"C{i},2024-01-01,1,{channel}\n" for i, channel in enumerate(channels))
    tp = "customer_id,timestamp,channel,touch_type\nC1,2024-01-01 10:00,email,Open\nC2,2024-01-01 11:00,email,open\n"
    found = findings(make_workspace({"transactions.csv": tx, "touchpoints.csv": tp}), as_of=dt.date(2024, 12, 31))
    variants = [f for key, f in found.items() if key[2] == "spelling_variants"]
    assert len(variants) == 1
    finding = variants[0]
    assert (finding.severity, finding.table, finding.column) == ("warning", "transactions", "channel")
    # the rows not in the most common spelling, numbered as a spreadsheet does (header = row 1)
    assert finding.count == 3 and finding.rows == (3, 5, 8)
    assert "'web' (4), 'Web' (2), 'WEB' (1)" in finding.message and "'store'" not in finding.message


def test_values_that_do_not_parse_are_shown_as_written(make_workspace):
    tx = "customer_id,order_date,amount,quantity\nC1,2024-01-05,ask Bob,2\nC2,2024-01-05,ask Bob,two\nC3,2024-01-05,3,1\n"
    found = findings(make_workspace({"transactions.csv": tx}), as_of=dt.date(2024, 12, 31))
    assert found[("transactions", "amount", "unparsable")].message.endswith("such as 'ask Bob'")  # once, not twice
    assert found[("transactions", "quantity", "unparsable")].message.endswith("(treated as missing), such as 'two'")


def test_spreadsheet_day_numbers_and_a_repeated_header_are_told_for_what_they_are(make_workspace):
    # an Excel date column exported as General (45296 is 2024-01-05); two exports joined, header and all
    serial = "customer_id,order_date,amount\nC1,45296,1\nC2,45297,1\n"
    found = findings(make_workspace({"transactions.csv": serial}), as_of=dt.date(2024, 12, 31))
    fix = found[("transactions", "order_date", "unparsable")].fix
    assert "spreadsheet's day numbers (45296 is 2024-01-05)" in fix
    epoch = "customer_id,timestamp,channel\nC1,1704465000,email\nC2,1704465060,email\n"  # a web log's Unix seconds
    found = findings(make_workspace({"touchpoints.csv": epoch}), as_of=dt.date(2024, 12, 31))
    assert "Unix times in seconds (1704465000 is 2024-01-05 14:30:00 UTC)" in \
        found[("touchpoints", "timestamp", "unparsable")].fix
    joined = "customer_id,order_date,amount\nC1,2024-01-05,1\ncustomer_id,order_date,amount\nC2,2024-01-06,2\n"
    found = findings(make_workspace({"transactions.csv": joined}), as_of=dt.date(2024, 12, 31))
    finding = found[("transactions", "amount", "unparsable")]
    assert finding.rows == (3,) and "repeat the header" in finding.fix


def test_orphan_ids_are_shown_and_ids_written_with_decimals_are_told(make_workspace):
    # a spreadsheet's number format wrote the transactions' ids as 799.0; the customers have 799
    tx = "customer_id,order_date,amount\n799.0,2024-01-05,1\n12.0,2024-01-05,1\n799.0,2024-01-06,1\n"
    found = findings(make_workspace({"transactions.csv": tx, "customers.csv": "customer_id\n799\n12\n"}),
                     as_of=dt.date(2024, 12, 31))
    finding = found[("transactions", "customer_id", "orphan_customer")]
    assert finding.count == 3 and finding.message.endswith("such as '799.0', '12.0'")
    assert "written with decimals" in finding.fix and "whole numbers (799)" in finding.fix


def test_a_score_answer_that_does_not_parse_stops_rather_than_counting_as_missing(make_workspace):
    # a survey tool's export with the scale's end labels alone: read as missing, every 10 would leave
    # the NPS ("10 - Extremely likely" is read as 10: test_labelled_scores)
    survey = ("customer_id,response_date,nps,comment\nC1,2024-01-05,Extremely likely,great\n"
              "C2,2024-01-05,7,ok\nC3,2024-01-05,N/A,\nC4,2024-01-05,Not at all likely,bad\n")
    found = findings(make_workspace({"survey.csv": survey}), as_of=dt.date(2024, 12, 31))
    finding = found[("survey", "nps", "unparsable")]
    assert (finding.severity, finding.count, finding.rows) == ("error", 2, (2, 5))  # N/A is no answer
    assert "treated as missing" not in finding.message and "numbers (0-10), not their labels" in finding.fix


def test_a_likert_item_read_as_numbers_with_a_label_further_on_is_counted(make_workspace):
    # numbers in the first 1,000 rows (where the column is judged numeric), then a label and an N/A
    answers = [str(1 + i % 5) for i in range(1_040)] + ["Agree", "N/A"]
    survey = "customer_id,response_date,sat_x\n" + "".join(f"C{i},2024-01-05,{a}\n" for i, a in enumerate(answers))
    folder = make_workspace({"survey.csv": survey})
    finding = findings(folder, as_of=dt.date(2024, 12, 31))[("survey", "sat_x", "unparsable")]
    assert (finding.severity, finding.count, finding.rows) == ("warning", 1, (1_042,))
    assert finding.message.endswith("(treated as missing), such as 'Agree'")
    # with a declared range it is a score: the label stops the analyses, as in nps
    folder.joinpath("loyalist.toml").write_text('[tables.survey.ranges]\nsat_x = [1, 5]\n')
    finding = findings(folder, as_of=dt.date(2024, 12, 31))[("survey", "sat_x", "unparsable")]
    assert finding.severity == "error" and "treated as missing" not in finding.message


def test_amounts_in_several_currencies_stop_the_analyses(make_workspace):
    # an international shop's export: a Currency column beside the amounts, one currency or several
    rows = [("USD", 5), ("EUR", 2), ("usd ", 1), ("", 1), ("GBP", 1)]
    tx = "customer_id,order_date,amount,Currency\n" + "".join(
        f"C{i},2024-01-05,10,{code}\n" for i, (code, n) in enumerate(rows) for _ in range(n))
    folder = make_workspace({"transactions.csv": tx})
    found = findings(folder, as_of=dt.date(2024, 12, 31))
    finding = found[("transactions", "Currency", "mixed_currencies")]
    assert (finding.severity, finding.count, finding.rows) == ("error", 3, (7, 8, 11))  # a blank is no currency
    with pytest.raises(InputError, match="3 currencies"):  # no row can be left out to mend it
        checked_workspace(dataclasses.replace(Workspace.open(folder), skip_invalid=True), ("transactions",), (),
                          "RFM")
    assert "3 currencies" in finding.message and "'USD' (6 rows), 'EUR' (2 rows), 'GBP' (1 row)" in finding.message
    # a customer's currency may be a preference, not what the acquisition cost is in
    customers = "customer_id,acquisition_cost,currency\nC0,10,USD\nC1,10,EUR\n"
    assert not [k for k in findings(make_workspace({"transactions.csv": tx, "customers.csv": customers}))
                if k[0] == "customers" and k[2] == "mixed_currencies"]
    one = "customer_id,order_date,amount,currency\nC1,2024-01-05,10,EUR\nC2,2024-01-05,10,eur\n"
    assert not [k for k in findings(make_workspace({"transactions.csv": one}), as_of=dt.date(2024, 12, 31))
                if k[2] == "mixed_currencies"]


def test_missing_required_column(make_workspace):
    found = findings(make_workspace({"transactions.csv": "customer_id,amount\nC1,1\n"}))
    finding = found[("transactions", "order_date", "missing_required_column")]
    assert finding.severity == "error" and "loyalist.toml" in finding.fix


def test_header_only_file_is_an_empty_table(make_workspace):
    found = findings(make_workspace({"transactions.csv": "customer_id,order_date,amount\n"}))
    assert found[("transactions", "", "empty_table")].severity == "error"


def test_rows_in_parquet_are_record_numbers(make_workspace):
    import polars as pl

    folder = make_workspace({})
    pl.DataFrame({"customer_id": ["C1", "C2"], "order_date": [dt.date(2024, 1, 1)] * 2,
                  "amount": [1.0, -2.0]}).write_parquet(folder / "transactions.parquet")
    assert findings(folder)[("transactions", "amount", "negative_amount")].rows == (2,)


def test_errors_stop_an_analysis_and_warnings_drop_nothing(make_workspace):
    bad = make_workspace({"transactions.csv": "customer_id,order_date,amount\nC1,2024-01-05,1\nC2,yesterday,2\n"})
    with pytest.raises(InputError) as err:
        Workspace.open(bad).require("transactions", analysis="RFM")
    assert "transactions.csv" in str(err.value) and "rows 3" in str(err.value)

    warned = make_workspace({"transactions.csv": "customer_id,order_date,amount\nC1,2024-01-05,1\nC2,2024-01-05,-2\n"})
    ws = Workspace.open(warned)
    ws.require("transactions", analysis="RFM")  # warnings only: goes ahead
    assert ws.scan("transactions").collect().height == 2


def test_missing_table_names_the_analysis(make_workspace):
    ws = Workspace.open(make_workspace({"transactions.csv": GOOD_TX}))
    with pytest.raises(MissingTableError, match="NPS report needs the 'survey' table"):
        ws.require("survey", analysis="NPS report")


def test_ragged_rows_are_named_not_a_crash(make_workspace):
    head = "customer_id,order_date,amount\n" + "C1,2024-01-05,1\n" * 1500
    folder = make_workspace({"transactions.csv": head + "C2,2024-01-05,1,surplus\n"})
    with pytest.raises(InputError) as err:  # at open or at the check before an analysis
        Workspace.open(folder).require("transactions", analysis="RFM")
    assert "transactions.csv" in str(err.value) and "rows 1502" in str(err.value)
    early = make_workspace({"transactions.csv": "customer_id,order_date,amount\nC1,2024-01-05,1,2\n"})
    with pytest.raises(InputError, match="rows 2"):
        Workspace.open(early)
    # rows one field longer than a header without the trailing delimiter: ragged rows, not a title
    trailing = make_workspace({"transactions.csv": "customer_id,order_date,amount\n" + "C1,2024-01-05,1,\n" * 60})
    with pytest.raises(InputError, match="different number of fields"):
        Workspace.open(trailing)


def test_title_lines_above_the_header_are_named(make_workspace):
    # a POS report's title and date lines, and a blank line, above the header; the rows leave their
    # last field (a promotion code) empty
    text = "Sales report - Store 12\nGenerated:,2025-12-01 08:00\n\ncustomer_id,order_date,amount,promo_id\n" \
        + "C1,2024-01-05,1,\n" * 60
    with pytest.raises(InputError) as err:
        Workspace.open(make_workspace({"transactions.csv": text})).require("transactions", analysis="RFM")
    assert err.value.rows == (1, 2, 3)
    assert "line 4 looks like the header" in str(err.value) and "delete the first 3 lines" in str(err.value)


REPEATS = ("order_id,product_id,customer_id,order_date,amount\n"
           + "".join(f"O{i % 23},P{i % 3},C{i % 11},2024-01-{1 + i % 28:02d},{5 + i}\n" for i in range(80))
           + ",P1,C1,2024-02-01,3\n,P1,C1,2024-02-01,3\n")  # an empty order id repeats nothing


def repeated_by_pandas(text: str) -> tuple[int, tuple[int, ...]]:
    import io

    import pandas as pd

    frame = pd.read_csv(io.StringIO(text), dtype=str)
    keyed = frame[frame["order_id"].notna()]
    flagged = keyed[keyed.duplicated(["order_id", "product_id"], keep=False)]
    return len(flagged), tuple(int(i) + 2 for i in flagged.index[:5])  # file rows after the header


@pytest.mark.parametrize("budget", [None, "2k"])  # one pass, or a pass per 50 rows' hashes
def test_repeated_order_lines_are_counted_exactly_within_the_memory_budget(make_workspace, monkeypatch, budget):
    """duplicate_order holds a hash per row (in passes when the budget asks), not the text; the
    count and the first rows are those pandas finds."""
    if budget:
        monkeypatch.setenv("LOYALIST_MEMORY_LIMIT", budget)
    [found] = [f for f in findings(make_workspace({"transactions.csv": REPEATS})).values() if f.rule == "duplicate_order"]
    assert (found.count, found.rows) == repeated_by_pandas(REPEATS)


def test_keys_that_share_a_hash_are_compared_exactly(make_workspace, monkeypatch):
    import polars as pl

    import core.validate

    monkeypatch.setattr(core.validate, "_key_hash", lambda key: pl.lit(7, pl.UInt64))  # every key collides
    [found] = [f for f in findings(make_workspace({"transactions.csv": REPEATS})).values() if f.rule == "duplicate_order"]
    assert (found.count, found.rows) == repeated_by_pandas(REPEATS)
