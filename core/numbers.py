"""Number conventions in text columns: `12.50` or `12,50`, `1,234.50` or `1.234,50`.

Exports from European shops and POS systems write amounts with a decimal comma. Read
with the wrong convention `12,50` becomes 1250 (revenue 100x), so the convention is
judged per column from a sample of its values, and a value that does not fit the
column's convention becomes null (validation then reports it with its rows) instead of
being read as some other number. A column whose values fit both conventions (`1,234`
alone) is refused with the option that settles it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from core.errors import InputError

# Kept from a value before judging it: digits, separators, minus (drops ¥ $ € and spaces).
NOT_NUMBER_CHARS = r"[^0-9.,\-]"
MARKUP = r"<[^<>]*>"  # an HTML/XML tag pasted into a number cell


@dataclass(frozen=True)
class NumberFormat:
    decimal: str = "."
    thousands: str = ","  # "" for none; spaces and apostrophes are always ignored
    how: str = "default"  # "detected" | "loyalist.toml" | "default" (nothing to tell)

    def describe(self) -> str:
        if self.how == "default":
            return f'decimal "{self.decimal}" (no separator in the sample)'
        thousands = f'thousands "{self.thousands}"' if self.thousands else "no thousands separator"
        return f'decimal "{self.decimal}", {thousands} ({self.how})'


DOT = NumberFormat(".", ",")
COMMA = NumberFormat(",", ".")


def configured(decimal: str | None, thousands: str | None) -> NumberFormat | None:
    """The convention loyalist.toml sets for a table, or None when it sets none."""
    if decimal is None and thousands is None:
        return None
    if decimal is None:
        decimal = "," if thousands == "." else "."
    if thousands is None:
        thousands = "." if decimal == "," else ","
    return NumberFormat(decimal, thousands, "loyalist.toml")


def number_pattern(fmt: NumberFormat) -> str:
    """A whole value (after NOT_NUMBER_CHARS are dropped) written in this convention."""
    d = re.escape(fmt.decimal)
    groups = rf"[1-9]\d{{0,2}}(?:{re.escape(fmt.thousands)}\d{{3}})+|" if fmt.thousands else ""
    return rf"^-?(?:{groups}\d+)?(?:{d}\d*)?$"


def parse_number(expr: pl.Expr, fmt: NumberFormat) -> pl.Expr:
    """`¥1,234.50`, `$1,234`, `1 234,50` (decimal ","), `(12.00)` and `12.00-` as numbers; others null."""
    text = expr.cast(pl.String).str.strip_chars()
    # an ERP's trailing minus (SAP writes a return as 12.50-): the sign, never a stray character
    trailing = text.str.contains(r"\d\s*-$")
    text = pl.when(trailing).then(text.str.replace(r"\s*-$", "")).otherwise(text)
    negative = (text.str.starts_with("(") & text.str.ends_with(")")) | trailing
    digits = text.str.replace_all(NOT_NUMBER_CHARS, "")
    # Markup is not a currency sign: "<h1>12,50</h1>" would keep the tag's 1s (112,501), so a
    # value with a tag does not fit and is reported with its row, never read as some number.
    fits = digits.str.contains(number_pattern(fmt)) & digits.str.contains(r"\d") & ~text.str.contains(MARKUP)
    if fmt.thousands:
        digits = digits.str.replace_all(fmt.thousands, "", literal=True)
    value = digits.str.replace_all(fmt.decimal, ".", literal=True).cast(pl.Float64, strict=False)
    value = pl.when(fits).then(value)
    plain = text.cast(pl.Float64, strict=False)  # 1e3, -5, 12.5 as they are
    if fmt.decimal != ".":
        plain = pl.when(~text.str.contains(r"[.,]")).then(plain)
    value = pl.coalesce(plain, value)
    # An empty result (e.g. "N/A" stripped to "") stays null, never 0.
    return pl.when(negative).then(-value).otherwise(value)


# Currencies always written with a decimal point (and comma thousands) where they are used.
DOT_CURRENCIES = r"[¥$£₩元円]|US\$|RMB|CNY|USD|GBP|JPY"
_LONE_SEP_THREE = r"^-?[1-9]\d{0,2}[.,]\d{3}$"  # 1,234 or 1.234: a group or a fraction?


def _evidence(sample: pl.Series) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Per value: says decimal comma, says decimal dot, fits both (1,234 / 1.234)."""
    s = sample.str.replace_all(NOT_NUMBER_CHARS, "")
    # ¥1,000 and $1,000 are a thousand: those currencies are written with a decimal point.
    lone = s.str.contains(_LONE_SEP_THREE)
    dot_currency = sample.str.contains(DOT_CURRENCIES)
    ambiguous = lone & ~dot_currency
    comma = ~lone & (
        s.str.contains(r"^-?\d{1,3}(?:\.\d{3})*,\d+$")  # 12,50  1.234,50  0,125
        | s.str.contains(r"^-?\d+,\d+$")  # 1234,5: no thousands grouping reads it
        | s.str.contains(r"^-?\d{1,3}(?:\.\d{3}){2,}$")  # 1.234.567
    )
    dot = (~lone & (
        s.str.contains(r"^-?\d{1,3}(?:,\d{3})*\.\d+$")
        | s.str.contains(r"^-?\d*\.\d+$")  # 12.50  0.125  1234.5
        | s.str.contains(r"^-?\d{1,3}(?:,\d{3}){2,}$")
    )) | (lone & dot_currency & s.str.contains(","))
    return comma, dot, ambiguous


def detect_number_format(values: Sequence[str | None], *, file: str, column: str,
                         first_row: int = 2) -> NumberFormat:
    """The convention a sample of a text number column is written in (see module doc).

    `first_row` is the row number of the first sample value, for the error message.
    """
    sample = pl.Series([v for v in values if v is not None and str(v).strip()], dtype=pl.String)
    if sample.is_empty():
        return DOT
    comma, dot, ambiguous = _evidence(sample)
    rows = pl.Series([i + first_row for i, v in enumerate(values) if v is not None and str(v).strip()])

    def example(flags: pl.Series) -> str:
        i = flags.arg_true()[0]
        return f"{sample[i]!r} (row {rows[i]})"

    if comma.any() and dot.any():
        raise InputError(
            f"numbers are written both with a decimal comma, such as {example(comma)}, "
            f"and with a decimal point, such as {example(dot)}",
            file=file, column=column,
            fix='correct the values to one convention, or set decimal = "," or "." for this table '
            "in loyalist.toml (values in the other convention are then reported)",
        )
    if comma.any():
        return NumberFormat(",", ".", "detected")
    if dot.any():
        return NumberFormat(".", ",", "detected")
    if ambiguous.any():
        value = sample[ambiguous.arg_true()[0]]
        sep = "," if "," in value else "."
        raise InputError(
            f"numbers such as {example(ambiguous)} could have a decimal {sep!r} or a thousands {sep!r}, "
            "and no value in the column tells which",
            file=file, column=column,
            fix=f'set decimal = "{sep}" (1{sep}234 is one and a bit) or thousands = "{sep}" '
            f"(1{sep}234 is over a thousand) for this table in loyalist.toml",
        )
    return DOT


def extra_number_format(values: Sequence[str | None], forced: NumberFormat | None, *,
                        file: str, column: str, table: NumberFormat | None = None) -> NumberFormat | None:
    """The convention of a column outside the contract when its sample is all numbers, else None.

    Stricter than a contract number column (whose odd values validation reports): a value
    must be only a number, sign, separators, spaces and a currency mark, so `Store 12`
    stays text. A column that fits both conventions (`1,234` alone) follows the `table`'s
    convention (the one its other columns show), or stays text when there is none.
    """
    present = pl.Series([v for v in values if v is not None and str(v).strip()], dtype=pl.String)
    if present.is_empty():
        return None
    try:
        fmt = forced or detect_number_format(values, file=file, column=column)
    except InputError:
        if table is None:
            return None
        fmt = NumberFormat(table.decimal, table.thousands, "as the table's other columns")
    text = present.str.strip_chars()
    plain = text.cast(pl.Float64, strict=False).is_not_null()
    shaped = text.str.contains(rf"^\(?-?(?:{DOT_CURRENCIES}|€)?\s?-?[\d.,\s']*\d[\d.,\s']*(?:\s?€)?\)?$")
    parsed = pl.select(parse_number(pl.lit(present), fmt)).to_series().is_not_null()
    return fmt if ((plain | shaped) & parsed).all() else None
