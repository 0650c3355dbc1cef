"""Real-world text files read right, or refused with the option that fixes them (issue 12)."""

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from commands.app import app
from core.errors import InputError
from core.workspace import Workspace

runner = CliRunner()

# A POS export from a German shop: semicolons, decimal commas, dots for thousands.
POS_DE = (
    "customer_id;order_date;amount;quantity;discount\n"
    "K-100;2024-03-01;12,50;1;0,5\n"
    "K-101;2024-03-01;7,25;2;0\n"
    "K-102;2024-03-02;1.234,50;1;1,25\n"
)


TX_PLAIN = "customer_id,order_date,amount\nK-100,2024-03-01,12.50\n"


def amounts(folder, column="amount"):
    return Workspace.open(folder).scan("transactions").collect()[column].to_list()


def test_decimal_commas_are_detected_per_column(make_workspace):
    folder = make_workspace({"transactions.csv": POS_DE})
    assert amounts(folder) == [12.5, 7.25, 1234.5]  # not 1250, 725, 123450
    source = Workspace.open(folder).sources["transactions"]
    amount = next(m for m in source.columns if m.canonical == "amount")
    assert (amount.number.decimal, amount.number.how) == (",", "detected")


def test_a_decimal_point_column_beside_keeps_its_own_convention(make_workspace):
    text = 'customer_id,order_date,amount\nC1,2024-01-05,"1,234.50"\nC2,2024-01-05,"2,000"\nC3,2024-01-05,12.5\n'
    assert amounts(make_workspace({"transactions.csv": text})) == [1234.5, 2000.0, 12.5]


def test_revenue_from_a_decimal_comma_export_is_the_written_total(make_workspace):
    folder = make_workspace({"transactions.csv": POS_DE})
    result = runner.invoke(app, ["data", "validate", "-w", str(folder), "--format", "json"])
    assert result.exit_code == 0, result.output
    total = Workspace.open(folder).scan("transactions").select(pl.col("amount").sum()).collect().item()
    assert total == pytest.approx(12.50 + 7.25 + 1234.50)


@pytest.mark.parametrize("value, sep", [("1,234", ","), ("2.500", ".")])
def test_a_column_that_fits_both_conventions_is_refused_with_the_fix(make_workspace, value, sep):
    text = f'customer_id,order_date,amount\nC1,2024-01-05,"{value}"\nC2,2024-01-06,"{value}"\nC3,2024-01-06,3\n'
    folder = make_workspace({"transactions.csv": text})
    result = runner.invoke(app, ["data", "inspect", "-w", str(folder)])
    assert result.exit_code == 2
    message = result.stderr
    for words in ("transactions.csv", "'amount'", "row 2", f'decimal = "{sep}"', f'thousands = "{sep}"'):
        assert words in message
    folder.joinpath("loyalist.toml").write_text(f'[tables.transactions]\nthousands = "{sep}"\n')
    assert amounts(folder) == [float(value.replace(sep, "")), float(value.replace(sep, "")), 3.0]
    folder.joinpath("loyalist.toml").write_text(f'[tables.transactions]\ndecimal = "{sep}"\n')
    assert amounts(folder) == [float(value.replace(sep, ".")), float(value.replace(sep, ".")), 3.0]


def test_a_column_mixing_both_conventions_is_refused(make_workspace):
    text = 'customer_id,order_date,amount\nC1,2024-01-05,"12,50"\nC2,2024-01-06,12.50\n'
    with pytest.raises(InputError) as err:
        Workspace.open(make_workspace({"transactions.csv": text}))
    assert "'12,50' (row 2)" in str(err.value) and "'12.50' (row 3)" in str(err.value)


def test_a_value_in_the_other_convention_is_reported_not_misread(make_workspace):
    # 1000 plain rows, then one decimal-comma amount beyond the sample: never 1250.
    rows = "".join(f"C{i},2024-01-05,10.00\n" for i in range(1200)) + "C9,2024-01-05,\"12,50\"\n"
    folder = make_workspace({"transactions.csv": "customer_id,order_date,amount\n" + rows})
    assert amounts(folder)[-1] is None
    result = runner.invoke(app, ["data", "validate", "-w", str(folder), "--format", "json"])
    assert result.exit_code == 2
    findings = json.loads(result.stdout)["findings"]
    assert any(f["column"] == "amount" and "1202" in str(f["rows"]) for f in findings)


# A customer list exported from Excel on Windows (cp1252), the way German shops send them.
CUSTOMERS_DE = "customer_id,region,name\nK-100,Zürich,Müller\nK-101,Köln,Crème Brûlée\nK-102,Genève,Françoise\n"


def test_latin1_text_is_read_as_latin1_not_gb18030(make_workspace):
    folder = make_workspace({"transactions.csv": TX_PLAIN, "customers.csv": CUSTOMERS_DE.encode("cp1252")})
    ws = Workspace.open(folder)
    df = ws.scan("customers").collect()
    assert df["region"].to_list() == ["Zürich", "Köln", "Genève"]
    assert df["name"].to_list() == ["Müller", "Crème Brûlée", "Françoise"]
    assert ws.sources["customers"].text.encoding == "cp1252"


def test_gb18030_is_still_read_as_gb18030(make_workspace):
    text = "客户ID,订单日期,金额,渠道\n王01,2024-01-05,10.5,门店\n李02,2024-02-01,20,网店\n"
    ws = Workspace.open(make_workspace({"transactions.csv": text.encode("gb18030")}))
    assert ws.scan("transactions").collect()["channel"].to_list() == ["门店", "网店"]
    assert ws.sources["transactions"].text.encoding == "gb18030"


def test_latin1_text_far_into_a_file_is_found(make_workspace):
    # ~200 KB of plain ASCII before the first accent: the first block alone says UTF-8.
    cust = ("customer_id,region\n" + "".join(f"K{i},Bern\n" for i in range(20000)) + "K-1,Zürich\n")
    ws = Workspace.open(make_workspace({"transactions.csv": TX_PLAIN, "customers.csv": cust.encode("cp1252")}))
    assert ws.scan("customers").collect()["region"].to_list()[-1] == "Zürich"
    assert ws.sources["customers"].text.encoding == "cp1252"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_and_without_bom_is_read(make_workspace, encoding):
    # Excel's "Unicode text" export: UTF-16 with tabs.
    text = "customer_id\torder_date\tamount\tcity\nK1\t2024-01-05\t12.5\tZürich\nK2\t2024-01-06\t3\t北京\n"
    ws = Workspace.open(make_workspace({"transactions.tsv": text.encode(encoding)}))
    df = ws.scan("transactions").collect()
    assert df["city"].to_list() == ["Zürich", "北京"] and df["amount"].to_list() == [12.5, 3.0]
    assert ws.sources["transactions"].text.encoding.startswith("utf-16")


def test_two_plausible_readings_are_refused_with_the_fix(make_workspace):
    # The only accent in the file: cp1252 "São" reads as GB18030 "S鉶" too; only the analyst knows.
    data = "customer_id,order_date,amount,city\nC1,2024-01-05,1,São Paulo\n".encode("cp1252")
    folder = make_workspace({"transactions.csv": data})
    result = runner.invoke(app, ["data", "inspect", "-w", str(folder)])
    assert result.exit_code == 2
    assert "transactions.csv" in result.stderr and 'encoding = "gb18030"' in result.stderr
    assert 'encoding = "cp1252"' in result.stderr


def test_a_workbook_saved_under_a_csv_name_is_refused_with_the_fix(make_workspace, tmp_path):
    pl.DataFrame({"customer_id": ["C1"], "amount": [1.0]}).write_excel(tmp_path / "book.xlsx")
    folder = make_workspace({"transactions.csv": (tmp_path / "book.xlsx").read_bytes()})
    result = runner.invoke(app, ["data", "inspect", "-w", str(folder)])
    assert result.exit_code == 2 and "encoding" in result.stderr
    assert "internal error" not in result.output


@pytest.mark.parametrize("delimiter", [";;", "，", "\\\\t"])
def test_a_delimiter_of_more_than_one_character_is_a_clear_error(make_workspace, delimiter):
    folder = make_workspace({
        "transactions.csv": "customer_id;order_date;amount\nC1;2024-01-05;1\n",
        "loyalist.toml": f'[tables.transactions]\ndelimiter = "{delimiter}"\n',
    })
    result = runner.invoke(app, ["data", "inspect", "-w", str(folder)])
    assert result.exit_code == 2, result.output
    assert "transactions.csv" in result.stderr and "delimiter" in result.stderr
    assert 'delimiter = ";"' in result.stderr and "internal error" not in result.output


def test_a_file_with_no_line_breaks_fails_fast_in_bounded_memory(make_workspace):
    import tracemalloc

    # 40 MB of one line: a file joined into one line by a tool, or cut binary.
    folder = make_workspace({"transactions.csv": "customer_id,order_date,amount," + "x," * 20_000_000})
    tracemalloc.start()
    result = runner.invoke(app, ["data", "inspect", "-w", str(folder)])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert result.exit_code == 2 and "no line breaks" in result.stderr
    assert peak < 16e6  # the first megabyte is read, never the whole file


def test_classic_mac_line_ends_are_read(make_workspace):
    folder = make_workspace({"transactions.csv": TX_PLAIN.replace("\n", "\r") + "K-101,2024-03-02,3\r"})
    assert amounts(folder) == [12.5, 3.0]


def test_duplicate_headers_are_refused_not_renamed(make_workspace):
    text = "customer_id,order_date,amount,amount\nC1,2024-01-05,10,12\n"
    result = runner.invoke(app, ["data", "inspect", "-w", str(make_workspace({"transactions.csv": text}))])
    assert result.exit_code == 2
    assert "'amount'" in result.stderr and "columns 3 and 4" in result.stderr and "rename" in result.stderr


def test_duplicate_headers_in_a_workbook_are_refused(make_workspace, tmp_path):
    import xlsxwriter

    book = xlsxwriter.Workbook(tmp_path / "transactions.xlsx")
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["Customer ID", "Order Date", "Amount", "Amount"])
    sheet.write_row(1, 0, ["C1", "2024-01-05", 10, 12])
    book.close()
    folder = make_workspace({"transactions.xlsx": (tmp_path / "transactions.xlsx").read_bytes()})
    with pytest.raises(InputError) as err:
        Workspace.open(folder)
    assert "'Amount'" in str(err.value) and "columns 3 and 4" in str(err.value)


def test_blank_headers_from_trailing_delimiters_are_not_duplicates(make_workspace):
    folder = make_workspace({"transactions.csv": "customer_id;order_date;amount;;\nC1;2024-01-05;7,5;;\n"})
    assert amounts(folder) == [7.5]


def test_inspect_shows_how_each_file_was_read(make_workspace):
    pos = POS_DE.replace("2024-03-01", "01.03.2024").replace("2024-03-02", "02.03.2024")
    folder = make_workspace({"transactions.csv": pos, "customers.csv": CUSTOMERS_DE.encode("cp1252")})
    result = runner.invoke(app, ["data", "inspect", "-w", str(folder), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    tables = {row["table"]: row for row in data["tables"]}
    assert tables["transactions"]["encoding"] == "utf-8 (detected)"
    assert tables["transactions"]["delimiter"] == "; (detected)"
    assert tables["transactions"]["numbers"] == 'decimal ",", thousands "." (detected)'
    assert tables["transactions"]["date_format"] == "%d.%m.%Y"
    assert tables["customers"]["encoding"].startswith("cp1252 (detected")
    columns = {(r["table"], r["column"]): r for r in data["columns"]}
    assert columns["transactions", "amount"]["number_format"] == 'decimal ",", thousands "." (detected)'
    # quantity shows no separator itself: it follows the table (1.000 further on is a thousand)
    assert columns["transactions", "quantity"]["number_format"].startswith('decimal ","')


def test_a_latin1_row_missed_by_the_samples_is_named_when_reading(make_workspace):
    # Blocks from the start, middle and end are all plain ASCII; one row between is cp1252.
    before = "".join(f"K{i},2024-01-05,10\n" for i in range(6000))
    after = "".join(f"K{i},2024-01-05,10\n" for i in range(60000))
    data = ("customer_id,order_date,amount\n" + before).encode() + b"K\xfc1,2024-01-05,1\n" + after.encode()
    folder = make_workspace({"transactions.csv": data})
    result = runner.invoke(app, ["report", "kpi", "-w", str(folder)])
    assert result.exit_code == 2
    assert "rows 6002" in result.stderr and 'encoding = "cp1252"' in result.stderr


def test_extra_columns_with_decimal_commas_are_numbers_and_text_stays_text(make_workspace):
    text = ("customer_id;order_date;amount;discount;points;store\n"
            "K1;2024-03-01;12,50;0,5;1.000;Filiale 12\nK2;2024-03-01;7,25;1,25;20;Filiale 7\n")
    df = Workspace.open(make_workspace({"transactions.csv": text})).scan("transactions").collect()
    assert df["discount"].to_list() == [0.5, 1.25]
    assert df["points"].to_list() == [1000.0, 20.0]  # the file's thousands dot
    assert df["store"].to_list() == ["Filiale 12", "Filiale 7"]


def test_a_json_export_in_utf16_or_cp1252_is_read(make_workspace):
    text = '[{"customer_id": "K1", "order_date": "2024-01-05", "amount": 3, "city": "Zürich"}]'
    for encoding in ("utf-16", "cp1252"):
        ws = Workspace.open(make_workspace({"transactions.json": text.encode(encoding)}))
        assert ws.scan_raw("transactions").collect()["city"].to_list() == ["Zürich"], encoding


def _workbook(path, sheets: dict[str, list[list]]):
    import xlsxwriter

    book = xlsxwriter.Workbook(path)
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.write(r, c, value)
    book.close()


CUSTOMER_ROWS = [["customer_id", "signup_date", "region"]] + [[f"C{i}", "2024-01-01", "North"] for i in range(5)]


def test_a_workbook_whose_first_sheet_is_a_cover_names_its_sheets(make_workspace):
    folder = make_workspace({})
    _workbook(folder / "customers.xlsx", {"Summary": [["Customer list export"]], "Customers": CUSTOMER_ROWS})
    result = runner.invoke(app, ["data", "validate", "-w", str(folder)])
    assert result.exit_code == 2 and "customers.xlsx" in result.stderr
    assert "'Summary', 'Customers'" in result.stderr and 'sheet = "Customers"' in result.stderr
    (folder / "loyalist.toml").write_text('[tables.customers]\nsheet = "Customers"\n')
    assert Workspace.open(folder).scan("customers").collect()["customer_id"].to_list() == [f"C{i}" for i in range(5)]


def test_title_rows_above_a_sheets_header_are_named(make_workspace):
    folder = make_workspace({})
    _workbook(folder / "customers.xlsx",
              {"Customers": [["Customer list export"], ["Generated 2025-12-01"], [], *CUSTOMER_ROWS]})
    result = runner.invoke(app, ["data", "validate", "-w", str(folder)])
    assert result.exit_code == 2 and "customers.xlsx" in result.stderr
    assert "title rows above its header" in result.stderr and "starts customer_id, signup_date" in result.stderr
    assert "internal error" not in result.output


# A Shopify order export: one row per line item; the order's customer, date and total on its first line only
SHOPIFY = ("Name,Email,Created at,Total,Lineitem quantity,Lineitem sku\n"
           "#1001,ana@example.com,2024-01-10 09:00:00 -0500,100.00,1,SKU-1\n"
           "#1001,,,,2,SKU-2\n"
           "#1002,ben@example.com,2024-01-12 18:30:00 -0500,50.00,1,SKU-1\n"
           "#1003,ben@example.com,2024-02-20 08:15:00 -0500,70.00,3,SKU-3\n"
           "#1003,,,,1,SKU-1\n#1003,,,,1,SKU-2\n")
SHOPIFY_TOML = ('time_zone = "America/New_York"\n[tables.transactions]\nfile = "orders_export.csv"\n'
                'columns = { customer_id = "Email", order_id = "Name", amount = "Total" }\n')


def test_an_order_export_with_the_order_on_its_first_line_only_says_so_and_how_to_read_it(make_workspace):
    folder = make_workspace({"orders_export.csv": SHOPIFY})
    # under its own name the file is no table yet: the error names it and the file = fix
    missing = runner.invoke(app, ["segment", "rfm", "-w", str(folder)])
    assert missing.exit_code == 2 and 'file = "orders_export.csv"' in missing.stderr
    (folder / "loyalist.toml").write_text(SHOPIFY_TOML)
    result = runner.invoke(app, ["segment", "rfm", "-w", str(folder)], env={"COLUMNS": "400"})
    assert result.exit_code == 2
    error = " ".join(result.stderr.split())
    assert "only on the first line of each order" in error and "rows 3, 6, 7" in error
    assert "--skip-invalid" in error
    # as the fix says: each order's first line, with the order's total
    kept = runner.invoke(app, ["segment", "rfm", "-w", str(folder), "--skip-invalid", "--format", "json"])
    assert kept.exit_code == 0, kept.output
    out = json.loads(kept.stdout)
    assert (out["customer_count"], out["revenue"]) == (2, 220.0)
    assert any("3 rows of orders_export.csv left out" in note for note in out["notes"])  # the later lines


def test_a_missing_table_names_the_files_no_table_reads(make_workspace):
    folder = make_workspace({"customers.csv": "customer_id\nC1\n", "orders_export.csv": SHOPIFY, "notes.txt": "x\n"})
    result = runner.invoke(app, ["segment", "rfm", "-w", str(folder)], env={"COLUMNS": "400"})
    error = " ".join(result.stderr.split())
    assert result.exit_code == 1 and "needs the 'transactions' table" in error
    # the largest first, as the example of the fix
    assert "(orders_export.csv, notes.txt)" in error and 'file = "orders_export.csv"' in error
    inspect = runner.invoke(app, ["data", "inspect", "-w", str(folder)], env={"COLUMNS": "400"})
    assert "files no table reads: orders_export.csv, notes.txt" in " ".join(inspect.stdout.split())
