"""Likert answers written as their labels ('Strongly agree'), read as the scale's points.

Survey tools export an agreement or satisfaction grid as the labels the respondent saw unless
told to export values. An extra column (outside the contract) whose answers are labels of one
known scale is read as that scale's points, 1 to 5 or 1 to 7, and its range is declared (the
scale builder normalises on it); an answer that is none of them (a typo) is missing, and
validation counts it. The scale is judged on all of the column's distinct
answers, not its first rows: a 7-point item's first rows may hold no 'Somewhat agree', and read
as a 5-point item its 'Agree' would be 4 instead of 6. When the answers fit a 5-point and a
7-point scale alike (no 'Somewhat' anywhere), the 5-point one is read. A column is a candidate
when its first rows' answers are all labels (could_be_labels).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

import polars as pl

from core.coerce import MISSING_TOKENS

PREFIX = "likert:"  # a ColumnMapping's detail: likert:<scale>
NEUTRAL = ("neither agree nor disagree", "neutral")
# Each scale's points, lowest first; a point may have several labels. Fewer points first: the
# one read when two fit.
SCALES: dict[str, tuple[tuple[str, ...], ...]] = {
    "agreement, 5 points": (("strongly disagree",), ("disagree",), NEUTRAL, ("agree",), ("strongly agree",)),
    "agreement, 7 points": (("strongly disagree",), ("disagree",), ("somewhat disagree", "slightly disagree"),
                            NEUTRAL, ("somewhat agree", "slightly agree"), ("agree",), ("strongly agree",)),
    "satisfaction, 5 points": (("very dissatisfied",), ("dissatisfied", "somewhat dissatisfied"),
                               ("neither satisfied nor dissatisfied", "neutral"),
                               ("satisfied", "somewhat satisfied"), ("very satisfied",)),
    "likelihood, 5 points": (("very unlikely",), ("unlikely", "somewhat unlikely"),
                             ("neither likely nor unlikely", "neutral"), ("likely", "somewhat likely"),
                             ("very likely",)),
    "agreement, 5 points (zh)": (("非常不同意",), ("不同意",), ("一般", "中立"), ("同意",), ("非常同意",)),
    "satisfaction, 5 points (zh)": (("非常不满意",), ("不满意",), ("一般",), ("满意",), ("非常满意",)),
}
MIN_LABELS = 3  # distinct labels a column needs before it is read as a scale (one 'Neutral' is not)
LABELLED = 0.9  # the share of a column's first answers that must be labels
NON_ANSWERS = frozenset(MISSING_TOKENS)


def normalise(label: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", label).strip().lower().replace("’", "'").split())


def _points(scale: str) -> dict[str, int]:
    return {label: point for point, labels in enumerate(SCALES[scale], start=1) for label in labels}


ALL_LABELS = frozenset(label for scale in SCALES for label in _points(scale))


def _answers(values: Iterable[str | None]) -> list[str]:
    """The values as labels are compared, blanks and non-answers such as N/A aside."""
    return [a for v in values if v is not None and v.strip() and (a := normalise(v)) not in NON_ANSWERS]


def could_be_labels(values: Iterable[str | None]) -> bool:
    """Whether a sample's answers are scale labels: at least MIN_LABELS of them, and LABELLED of the
    answers (a typo aside)."""
    answers = _answers(values)
    labels = [a for a in answers if a in ALL_LABELS]
    return len(set(labels)) >= MIN_LABELS and len(labels) >= LABELLED * len(answers)


def scale_of(values: Iterable[str | None]) -> str | None:
    """The scale whose labels are most of a column's distinct answers (of two alike, the one with
    fewer points), or None when none has MIN_LABELS of them. Answers that are none of its labels (a
    typo) are read as missing, and validation counts them."""
    answers = set(_answers(values))
    covered = {scale: len(answers & _points(scale).keys()) for scale in SCALES}
    best = max(covered, key=covered.__getitem__)  # the first of the most covering, in SCALES order
    return best if covered[best] >= MIN_LABELS else None


def detail(scale: str) -> str:
    return PREFIX + scale


def scale_in(detail_text: str) -> str | None:
    return detail_text[len(PREFIX):] if detail_text.startswith(PREFIX) else None


def points(scale: str) -> int:
    return len(SCALES[scale])


def read_points(name: str, scale: str) -> pl.Expr:
    """The column's labels as the scale's points (Float64, as other numeric extras); anything else,
    a non-answer included, is null (validation counts what is not a non-answer)."""
    text = (pl.col(name).cast(pl.String).str.normalize("NFKC").str.strip_chars().str.to_lowercase()
            .str.replace_all("’", "'", literal=True).str.replace_all(r"\s+", " "))  # as normalise() reads them
    return text.replace_strict(_points(scale), default=None, return_dtype=pl.Float64)
