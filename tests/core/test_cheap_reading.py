"""The cheaper ways of reading a table give what the plain ways give.

Opening a CSV reads its first rows from its first bytes (core.readers.csv_head) instead of
a scan; a typed Parquet file reads no sample; ids, dates and numbers from text are read
as written first and only the values that need it are stripped (core.coerce). Each is
checked against the plain way it replaces: Polars' own scan, and strip-then-parse.
"""

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import readers
from core.coerce import ParseOptions, _clean_text, _strptime, _text_date, plain_number
from core.readers import csv_head
from core.sniff import sniff_text
from core.workspace import Workspace

SPACES = ["", " ", "  ", "\t", "\u00a0", "\u3000", "\u2003", "\u200b", "\r"]


def scanned_head(path, rows):
    text = sniff_text(path, None, None)
    return pl.scan_csv(path, separator=text.delimiter, eol_char=text.eol, infer_schema=False,
                       encoding="utf8").head(rows).collect()


def big_csv(path, rows, quoted_every=0):
    lines = ["customer_id,order_date,amount,note"]
    for i in range(rows):
        note = f'"line one\nline {i}, two"' if quoted_every and i % quoted_every == 0 else f"n{i}"
        lines.append(f"C{i:06d},2024-01-{i % 28 + 1:02d},{i % 97}.5,{note}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_first_rows_of_a_csv_past_the_first_mib_equal_the_scan(tmp_path):
    path = big_csv(tmp_path / "t.csv", 60_000, quoted_every=7)
    assert path.stat().st_size > readers.HEAD_BYTES
    text = sniff_text(path, None, None)
    assert csv_head(path, text, 1000).equals(scanned_head(path, 1000))


def test_a_small_csv_is_read_whole(tmp_path):
    path = big_csv(tmp_path / "t.csv", 30)
    assert csv_head(path, sniff_text(path, None, None), 1000).equals(scanned_head(path, 1000))


def test_rows_the_first_bytes_do_not_hold_fall_back_to_the_scan(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "HEAD_BYTES", 4096)  # far fewer than 1000 rows fit
    path = big_csv(tmp_path / "t.csv", 5000)
    assert csv_head(path, sniff_text(path, None, None), 1000) is None


def test_formats_judged_on_rows_past_the_first_bytes_still_come_from_the_first_rows(make_workspace,
                                                                                   monkeypatch):
    # Rows too long for the first bytes to hold 1000 of them: the scan gives the sample, and
    # the decimal comma and day-first dates are still found.
    monkeypatch.setattr(readers, "HEAD_BYTES", 2048)
    rows = "".join(f"C{i};{i % 28 + 1:02d}/02/2024;1.234,{i % 10}0;{'x' * 40}\n" for i in range(1500))
    ws = Workspace.open(make_workspace({"transactions.csv": "customer_id;order_date;amount;note\n" + rows}))
    df = ws.scan("transactions").collect()
    assert df["order_date"][0] == dt.date(2024, 2, 1)
    assert df["amount"][3] == pytest.approx(1234.3)


def test_a_typed_parquet_file_is_opened_without_reading_rows(tmp_path, monkeypatch):
    pl.DataFrame({"customer_id": ["C1", "C2"], "order_date": [dt.date(2024, 1, 5)] * 2,
                  "amount": [1.5, 2.0]}).write_parquet(tmp_path / "transactions.parquet")
    collected = []
    real = pl.LazyFrame.collect
    monkeypatch.setattr(pl.LazyFrame, "collect", lambda self, *a, **k: collected.append(1) or real(self, *a, **k))
    ws = Workspace.open(tmp_path, lazy=True)
    assert ws.sources["transactions"].columns  # mapped from the schema alone
    assert collected == []


def test_text_dates_in_parquet_are_still_judged_on_the_first_rows(tmp_path):
    pl.DataFrame({"customer_id": ["C1", "C2"], "order_date": ["05/01/2024", "25/01/2024"],
                  "amount": [1.5, 2.0]}).write_parquet(tmp_path / "transactions.parquet")
    df = Workspace.open(tmp_path).scan("transactions").collect()
    assert df["order_date"].to_list() == [dt.date(2024, 1, 5), dt.date(2024, 1, 25)]


padded = st.tuples(st.sampled_from(SPACES), st.text(max_size=6), st.sampled_from(SPACES)).map("".join)
values = st.lists(st.one_of(st.none(), padded), max_size=30)


@settings(max_examples=200, deadline=None)
@given(values)
def test_ids_read_as_written_equal_strip_then_blank_as_null(texts):
    df = pl.DataFrame({"t": texts}, schema={"t": pl.String})
    stripped = pl.col("t").str.strip_chars()
    plain = df.select(pl.when(stripped == "").then(None).otherwise(stripped)).to_series()
    assert df.select(_clean_text(pl.col("t"))).to_series().equals(plain)


dates = st.tuples(st.sampled_from(SPACES),
                  st.one_of(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)).map(str),
                            st.sampled_from(["2024-02-30", "2024-1-2", "20240102", "x", "2024-01-02T10:00",
                                             "02/01/2024", "2 Jan 2024", "2024-01-02 "])),
                  st.sampled_from(SPACES)).map("".join)


@pytest.mark.parametrize("fmt", ["%Y-%m-%d", "%d/%m/%Y", "%Y%m%d", "%d %b %Y"])
@settings(max_examples=100, deadline=None)
@given(texts=st.lists(st.one_of(st.none(), dates), max_size=30))
def test_dates_read_as_written_equal_strip_then_parse(fmt, texts):
    df = pl.DataFrame({"t": texts}, schema={"t": pl.String})
    plain = df.select(_strptime(pl.col("t").str.strip_chars(), fmt, None).dt.date()).to_series()
    assert df.select(_text_date(pl.col("t"), fmt, None)).to_series().equals(plain)


numbers = st.tuples(st.sampled_from(SPACES),
                    st.one_of(st.floats(allow_nan=False, allow_infinity=False).map(repr),
                              st.integers(-10**6, 10**6).map(str),
                              st.sampled_from(["1e3", "-0", "nan", "inf", "1,234.5", "(12)", "$3", "", "1 234"])),
                    st.sampled_from(SPACES)).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), numbers), max_size=30))
def test_numbers_cast_as_written_equal_strip_then_cast(texts):
    df = pl.DataFrame({"t": texts}, schema={"t": pl.String})
    plain = df.select(pl.col("t").str.strip_chars().cast(pl.Float64, strict=False)).to_series()
    ours = df.select(plain_number(pl.col("t"), ParseOptions())).to_series()
    assert ours.equals(plain, check_names=False)
