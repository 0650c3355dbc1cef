"""Every format round-trips the tables, Unicode included, and spreadsheets cannot run cells.

Files are read back with readers independent of the writers: the csv and json modules,
openpyxl for XLSX, pyarrow for Parquet, and a small Markdown table parser.
"""

import csv
import datetime as dt
import io
import json
import re

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from core.errors import InputError
from core.export import export_format, write_result, write_table
from core.export.columns import kinds
from core.export.display import column_formatter
from core.result import Chart, Result

openpyxl = pytest.importorskip("openpyxl")

FORMULA = '=HYPERLINK("x","click")'


def sample_tables():
    customers = pl.DataFrame({
        "customer_id": [101, 102, 103, 104],
        "客户名称": ["王小明", FORMULA, "-5", "Zoë | “quoted”"],
        "segment": ["Champions", "+cmd", "@SUM(A1)", "新客户"],
        "revenue": [1234.5, 0.0, -20.25, None],
        "customer_share": [0.25, 0.5, 0.125, 0.125],
        "lift_points": [1.5, -2.0, None, 0.0],
        "orders": [3, 0, 12, 1],
        "first_purchase": [dt.date(2024, 1, 5), dt.date(2023, 12, 31), None, dt.date(2024, 2, 29)],
        "last_seen": [dt.datetime(2024, 3, 1, 9, 30), None, dt.datetime(2024, 3, 2, 23, 59, 59),
                      dt.datetime(2024, 1, 1)],
        "is_member": [True, False, None, True],
        "p_value": [0.01, 0.5, 1e-8, None],
    })
    segments = pl.DataFrame({"segment": ["Champions", "新客户"], "customers": [3, 1], "revenue": [1214.25, 0.0]})
    return {"customers": customers, "segments": segments}


def sample_result(**changes):
    fields = dict(
        name="segment.sample", title="Sample segments 示例",
        tables=sample_tables(),
        headline={"customer_count": 4, "total_revenue": 1214.25, "repeat_rate": 0.75, "best_segment": "Champions"},
        charts=(Chart("bar", "Revenue by segment", "segments", "segment", ("revenue",)),
                Chart("histogram", "Orders per customer", "customers", "orders")),
        params={"workspace": "/data/shop", "as_of": dt.date(2024, 3, 31), "bins": 5},
        notes=("Returns are netted out.",),
    )
    fields.update(changes)
    return Result(**fields)


def shown_rows(df):
    """The table as the reports show it: one formatter per column (tested on its own elsewhere)."""
    kind = kinds(df)
    formats = [column_formatter(df[c], kind[c]) for c in df.columns]
    return [[show(v) for show, v in zip(formats, row)] for row in df.iter_rows()]


def neutralised(value):
    return "'" + value if isinstance(value, str) and value[:1] in "=+-@" and value != "-5" else value


# --- format choice -----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "fmt"), [("a.csv", "csv"), ("a.TSV", "tsv"), ("a.parquet", "parquet"),
                                           ("a.json", "json"), ("a.ndjson", "ndjson"), ("a.md", "md"),
                                           ("a.xlsx", "xlsx"), ("a.html", "html"), ("a.htm", "html")])
def test_format_follows_the_extension(name, fmt):
    assert export_format(name) == fmt


def test_an_explicit_format_wins_and_unknown_ones_are_clear_errors(tmp_path):
    assert export_format("report.out", "html") == "html"
    with pytest.raises(InputError, match="cannot tell which format"):
        export_format("report.out")
    with pytest.raises(InputError, match="unknown export format"):
        export_format("a.csv", "pdf")
    path = write_result(sample_result(), tmp_path / "report.txt", fmt="md")
    assert path.read_text(encoding="utf-8").startswith("# Sample segments")


# --- CSV and TSV -------------------------------------------------------------------------


def _csv_rows(path, delimiter=","):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f, delimiter=delimiter))


@pytest.mark.parametrize(("suffix", "delimiter"), [(".csv", ","), (".tsv", "\t")])
def test_csv_round_trips_the_main_table(tmp_path, suffix, delimiter):
    df = sample_tables()["customers"]
    path = write_result(sample_result(), tmp_path / f"out{suffix}")
    rows = _csv_rows(path, delimiter)
    assert rows[0] == df.columns
    assert len(rows) == df.height + 1
    names = [r[1] for r in rows[1:]]
    assert names == [neutralised(v) for v in df["客户名称"]]
    back = pl.read_csv(path, separator=delimiter, schema=df.schema, try_parse_dates=True)
    safe = df.with_columns(pl.col("客户名称", "segment").map_elements(neutralised, pl.String))
    assert_frame_equal(back, safe)


def test_csv_neutralises_formulas_but_keeps_numbers_as_text_numbers(tmp_path):
    path = write_result(sample_result(), tmp_path / "out.csv")
    rows = {r[0]: r for r in _csv_rows(path)[1:]}
    assert rows["102"][1] == "'" + FORMULA
    assert rows["102"][2] == "'+cmd"
    assert rows["103"][2] == "'@SUM(A1)"
    assert rows["103"][1] == "-5"  # text that is a number stays a number
    assert rows["103"][3] == "-20.25"  # numeric columns are never touched


def test_csv_bom_is_optional(tmp_path):
    plain = write_result(sample_result(), tmp_path / "plain.csv").read_bytes()
    with_bom = write_result(sample_result(), tmp_path / "bom.csv", bom=True).read_bytes()
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert with_bom.startswith(b"\xef\xbb\xbf")
    assert with_bom[3:] == plain
    assert "客户名称" in with_bom.decode("utf-8-sig")


def test_a_chosen_table_is_written(tmp_path):
    path = write_result(sample_result(), tmp_path / "seg.csv", table="segments")
    assert _csv_rows(path)[0] == ["segment", "customers", "revenue"]
    with pytest.raises(InputError, match="no table 'nope'"):
        write_result(sample_result(), tmp_path / "x.csv", table="nope")


# --- Parquet and NDJSON ------------------------------------------------------------------


def test_parquet_round_trips_exactly_with_the_result_described(tmp_path):
    pa = pytest.importorskip("pyarrow.parquet")
    df = sample_tables()["customers"]
    path = write_result(sample_result(), tmp_path / "out.parquet")
    assert_frame_equal(pl.read_parquet(path), df)
    table = pa.read_table(path)
    assert table.column("客户名称").to_pylist() == df["客户名称"].to_list()  # no neutralising: not a spreadsheet
    about = json.loads(pa.read_metadata(path).metadata[b"loyalist"])
    assert about["name"] == "segment.sample" and about["table"] == "customers"
    assert about["params"]["as_of"] == "2024-03-31"


def test_ndjson_round_trips(tmp_path):
    df = sample_tables()["customers"]
    path = write_result(sample_result(), tmp_path / "out.ndjson")
    lines = path.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["客户名称"] for r in records] == df["客户名称"].to_list()
    assert [r["revenue"] for r in records] == df["revenue"].to_list()
    assert records[0]["first_purchase"] == "2024-01-05"


# --- JSON --------------------------------------------------------------------------------


def test_json_keeps_every_table_with_dtypes(tmp_path):
    path = write_result(sample_result(), tmp_path / "out.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert {"name", "title", "params", "notes", "schemas", "charts", "loyalist_version",
            "customer_count", "customers", "segments"} <= set(doc)
    for name, df in sample_tables().items():
        schema = {c: getattr(pl, t.split("(")[0]) for c, t in doc["schemas"][name].items()}
        back = pl.DataFrame(doc[name], schema={c: pl.String if t in (pl.Date, pl.Datetime) else t
                                                         for c, t in schema.items()}, orient="row")
        back = back.with_columns(pl.col(c).str.to_date() for c, t in schema.items() if t is pl.Date)
        back = back.with_columns(pl.col(c).str.to_datetime(time_unit="us") for c, t in schema.items()
                                 if t is pl.Datetime)
        assert_frame_equal(back, df)
    assert doc["charts"][0] == {"kind": "bar", "title": "Revenue by segment", "table": "segments",
                                "x": "segment", "y": ["revenue"], "series": None}
    assert doc["title"] == "Sample segments 示例"  # not \u-escaped


def test_write_table_json_is_a_list_of_records(tmp_path):
    df = sample_tables()["segments"]
    records = json.loads(write_table(df, tmp_path / "t.json").read_text(encoding="utf-8"))
    assert records == df.to_dicts()


# --- Markdown ----------------------------------------------------------------------------


def _md_tables(text):
    """GitHub-flavoured pipe tables -> {heading: [rows of cells]}, unescaping backslashes."""
    tables, heading, rows = {}, None, None
    for line in text.splitlines():
        if line.startswith("#"):
            heading, rows = line.lstrip("#").strip(), None
        elif line.startswith("|"):
            cells = [re.sub(r"\\(.)", r"\1", c.strip()) for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if rows is None:
                rows = tables.setdefault(heading, [])
            if not all(set(c) <= set("-:") for c in cells):
                rows.append(cells)
    return tables


def test_markdown_round_trips_the_tables_as_shown(tmp_path):
    path = write_result(sample_result(), tmp_path / "out.md")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Sample segments 示例")
    tables = _md_tables(text)
    for name, df in sample_tables().items():
        rows = tables[name.capitalize()]
        assert rows[0] == df.columns
        assert rows[1:] == shown_rows(df)
    assert tables["Customers"][1][:6] == ["101", "王小明", "Champions", "1,234.50", "25.0%", "1.5%"]
    assert tables["Headline figures"][1:] == [["Customer count", "4"], ["Total revenue", "1,214.25"],
                                              ["Repeat rate", "75.0%"], ["Best segment", "Champions"]]
    assert "**As of:** 2024-03-31" in text and "**Workspace:** /data/shop" in text


def test_markdown_escapes_data_that_looks_like_markup(tmp_path):
    df = pl.DataFrame({"note": ["<script>x</script>", "a|b", "*bold*", "_x_", "snake_case"]})
    text = write_table(df, tmp_path / "t.md").read_text(encoding="utf-8")
    assert "<script>" not in text
    assert r"a\|b" in text and r"\*bold\*" in text and r"\_x\_" in text and "snake_case" in text
    assert [r[0] for r in _md_tables(text)["T"][1:]] == df["note"].to_list()


# --- XLSX --------------------------------------------------------------------------------


def _sheet_frame(ws):
    rows = list(ws.iter_rows(values_only=True))
    return rows[0], rows[1:]


def test_xlsx_has_a_summary_and_a_sheet_per_table(tmp_path):
    path = write_result(sample_result(), tmp_path / "out.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Summary", "customers", "segments"]
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["Workspace"] == "/data/shop" and summary["As of"] == "2024-03-31"
    assert summary["Total revenue"] == 1214.25 and summary["Repeat rate"] == 0.75
    assert summary["Loyalist version"]


def test_xlsx_round_trips_values(tmp_path):
    df = sample_tables()["customers"]
    book = openpyxl.load_workbook(write_result(sample_result(), tmp_path / "out.xlsx"))
    header, rows = _sheet_frame(book["customers"])
    assert list(header) == df.columns
    for c, name in enumerate(df.columns):
        got = [r[c] for r in rows]
        want = df[name].to_list()
        if name in ("客户名称", "segment"):
            want = [neutralised(v) for v in want]
        if name == "first_purchase":
            want = [dt.datetime.combine(v, dt.time()) if v else None for v in want]
        assert got == want, name


def test_xlsx_formats_header_and_columns(tmp_path):
    book = openpyxl.load_workbook(write_result(sample_result(), tmp_path / "out.xlsx"))
    ws = book["customers"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:K5"
    header = ws["A1"]
    assert header.font.b and header.fill.fgColor.rgb.endswith("1F4E79")
    formats = {ws.cell(1, c).value: ws.cell(2, c).number_format for c in range(1, ws.max_column + 1)}
    assert formats["revenue"] == "#,##0.00"
    assert formats["customer_share"] == "0.0%"
    assert formats["lift_points"] == '0.0"%"'
    assert formats["orders"] == "#,##0"
    assert formats["first_purchase"] == "yyyy-mm-dd"
    assert formats["last_seen"] == "yyyy-mm-dd hh:mm:ss"
    assert formats["p_value"] == "General"
    widths = {ws.cell(1, c).value: ws.column_dimensions[ws.cell(1, c).column_letter].width
              for c in range(1, ws.max_column + 1)}
    assert widths["customer_share"] >= len("customer_share")
    # Chinese text is twice as wide as its character count.
    assert widths["客户名称"] >= 2 * len("客户名称")


def test_xlsx_neutralises_formulas_and_keeps_text_cells(tmp_path):
    book = openpyxl.load_workbook(write_result(sample_result(), tmp_path / "out.xlsx"))
    ws = book["customers"]
    cells = {ws.cell(r, 1).value: ws.cell(r, 2) for r in range(2, 6)}
    assert cells[102].value == "'" + FORMULA and cells[102].data_type == "s"
    assert cells[103].value == "-5" and cells[103].data_type == "s"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_xlsx_nan_becomes_an_empty_cell(tmp_path):
    df = pl.DataFrame({"score": [1.5, float("nan"), float("inf")]})
    ws = openpyxl.load_workbook(write_table(df, tmp_path / "t.xlsx"))["t"]
    assert [ws.cell(r, 1).value for r in range(2, 5)] == [1.5, None, None]


def test_xlsx_sheet_names_are_valid_and_unique(tmp_path):
    long = "a very long table name that Excel would refuse"
    tables = {long: pl.DataFrame({"a": [1]}), long + " too": pl.DataFrame({"a": [2]}),
              "what/is:this?": pl.DataFrame({"a": [3]}), "Summary": pl.DataFrame({"a": [4]}),
              "客户 表": pl.DataFrame({"a": [5]})}
    book = openpyxl.load_workbook(write_result(Result("x.y", "T", tables), tmp_path / "t.xlsx"))
    names = book.sheetnames
    assert len(set(n.lower() for n in names)) == len(names) == 6
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
    assert [book[n]["A2"].value for n in names[1:]] == [1, 2, 3, 4, 5]
    assert names[-1] == "客户 表"


def test_overwrite_protection_applies_to_every_format(tmp_path):
    for suffix in (".csv", ".parquet", ".json", ".md", ".xlsx", ".html"):
        path = tmp_path / f"out{suffix}"
        path.write_text("keep")
        with pytest.raises(InputError, match="already exists"):
            write_result(sample_result(), path)
        assert path.read_text() == "keep"
        write_result(sample_result(), path, force=True)
        assert path.read_bytes() != b"keep"


def test_empty_tables_export(tmp_path):
    empty = Result("x.empty", "Nothing found", {"findings": pl.DataFrame(schema={"rule": pl.String, "n": pl.Int64})})
    for suffix in (".csv", ".parquet", ".json", ".md", ".xlsx", ".html"):
        write_result(empty, tmp_path / f"e{suffix}")
    assert _csv_rows(tmp_path / "e.csv") == [["rule", "n"]]
    assert pl.read_parquet(tmp_path / "e.parquet").schema == empty.main_table.schema
    text = io.StringIO((tmp_path / "e.md").read_text(encoding="utf-8")).read()
    assert "| rule | n |" in text
