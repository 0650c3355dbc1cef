"""The mapping editor's core: candidates, the coercion preview, and writing loyalist.toml."""

import tomllib

import pytest

from core.errors import InputError
from core.mapping_edit import (AMBIGUOUS, BY_NAME, BY_SYNONYM, FROM_CONFIG, UNMAPPED, columns_to_write,
                               config_diff, draft_mapping, mappable_tables, preview, proposed_config, write_config)
from core.workspace import Workspace

SALES = (
    "CustID,Customer,Order Date,Total,Notes\n"
    "A1,Ann,2024-01-05,12.5,x\n"
    "A2,Bob,2024-02-06,n/a,y\n"
    "A3,Cy,2024-03-07,abc,z\n"
    "A4,Di,yesterday,7,w\n"
)
CONFIG = '# shop workspace\ntime_zone = "UTC"  # the shop is in London\n\n[tables.transactions]\non_invalid = "skip"  # bad rows are counted\n'


def test_two_candidate_headers_are_shown_not_refused(make_workspace):
    root = make_workspace({"transactions.csv": SALES})
    with pytest.raises(InputError, match="could both be customer_id"):
        Workspace.open(root)  # what the editor is for
    draft = draft_mapping(root, "transactions")
    by = {ch.column: ch for ch in draft.choices}
    assert by["customer_id"].how == AMBIGUOUS and by["customer_id"].header is None
    assert by["customer_id"].candidates[:2] == ("CustID", "Customer")  # the synonyms first
    assert (by["order_date"].header, by["order_date"].how) == ("Order Date", BY_NAME)
    assert (by["amount"].header, by["amount"].how) == ("Total", BY_SYNONYM)
    assert by["order_id"].how == UNMAPPED
    assert draft.needs_attention
    assert draft.values("Customer") == ["Ann", "Bob", "Cy"]


def test_preview_counts_values_that_would_not_parse(make_workspace):
    draft = draft_mapping(make_workspace({"transactions.csv": SALES}), "transactions")
    amount = preview(draft, "amount", "Total")
    assert (amount.values, amount.failed, amount.examples) == (3, 1, ("abc",))  # n/a is a missing value
    dates = preview(draft, "order_date", "Order Date")
    assert (dates.values, dates.failed, dates.examples) == (4, 1, ("yesterday",))
    wrong = preview(draft, "order_date", "Customer")  # names are no dates
    assert wrong.failed == wrong.values == 4
    assert preview(draft, "customer_id", "CustID").failed == 0


def test_saving_a_choice_keeps_comments_and_opens_the_workspace(make_workspace):
    root = make_workspace({"transactions.csv": SALES, "loyalist.toml": CONFIG})
    draft = draft_mapping(root, "transactions")
    chosen = {**draft.current(), "customer_id": "CustID"}
    columns = columns_to_write(draft, chosen)
    assert columns == {"customer_id": "CustID"}  # the names already say the rest
    old, new = proposed_config(draft.config_path, "transactions", columns)
    diff = config_diff(draft.config_path, old, new)
    assert '+customer_id = "CustID"' in diff and "-" not in diff.split("@@")[-1].replace("---", "")
    write_config(draft.config_path, old, new)
    text = (root / "loyalist.toml").read_text(encoding="utf-8")
    assert "# shop workspace" in text and "# the shop is in London" in text and "# bad rows are counted" in text
    assert tomllib.loads(text) == {"time_zone": "UTC", "tables": {"transactions": {
        "on_invalid": "skip", "columns": {"customer_id": "CustID"}}}}
    source = Workspace.open(root).sources["transactions"]
    assert {m.canonical: m.source for m in source.columns}["customer_id"] == "CustID"
    assert not draft_mapping(root, "transactions").needs_attention


def test_a_new_loyalist_toml_is_written_when_there_is_none(make_workspace):
    root = make_workspace({"transactions.csv": SALES})
    draft = draft_mapping(root, "transactions")
    old, new = proposed_config(draft.config_path, "transactions", {"customer_id": "Customer"})
    write_config(draft.config_path, old, new)
    assert tomllib.loads((root / "loyalist.toml").read_text()) == {
        "tables": {"transactions": {"columns": {"customer_id": "Customer"}}}}
    assert [p.name for p in root.iterdir() if p.name.startswith(".loyalist")] == []  # no temporary file left


def test_an_existing_entry_is_changed_in_place_and_a_dropped_one_removed(make_workspace):
    config = ('[tables.transactions.columns]\ncustomer_id = "Customer"  # the name column, for now\n'
              'order_id = "Notes"\n\n[tables.customers]\nfile = "people.csv"\n')
    root = make_workspace({"transactions.csv": SALES, "loyalist.toml": config, "people.csv": "id,name\n1,a\n"})
    draft = draft_mapping(root, "transactions")
    assert next(ch for ch in draft.choices if ch.column == "customer_id").how == FROM_CONFIG
    chosen = {**draft.current(), "customer_id": "CustID", "order_id": None}
    old, new = proposed_config(draft.config_path, "transactions", columns_to_write(draft, chosen))
    parsed = tomllib.loads(new)
    assert parsed["tables"]["transactions"]["columns"] == {"customer_id": "CustID"}
    assert parsed["tables"]["customers"] == {"file": "people.csv"}
    assert "# the name column, for now" in new  # the line's comment stays with it


def test_bad_choices_are_refused_with_what_to_do(make_workspace):
    draft = draft_mapping(make_workspace({"transactions.csv": SALES}), "transactions")
    with pytest.raises(InputError, match="chosen for both"):
        columns_to_write(draft, {**draft.current(), "customer_id": "Total"})
    with pytest.raises(InputError, match="needs a column for customer_id"):
        columns_to_write(draft, draft.current())


def test_a_file_changed_meanwhile_is_not_overwritten(make_workspace):
    root = make_workspace({"transactions.csv": SALES, "loyalist.toml": CONFIG})
    draft = draft_mapping(root, "transactions")
    old, new = proposed_config(draft.config_path, "transactions", {"customer_id": "CustID"})
    (root / "loyalist.toml").write_text(CONFIG + "# edited elsewhere\n", encoding="utf-8")
    with pytest.raises(InputError, match="changed since"):
        write_config(draft.config_path, old, new)
    assert (root / "loyalist.toml").read_text().endswith("# edited elsewhere\n")


def test_mappable_tables_are_those_with_a_file(sample_copy):
    assert mappable_tables(sample_copy)[:2] == ["transactions", "customers"]
    assert not draft_mapping(sample_copy, "transactions").needs_attention


def test_skipping_invalid_rows_is_written_beside_the_rest(make_workspace):
    from core.mapping_edit import proposed_on_invalid, write_config

    toml = '# ours\n[tables.survey]\n# answers 0-10\nranges = { nps = [0, 10] }\non_invalid = "error"\n'
    folder = make_workspace({"transactions.csv": "customer_id,order_date,amount\nC1,2024-01-01,5\n",
                             "survey.csv": "customer_id,response_date,nps\nC1,2024-01-02,11\n",
                             "loyalist.toml": toml})
    path = folder / "loyalist.toml"
    old, new = proposed_on_invalid(path, "survey")
    assert new == toml.replace('"error"', '"skip"')  # changed in place, comments and order kept
    old, new = proposed_on_invalid(path, "transactions")
    assert new == toml + '\n[tables.transactions]\non_invalid = "skip"\n'
    write_config(path, old, new, reader="the Skip invalid rows dialog")
    ws = Workspace.open(folder)
    assert ws.on_invalid("transactions") == "skip" and ws.on_invalid("survey") == "error"
    with pytest.raises(InputError, match="changed since the Skip invalid rows dialog read it"):
        write_config(path, old, new, reader="the Skip invalid rows dialog")


def test_preview_settles_the_day_order_on_the_whole_column_as_the_workspace_does(make_workspace):
    """A UK export whose first 200 rows fall on days 1-12 ('05/03/2024'): only a later row
    ('13/03/2024') says the day comes first. The preview reads the whole column for it, as
    the workspace does, instead of calling the first rows' order ambiguous."""
    rows = [f"C{i},{1 + i % 12:02d}/03/2024,10\n" for i in range(300)] + ["C9,13/03/2024,10\n"]
    root = make_workspace({"transactions.csv": "Customer ID,Order Date,Amount\n" + "".join(rows)})
    dates = preview(draft_mapping(root, "transactions"), "order_date", "Order Date")
    assert (dates.values, dates.failed, dates.problem) == (200, 0, "")
    read = Workspace.open(root).scan("transactions").select("order_date").head(2).collect()
    assert [d.isoformat() for d in read["order_date"]] == ["2024-03-01", "2024-03-02"]  # the workspace agrees


def test_preview_reads_a_survey_tools_labelled_scores(make_workspace):
    """'10 - Extremely likely' (a survey tool's export at the scale's ends) is the answer 10 for
    the workspace; the preview counted it as a value that would not parse."""
    answers = ["10 - Extremely likely", "9", "0 - Not at all likely", "7", "Extremely likely"]
    survey = "customer_id,nps\n" + "".join(f"C{i},{a}\n" for i, a in enumerate(answers))
    nps = preview(draft_mapping(make_workspace({"survey.csv": survey}), "survey"), "nps", "nps")
    assert (nps.values, nps.failed, nps.examples) == (5, 1, ("Extremely likely",))  # a label alone is no answer
