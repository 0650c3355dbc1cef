"""Turn source columns into the contract's dtypes, as Polars expressions.

Every rule is an expression, so coercion stays lazy and vectorised. A value that does
not parse becomes null here; validation (core/validate.py) compares source and result
to report such values with their rows instead of dropping them silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

from core import contract as c
from core.errors import InputError
from core.numbers import NumberFormat, parse_number

# Formats tried on a sample of a text date column, most common first. Day/month orders
# that the sample cannot tell apart are refused (see detect_date_format).
DATE_FORMATS = (
    "%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日",
    "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%m-%d-%Y",
)
# Tried only when some value looks like them (what they cost a sample of ISO dates, 12 ms a
# column, is then spared): two-digit years (13/01/24), which a four-digit format would read as
# the year 24, and month names (05-JAN-24 as databases write it, 5 Jan 2024, Jan 5, 2024).
TWO_DIGIT_YEARS = ("%d/%m/%y", "%m/%d/%y", "%d.%m.%y", "%d-%m-%y", "%m-%d-%y")
LOOKS_TWO_DIGIT = r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2}(\D|$)"
MONTH_NAMES = ("%d-%b-%Y", "%d-%b-%y", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y")
LOOKS_NAMED = r"[A-Za-z]{3}"
# No customer record is older: a date before it is a misread (a two-digit year as four digits).
MIN_YEAR = 1900
TIME_SUFFIXES = ("", " %H:%M:%S", "T%H:%M:%S", " %H:%M", "T%H:%M", "T%H:%M:%S%.f", " %H:%M:%S%.f",
                 " %I:%M %p", " %I:%M:%S %p")  # 12-hour clocks of US spreadsheets and CRMs: 3:05 PM
DAY_FIRST_TWINS = {"%d/%m/%Y": "%m/%d/%Y", "%d-%m-%Y": "%m-%d-%Y", "%d/%m/%y": "%m/%d/%y", "%d-%m-%y": "%m-%d-%y"}
# A time-zone offset after a time: 10:00:00Z, 10:00+08:00, 10:00:00.5 -0500, 10:00+08.
HAS_OFFSET = r"\d:\d\d(:\d\d(\.\d+)?)?\s?([zZ]|[+-]\d\d(:?\d\d)?)$"
OFFSET = "%#z"  # Polars (chrono) reads Z, +08:00, +0800 and +08 with it
OFFSET_DIRECTIVE = re.compile(r"%[#:]{0,2}z")
# The strftime codes Polars' parser knows; anything else after a % makes every value null.
DIRECTIVES = {
    "Y", "C", "y", "m", "b", "B", "h", "d", "e", "a", "A", "w", "u", "U", "W", "G", "g", "V", "j",
    "D", "x", "F", "v", "H", "k", "I", "l", "P", "p", "M", "S", "f", ".f", ".3f", ".6f", ".9f",
    "3f", "6f", "9f", "R", "T", "X", "r", "Z", "z", ":z", "::z", "#z", "+", "s", "t", "n", "%",
}

# Answers that mean "no answer" in survey tools, spreadsheets and data exports, compared
# trimmed and lower-cased. In a number column (contract or extra) they are missing values,
# so a Likert item with N/A stays numeric; blank counts too. Listed in the README. Not
# "NaN": that is a computed value gone wrong, and validation refuses it with its rows.
MISSING_TOKENS = (
    "n/a", "na", "n.a.", "#n/a", "n/d", "-", "--", "–", "—", ".", "null", "none", "missing",
    "不适用", "无", "空", "缺失", "暂无", "n.v.t.", "nvt", "k.a.", "k. a.", "keine angabe", "s.o.", "s/o",
    "s/d", "sin dato",
    # a Likert grid's non-answers
    "don't know", "don’t know", "dont know", "do not know", "not applicable", "prefer not to say", "不知道",
    "不清楚",
)

TRUE_WORDS = ("1", "true", "t", "yes", "y", "member", "是", "会员", "真")
FALSE_WORDS = ("0", "false", "f", "no", "n", "non-member", "否", "非会员", "假")


@dataclass(frozen=True)
class ParseOptions:
    decimal: str = "."  # "," for 1 234,50; per column when detected (core/numbers.py)
    thousands: str | None = None  # None: "." with a decimal comma, else ","
    date_format: str | None = None  # forces one strptime format for every date column
    # Text from typed files (Parquet) is taken as written: trimming every string of a
    # ten-million-row table costs more than the stray space it would catch.
    clean_text: bool = True
    time_zone: str | None = None  # the workspace's zone: times with an offset are converted to it


FORMAT_SEPARATOR = " | "
# How a spreadsheet's real date cells read as text (calamine): the rest of a mixed column is typed.
DATE_CELL = r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2}(\.\d+)?)?$"


def detect_date_format(values: Sequence[str], *, file: str, column: str, time_zone: str | None = None,
                       settle: Callable[[str, str], str | None] | None = None) -> str:
    """The strptime format(s) that parse a sample of date strings, best first.

    A column mixing formats (say ISO and YYYYMMDD) gets the few formats that cover the
    sample, joined by FORMAT_SEPARATOR; values in none of them are left to validation.
    Times with an offset (`Z`, `+08:00`) need the workspace's time zone to be converted to.
    When the sample cannot tell day/month from month/day (a file sorted by date starts with
    days up to 12), `settle(day_first, month_first)` may look at the whole column: it gives
    the one format that reads values the other cannot, or None.
    """
    sample = pl.Series([v.strip() for v in values if v and v.strip()], dtype=pl.String)
    if sample.is_empty():
        return "%Y-%m-%d"
    suffixes = TIME_SUFFIXES
    with_offset = sample.filter(sample.str.contains(HAS_OFFSET))
    if not with_offset.is_empty():
        if time_zone is None:
            raise needs_time_zone(f"times such as {with_offset[0]!r} carry a time-zone offset", file, column)
        suffixes += tuple(s + gap + OFFSET for s in TIME_SUFFIXES if s for gap in ("", " "))
    # every format in one select (parsed in parallel, outside the GIL), and each round's
    # counts in one pass: 70 formats one Series operation at a time cost more than the parsing
    dates = (*DATE_FORMATS, *(TWO_DIGIT_YEARS if sample.str.contains(LOOKS_TWO_DIGIT).any() else ()),
             *(MONTH_NAMES if sample.str.contains(LOOKS_NAMED).any() else ()))
    formats = [date_part + suffix for date_part in dates for suffix in suffixes]
    # a format reads a value only as a plausible date: "%d/%m/%Y" reads 13/01/24 as the year 24
    parsed = pl.DataFrame({"value": sample}).select(
        (_strptime(pl.col("value"), fmt, "UTC").dt.year() >= MIN_YEAR).fill_null(False).alias(fmt) for fmt in formats)
    chosen: list[str] = []
    left = pl.Series([True] * len(sample))
    while left.any():
        counts = parsed.filter(left).sum().row(0, named=True)
        best = max(counts, key=counts.__getitem__)  # the first of the most covering, in DATE_FORMATS order
        if not counts[best]:
            break  # the rest parse in no known format: validation reports them
        best = _day_month_order(best, counts, parsed, left, sample, file, column, settle)
        chosen.append(best)
        left = left & ~parsed[best]
    return FORMAT_SEPARATOR.join(chosen) or "%Y-%m-%d"


def _day_month_order(best, counts, parsed, left, sample, file, column, settle) -> str:
    """`best`, or its day/month twin when only the whole column tells them apart; refused when
    nothing does."""
    for day_first, month_first in DAY_FIRST_TWINS.items():
        prefix = next((p for p in (day_first, month_first) if best.startswith(p)), None)
        if prefix is not None:
            suffix = best[len(prefix):]
            a, b = day_first + suffix, month_first + suffix
            if counts[a] == counts[b]:
                settled = settle(a, b) if settle is not None else None
                if settled is not None:
                    return settled
                example = sample.filter(parsed[a] & left)[0]
                raise InputError(
                    f"dates such as {example!r} could be day/month or month/day",
                    file=file, column=column,
                    fix=f'set date_format = "{a}" (day first) or "{b}" (month first) '
                    "for this table in loyalist.toml",
                )
    return best


def settled_by_whole_column(rows: pl.LazyFrame, column: str,
                            time_zone: str | None) -> Callable[[str, str], str | None]:
    """detect_date_format's `settle`: of two day/month twins, the one that reads values of the
    whole column the other cannot (one scan of the column; a date-sorted file's first day after
    the 12th tells). None when neither does, or both (the column mixes the two orders)."""
    def settle(day_first: str, month_first: str) -> str | None:
        text = pl.col(column).cast(pl.String).str.strip_chars()
        reads = [_strptime(text, fmt, time_zone).is_not_null() for fmt in (day_first, month_first)]
        only_day_first, only_month_first = rows.select(
            (reads[0] & ~reads[1]).any().alias("day_first"),
            (reads[1] & ~reads[0]).any().alias("month_first")).collect().row(0)
        if only_day_first != only_month_first:
            return day_first if only_day_first else month_first
        return None
    return settle


def needs_time_zone(what: str, file: str, column: str) -> InputError:
    return InputError(
        f"{what}, and the workspace has no time zone to convert them to", file=file, column=column,
        fix='set time_zone = "Europe/Berlin" (the IANA name of the zone your reports use, such as '
        '"Asia/Shanghai" or "UTC") at the top of loyalist.toml',
    )


def check_date_format(fmt: str, *, file: str, table: str, time_zone: str | None) -> str:
    """A date_format from loyalist.toml, refused when a directive is unknown (it would null every date)."""
    codes = re.findall(r"%[-_0]?([#:]{0,2}z|\.?\d?[a-zA-Z+%]|.?)", fmt)  # %-d: no padding
    bad = next((code for code in codes if code not in DIRECTIVES), None)
    if bad is not None or "%" not in fmt:
        what = f"%{bad} is not a date directive" if bad is not None else "it has no % directives"
        raise InputError(
            f"date_format {fmt!r} cannot be used: {what}", file=file,
            fix=f"in [tables.{table}] use codes such as %Y (year), %m (month), %d (day), %H:%M:%S "
            '(time), e.g. date_format = "%d/%m/%Y"',
        )
    if OFFSET_DIRECTIVE.search(fmt) and time_zone is None:
        raise needs_time_zone(f"date_format {fmt!r} reads a time-zone offset", file, table)
    return fmt


def _strptime(text, fmt: str, time_zone: str | None):
    """Parse with one format; a format with an offset gives wall time in `time_zone`."""
    if not OFFSET_DIRECTIVE.search(fmt):
        return text.str.strptime(pl.Datetime("us"), fmt, strict=False)
    aware = text.str.strptime(pl.Datetime("us", "UTC"), fmt.replace("%z", OFFSET), strict=False)
    return aware.dt.convert_time_zone(time_zone or "UTC").dt.replace_time_zone(None)


DATE_ONLY_DIRECTIVES = frozenset({"%Y", "%m", "%d", "%y", "%b", "%B"})


def _date_only(fmt: str) -> bool:
    """A format of calendar-date fields only (no time, no offset), which Polars parses to a Date."""
    return all(d in DATE_ONLY_DIRECTIVES for d in re.findall(r"%.", fmt))


def _text_date(text: pl.Expr, fmt: str, time_zone: str | None) -> pl.Expr:
    """Dates as coerce reads them (stripped, then parsed), cheaper: most values need no
    stripping, so they are parsed as written first, straight to a Date; only the values that
    did not parse are stripped and parsed as before. Stripping every value cost twice the
    parse on a file of clean dates."""
    as_written = text.str.to_date(fmt, strict=False)
    rest = pl.when(as_written.is_null()).then(text).str.strip_chars()
    return pl.coalesce(as_written, _strptime(rest, fmt, time_zone).dt.date())


def _clean_text(text: pl.Expr) -> pl.Expr:
    """Text stripped of surrounding white space, blank as null: only the values that start or
    end with white space (the regex class and str.strip_chars agree on what that is: Unicode
    White_Space) are stripped; the rest are kept as read, which is the same and cheaper."""
    stripped = text.str.strip_chars()
    return (pl.when(text.str.len_bytes() == 0).then(None)
            .when(text.str.contains(r"^\s|\s$")).then(pl.when(stripped == "").then(None).otherwise(stripped))
            .otherwise(text))


def _clean_number(expr: pl.Expr, options: ParseOptions) -> pl.Expr:
    """Parse `¥1,234.50`, `$1,234`, `1 234,50` (decimal=","), `(12.00)` as numbers."""
    thousands = options.thousands if options.thousands is not None else ("." if options.decimal == "," else ",")
    return parse_number(expr, NumberFormat(options.decimal, thousands))


def is_missing_token(text: pl.Expr) -> pl.Expr:
    """True where a text value is blank or one of MISSING_TOKENS (null stays null)."""
    value = text.cast(pl.String).str.strip_chars().str.to_lowercase()
    return (value == "") | value.is_in(MISSING_TOKENS)


def answered(values: Sequence[str | None]) -> list[str | None]:
    """A sample's values with MISSING_TOKENS as None, for judging how numbers are written."""
    tokens = set(MISSING_TOKENS)
    return [None if v is not None and str(v).strip().lower() in tokens else v for v in values]


def without_missing_tokens(expr: pl.Expr) -> pl.Expr:
    """The text with MISSING_TOKENS (and blanks) as null, for number columns."""
    return pl.when(is_missing_token(expr)).then(None).otherwise(expr.cast(pl.String))


def number_value(col: pl.Expr, source_dtype: pl.DataType, options: ParseOptions,
                 plain: pl.Expr | None = None) -> pl.Expr:
    """A number column's values as Float64, before any integer rounding.

    `plain` is the column's plain_number, computed once beforehand (a column of its own:
    see plain_numbers). Values it read are taken from it; only the others go through the
    missing-token list and the cleaning, whose expression repeats its input several times
    over (Polars evaluates each repeat), so on plain values it cost 7x the cast. No missing
    token and no bracketed negative reads as a plain number: the values are the same."""
    if _is_numeric(source_dtype):
        return col.cast(pl.Float64)
    if plain is None:
        return _clean_number(without_missing_tokens(col), options)
    rest = pl.when(plain.is_null()).then(col)
    return pl.coalesce(plain, _clean_number(without_missing_tokens(rest), options))


PLAIN_PREFIX = "__plain:"  # a helper column: a text number column's plain_number


def plain_number(col: pl.Expr, options: ParseOptions) -> pl.Expr:
    """What a plain cast reads of a text number (12.5, -3, 1e3), as parse_number reads it
    first: with a decimal comma, nothing with a "." or "," (1.234 is a thousand there)."""
    text = col.cast(pl.String).str.strip_chars()
    if options.decimal == ".":  # cast as written first: only values that do not read are stripped
        as_written = col.cast(pl.String).cast(pl.Float64, strict=False)
        return pl.coalesce(as_written, pl.when(as_written.is_null()).then(col.cast(pl.String)).str.strip_chars()
                           .cast(pl.Float64, strict=False))
    plain = text.cast(pl.Float64, strict=False)
    return pl.when(~text.str.contains(r"[.,]")).then(plain)


def _is_numeric(dtype: pl.DataType) -> bool:
    return dtype.is_numeric()


def coerce(
    name: str,
    kind: str,
    source_dtype: pl.DataType,
    options: ParseOptions,
    date_format: str | None = None,
    plain: pl.Expr | None = None,
) -> pl.Expr:
    """An expression reading source column `name` as the contract's `kind` (`plain`: see
    number_value)."""
    col = pl.col(name)
    target = c.DTYPES[kind]
    if kind in (c.ID, c.TEXT):
        if source_dtype == pl.String and not options.clean_text:
            return col
        if source_dtype == pl.String:
            return _clean_text(col)
        if source_dtype.is_float():
            # 1001.0 from a spreadsheet is the id "1001"; 1001.5 is no id at all: truncated to
            # "1001" it would merge two customers, so it stays unparsed and validation names it.
            # So do ids past 2**53, which a float cannot hold exactly (two ids may share one).
            exact = (col == col.round(0)) & (col.abs() < 2.0**53)
            col = pl.when(exact).then(col.cast(pl.Int64, strict=False)).otherwise(None)
        expr = col.cast(pl.String).str.strip_chars()
        return pl.when(expr == "").then(None).otherwise(expr)
    if kind in (c.DATE, c.DATETIME):
        if isinstance(source_dtype, pl.Datetime):
            # An instant (time-zone aware, e.g. UTC from Parquet) is read as the workspace's wall time.
            parsed = (col.dt.convert_time_zone(options.time_zone or "UTC").dt.replace_time_zone(None)
                      if source_dtype.time_zone else col)
        elif isinstance(source_dtype, pl.Date):
            if kind == c.DATE:
                return col  # already a date (Parquet): no round trip through Datetime
            parsed = col.cast(pl.Datetime("us"))
        else:
            formats = (options.date_format or date_format or "%Y-%m-%d").split(FORMAT_SEPARATOR)
            if kind == c.DATE and len(formats) == 1 and _date_only(formats[0]):
                return _text_date(col.cast(pl.String), formats[0], options.time_zone)
            text = col.cast(pl.String).str.strip_chars()
            parsed = pl.coalesce([_strptime(text, f, options.time_zone) for f in formats])
        return parsed.dt.date() if kind == c.DATE else parsed.cast(target)
    if kind in (c.MONEY, c.NUMBER):
        # NaN, inf and 1e308 are kept as read: validation refuses them, naming the rows
        return number_value(col, source_dtype, options, plain)
    if kind == c.INTEGER:
        number = number_value(col, source_dtype, options, plain)
        # 7.0 is 7; 7.5, NaN, inf and 1e308 are no integer answer and stay unparsed (null)
        # (validation names the non-finite ones); the bound keeps the cast from overflowing.
        whole = number.is_finite() & (number.abs() < c.MAX_MAGNITUDE) & (number == number.round(0))
        return pl.when(whole).then(number).otherwise(None).cast(pl.Int64)
    if kind == c.FLAG:
        if source_dtype == pl.Boolean:
            return col
        if _is_numeric(source_dtype):
            return col != 0
        text = col.cast(pl.String).str.strip_chars().str.to_lowercase()
        return (
            pl.when(text.is_in(TRUE_WORDS)).then(True)
            .when(text.is_in(FALSE_WORDS)).then(False)
            .otherwise(None)
        )
    raise ValueError(f"unknown column kind {kind!r}")


# Exports meant for Excel write an id as a formula, ="00123", so that its leading zeros survive
# being opened there. The text inside is the value: read as written, no id would meet the
# customers table's 00123.
EXCEL_TEXT = "excel-text"  # a ColumnMapping.detail: the column's values are written ="..."
_EXCEL_TEXT = r'^\s*="(.*)"\s*$'


def written_for_excel(values: Sequence[str | None]) -> bool:
    """Whether a sample of a text column is written ="..." (every value that is not blank)."""
    present = [v for v in values if v is not None and str(v).strip()]
    return bool(present) and all(re.match(_EXCEL_TEXT, str(v)) for v in present)


def excel_text(text: pl.Expr) -> pl.Expr:
    """The value inside ="..." (the rest as it is); ="" is no value."""
    inner = pl.coalesce(text.str.extract(_EXCEL_TEXT, 1), text)
    return pl.when(inner.str.strip_chars() == "").then(None).otherwise(inner)


# A survey tool's export of a score as its choice's text: "10 - Extremely likely", "0 – Not at
# all likely" at the ends of the scale, plain numbers between. The number before the label is
# the answer; "5 - 7" or "7-8" (a range, not a label) is not read.
LABELLED_ANSWER = r"^\s*(\d{1,3})\s*[-–—:]\s*[^\d\s]"


def labelled_answer(col: pl.Expr) -> pl.Expr:
    """The answer before a score's label ("10 - Extremely likely" is 10); null for any other value."""
    return col.cast(pl.String).str.extract(LABELLED_ANSWER, 1).cast(pl.Int64)


def extra_is_numeric(name: str, source_dtype: pl.DataType, sample: Sequence[str | None]) -> bool:
    """Columns outside the contract are numeric when a sample of them is all numbers
    (MISSING_TOKENS such as N/A and blanks aside)."""
    if _is_numeric(source_dtype):
        return True
    if source_dtype != pl.String or name.lower().endswith(("id", "_no", "code")):
        return False
    tokens = set(MISSING_TOKENS)
    present = pl.Series([v for v in sample if v is not None and str(v).strip()
                         and str(v).strip().lower() not in tokens], dtype=pl.String)
    return not present.is_empty() and present.str.strip_chars().cast(pl.Float64, strict=False).null_count() == 0


def coerce_extra(name: str, source_dtype: pl.DataType, numeric: bool, options: ParseOptions,
                 plain: pl.Expr | None = None) -> pl.Expr:
    if not numeric or _is_numeric(source_dtype):
        return pl.col(name) if (numeric or source_dtype != pl.String) else pl.col(name).cast(pl.String)
    return number_value(pl.col(name), source_dtype, options, plain)
