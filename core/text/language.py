"""Which language each comment is in, and the text that is scored: Polars expressions.

Rules (stated in the report's notes and in README):
- HTML tags are dropped and HTML entities of spaces blanked; control characters become
  spaces; a comment is cut at MAX_CHARS characters before it is scored.
- No comment (missing or blank): "none". Nothing left but punctuation, digits or emoji:
  "no_words".
- More than a tenth control or replacement characters (U+FFFD) in the raw text:
  "unreadable" (a binary or mis-decoded value, not a comment).
- Otherwise the script with the most units wins: Han characters (Chinese, simplified or
  traditional), Latin words (English), words or syllables of any other script ("other").
  Ties between Chinese and English go to Chinese: a Chinese comment with one English
  brand name is still Chinese.
"""

from __future__ import annotations

import polars as pl

MAX_CHARS = 2000
LANGUAGES = ("zh", "en")
STATUSES = ("zh", "en", "other", "no_words", "unreadable", "none")

_TAG = r"<[^>]{0,200}>"
_CONTROL = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F\x{FFFD}]"
_HAN = r"\p{Han}"
_LATIN_WORD = r"\p{Latin}+"
_OTHER = (r"[\p{Cyrillic}\p{Greek}\p{Arabic}\p{Hebrew}\p{Thai}\p{Devanagari}]+"
          r"|[\p{Hiragana}\p{Katakana}\p{Hangul}]")


def cleaned(text: pl.Expr) -> pl.Expr:
    """The text that is scored: tags out, control characters blanked, cut at MAX_CHARS."""
    return (
        text.str.slice(0, 4 * MAX_CHARS)  # tags are cut below; never scan 100 kB twice
        .str.replace_all(_TAG, " ")
        .str.replace_all(r"&nbsp;|&#160;", " ")
        .str.replace_all(_CONTROL, " ")
        .str.strip_chars()
        .str.slice(0, MAX_CHARS)
    )


def language(raw: pl.Expr, clean: pl.Expr) -> pl.Expr:
    """One of STATUSES for each comment (raw: the comment as read; clean: cleaned(raw))."""
    han = clean.str.count_matches(_HAN)
    latin = clean.str.count_matches(_LATIN_WORD)
    other = clean.str.count_matches(_OTHER)
    junk = raw.str.slice(0, 4 * MAX_CHARS).str.count_matches(_CONTROL)
    length = raw.str.slice(0, 4 * MAX_CHARS).str.len_chars()
    return (
        pl.when(raw.is_null() | (raw.str.strip_chars() == "")).then(pl.lit("none"))
        .when(junk * 10 > length).then(pl.lit("unreadable"))
        .when(han + latin + other == 0).then(pl.lit("no_words"))
        .when((han >= latin) & (han >= other)).then(pl.lit("zh"))
        .when(latin >= other).then(pl.lit("en"))
        .otherwise(pl.lit("other"))
    )
