"""Loading a workspace: formats, encodings, header mapping, type coercion, options."""

import datetime as dt

import polars as pl
import pytest

from core.errors import InputError
from core.workspace import Workspace

TX = "customer_id,order_date,amount,channel\nC001,2024-01-05,10.5,store\n007,2024-02-01,20,web\n"
EXPECTED = pl.DataFrame({
    "customer_id": ["C001", "007"],
    "order_date": [dt.date(2024, 1, 5), dt.date(2024, 2, 1)],
    "amount": [10.5, 20.0],
    "channel": ["store", "web"],
})


def load(folder, table="transactions"):
    ws = Workspace.open(folder)
    lf = ws.scan(table)
    assert isinstance(lf, pl.LazyFrame)  # nothing collected until an analysis needs it
    return lf.collect()


def test_csv_ids_stay_strings_with_leading_zeros(make_workspace):
    df = load(make_workspace({"transactions.csv": TX}))
    assert df.equals(EXPECTED)


@pytest.mark.parametrize("sep", ["\t", ";", "|"])
def test_delimiter_is_detected(make_workspace, sep):
    name = "transactions.tsv" if sep == "\t" else "transactions.csv"
    df = load(make_workspace({name: TX.replace(",", sep)}))
    assert df.equals(EXPECTED)


def test_other_formats_give_the_same_table(make_workspace, tmp_path):
    source = EXPECTED.with_columns(pl.col("order_date").cast(pl.String))
    folder = tmp_path / "formats"
    folder.mkdir()
    writers = {
        "parquet": lambda p: EXPECTED.write_parquet(p),
        "json": lambda p: source.write_json(p),
        "ndjson": lambda p: source.write_ndjson(p),
        "xlsx": lambda p: EXPECTED.write_excel(p),
    }
    for ext, write in writers.items():
        sub = folder / ext
        sub.mkdir()
        write(sub / f"transactions.{ext}")
        df = load(sub)
        assert df.equals(EXPECTED), ext


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_encodings_are_detected(make_workspace, encoding):
    text = "客户ID,订单日期,金额,渠道\n王01,2024-01-05,10.5,门店\n李02,2024-02-01,20,网店\n"
    df = load(make_workspace({"transactions.csv": text.encode(encoding)}))
    assert df["customer_id"].to_list() == ["王01", "李02"]
    assert df["channel"].to_list() == ["门店", "网店"]


def test_forced_encoding(make_workspace):
    text = "customer_id,order_date,amount,region\nC1,2024-01-05,1,Zürich\n"
    folder = make_workspace({
        "transactions.csv": text.encode("latin-1"),
        "loyalist.toml": '[tables.transactions]\nencoding = "latin-1"\n',
    })
    assert load(folder)["region"].to_list() == ["Zürich"]


def test_undecodable_file_names_the_fix(make_workspace):
    folder = make_workspace({"transactions.csv": b"customer_id,order_date,amount\nC1,2024-01-05,\xff\xfe\xfa\n"})
    with pytest.raises(InputError, match="encoding"):
        load(folder)


@pytest.mark.parametrize("headers", [
    ("CustID", "Order Date", "Sales"),
    ("Customer Number", "purchase_date", "Order Total"),
    ("客户ID", "订单日期", "金额"),
    ("会员编号", "交易日期", "实付金额"),
])
def test_headers_are_mapped_from_synonyms(make_workspace, headers):
    text = ",".join(headers) + "\nC1,2024-01-05,3\n"
    ws = Workspace.open(make_workspace({"transactions.csv": text}))
    mapping = {m.canonical: m.source for m in ws.sources["transactions"].columns}
    assert mapping == dict(zip(["customer_id", "order_date", "amount"], headers))


def test_explicit_mapping_in_loyalist_toml(make_workspace):
    folder = make_workspace({
        "sales.csv": "who,when,how much,where\nC1,2024-01-05,3,web\n",
        "loyalist.toml": (
            '[tables.transactions]\nfile = "sales.csv"\n'
            '[tables.transactions.columns]\ncustomer_id = "who"\norder_date = "when"\n'
            'amount = "how much"\nchannel = "where"\n'
        ),
    })
    df = load(folder)
    assert df.columns == ["customer_id", "order_date", "amount", "channel"]
    assert df.row(0) == ("C1", dt.date(2024, 1, 5), 3.0, "web")


@pytest.mark.parametrize("text, expected", [
    ("2024-03-07", dt.date(2024, 3, 7)),
    ("20240307", dt.date(2024, 3, 7)),
    ("2024/03/07", dt.date(2024, 3, 7)),
    ("2024-03-07 14:30:00", dt.date(2024, 3, 7)),
    ("25/03/2024", dt.date(2024, 3, 25)),  # day > 12: day first is the only reading
    ("03/25/2024 3:05 PM", dt.date(2024, 3, 25)),  # a US spreadsheet's 12-hour clock
])
def test_date_formats(make_workspace, text, expected):
    df = load(make_workspace({"transactions.csv": f"customer_id,order_date,amount\nC1,{text},1\n"}))
    assert df["order_date"].to_list() == [expected]


def test_ambiguous_day_month_order_asks_for_date_format(make_workspace):
    folder = make_workspace({"transactions.csv": "customer_id,order_date,amount\nC1,03/04/2024,1\nC2,05/06/2024,1\n"})
    with pytest.raises(InputError) as err:
        Workspace.open(folder)
    assert "order_date" in str(err.value) and "date_format" in str(err.value)
    folder.joinpath("loyalist.toml").write_text('[tables.transactions]\ndate_format = "%d/%m/%Y"\n')
    assert load(folder)["order_date"].to_list() == [dt.date(2024, 4, 3), dt.date(2024, 6, 5)]


def _dated_rows(start: dt.date, days: int, per_day: int, fmt: str) -> str:
    """A transactions file sorted by date: `per_day` rows a day, dates written with `fmt`."""
    return "customer_id,order_date,amount\n" + "".join(
        f"C{i},{(start + dt.timedelta(days=d)).strftime(fmt)},1\n" for d in range(days) for i in range(per_day))


@pytest.mark.parametrize("fmt", ["%m/%d/%Y", "%d/%m/%Y"])
def test_day_month_order_is_settled_by_the_whole_file_when_its_first_rows_cannot(make_workspace, fmt):
    # sorted by date, 100 rows a day: the first 1,000 rows are 1-10 January, readable either way
    folder = make_workspace({"transactions.csv": _dated_rows(dt.date(2024, 1, 1), 40, 100, fmt)})
    dates = load(folder)["order_date"]
    assert (dates.min(), dates.max()) == (dt.date(2024, 1, 1), dt.date(2024, 2, 9))
    assert dates.n_unique() == 40


def test_a_file_mixing_day_first_and_month_first_dates_is_refused(make_workspace):
    text = _dated_rows(dt.date(2024, 1, 1), 40, 100, "%m/%d/%Y") + "C9,25/01/2024,1\n"
    with pytest.raises(InputError, match="day/month or month/day") as err:
        Workspace.open(make_workspace({"transactions.csv": text}))
    assert "date_format" in str(err.value)


def test_amounts_with_currency_and_thousands(make_workspace):
    text = 'customer_id,order_date,amount\nC1,2024-01-05,"¥1,234.50"\nC2,2024-01-05,"$1,234"\nC3,2024-01-05,(12.00)\nC4,2024-01-05,-5\n'
    assert load(make_workspace({"transactions.csv": text}))["amount"].to_list() == [1234.5, 1234.0, -12.0, -5.0]


def test_decimal_comma(make_workspace):
    folder = make_workspace({
        "transactions.csv": 'customer_id;order_date;amount\nC1;2024-01-05;1 234,50\nC2;2024-01-05;1.234,5\nC3;2024-01-05;7,25\n',
        "loyalist.toml": '[tables.transactions]\ndecimal = ","\n',
    })
    assert load(folder)["amount"].to_list() == [1234.5, 1234.5, 7.25]


def test_extra_columns_are_kept_numeric_when_numeric(make_workspace):
    folder = make_workspace({"survey.csv": "customer_id,nps,trust,store_id,comment\nC1,9,4,0012,great\nC2,3,2,0013,meh\n"})
    df = load(folder, "survey")
    assert df["nps"].dtype == pl.Int64 and df["trust"].dtype == pl.Float64
    assert df["store_id"].to_list() == ["0012", "0013"]  # ids stay text


def test_missing_required_column_is_named(make_workspace):
    ws = Workspace.open(make_workspace({"transactions.csv": "customer_id,amount\nC1,3\n"}))
    with pytest.raises(InputError) as err:
        ws.scan("transactions")
    message = str(err.value)
    assert "transactions.csv" in message and "order_date" in message and "loyalist.toml" in message


@pytest.mark.parametrize("toml, words", [
    ('[tables.transaction]\nfile = "x.csv"\n', ["transaction", "transactions"]),
    ('[tables.transactions]\nfiel = "x.csv"\n', ["fiel"]),
    ('[tables.transactions\n', ["TOML"]),
    ('[tables.transactions.columns]\ncustomer_id = "nope"\n', ["nope"]),
])
def test_bad_loyalist_toml_is_explained(make_workspace, toml, words):
    folder = make_workspace({"transactions.csv": TX, "loyalist.toml": toml})
    with pytest.raises(InputError) as err:
        Workspace.open(folder)
    for word in words:
        assert word in str(err.value)


def test_empty_file_and_no_tables(make_workspace):
    with pytest.raises(InputError, match="empty"):
        Workspace.open(make_workspace({"transactions.csv": ""}))
    with pytest.raises(InputError, match="no tables"):
        Workspace.open(make_workspace({"notes.txt": "hello"}))


def test_parquet_is_preferred_over_its_csv_twin(make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    EXPECTED.head(1).write_parquet(folder / "transactions.parquet")
    ws = Workspace.open(folder)
    assert ws.sources["transactions"].format == "parquet"
    assert "transactions.csv" in ws.sources["transactions"].why


def test_a_column_mixing_iso_and_compact_dates_parses(make_workspace):
    text = "customer_id,order_date,amount\nC1,2024-03-07,1\nC2,20240308,1\nC3,2024/03/09,1\n"
    df = load(make_workspace({"transactions.csv": text}))
    assert df["order_date"].to_list() == [dt.date(2024, 3, 7), dt.date(2024, 3, 8), dt.date(2024, 3, 9)]
