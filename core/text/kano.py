"""`report.kano`: each feature's Kano category and Better/Worse coefficients.

Layout (survey table): one pair of columns per feature, `kano_<feature>_func` (how do you
feel if the feature is there?) and `kano_<feature>_dysf` (... if it is not?). Answers are
the five Kano options, as codes or words:
  1 like (喜欢), 2 expect / must-be (理所当然), 3 neutral (无所谓), 4 live with (能忍受),
  5 dislike (不喜欢).
Each answered pair is classed by the Kano evaluation table (Berger et al. 1993, "Kano's
methods for understanding customer-defined quality", Center for Quality of Management
Journal 2(4)): A attractive, O one-dimensional, M must-be, I indifferent, R reverse,
Q questionable. A feature's category is its commonest class, ties going to M > O > A > I
> R > Q (the order Berger et al. suggest: the class that costs most to get wrong first).
Better = (A + O) / (A + O + M + I) and Worse = -(O + M) / (A + O + M + I) (Timko, in
Berger et al. 1993): how much fulfilling the feature raises satisfaction, and how much
leaving it out lowers it.
"""

from __future__ import annotations

import datetime as dt
import re

import polars as pl

from core.errors import AnalysisError, InputError
from core.evaluate.inputs import UNNAMED, names, on_or_before, require
from core.result import Chart, Result

ANALYSIS = "kano report"
ANSWERS = ("like", "expect", "neutral", "live with", "dislike")
CLASSES = ("M", "O", "A", "I", "R", "Q")  # also the tie order
CLASS_NAMES = {"A": "attractive", "O": "one-dimensional", "M": "must-be", "I": "indifferent",
               "R": "reverse", "Q": "questionable"}
# Rows: functional answer 1-5; columns: dysfunctional answer 1-5 (Berger et al. 1993).
EVALUATION = ("QAAAO", "RIIIM", "RIIIM", "RIIIM", "RRRRQ")
WORDS = {
    **{str(i): i for i in range(1, 6)}, **{f"{i}.0": i for i in range(1, 6)},
    "like": 1, "i like it": 1, "like it": 1, "喜欢": 1, "我喜欢": 1,
    "expect": 2, "must-be": 2, "must be": 2, "i expect it": 2, "理所当然": 2, "应该的": 2, "必须的": 2,
    "neutral": 3, "i am neutral": 3, "indifferent": 3, "无所谓": 3, "無所謂": 3, "一般": 3,
    "live with": 4, "live-with": 4, "i can live with it": 4, "tolerate": 4, "能忍受": 4, "可以忍受": 4,
    "dislike": 5, "i dislike it": 5, "不喜欢": 5, "不喜歡": 5,
}
_PAIR = re.compile(r"^kano_(.+)_(func|dysf)$")


def kano_columns(columns: list[str]) -> dict[str, tuple[str, str]]:
    """feature -> (functional column, dysfunctional column); a half pair is an InputError."""
    sides: dict[str, dict[str, str]] = {}
    for col in columns:
        m = _PAIR.match(col)
        if m:
            sides.setdefault(m[1], {})[m[2]] = col
    for feature, pair in sides.items():
        if len(pair) == 1:
            have = next(iter(pair.values()))
            other = f"kano_{feature}_{'dysf' if 'func' in pair else 'func'}"
            raise InputError(f"Kano feature {feature!r} has {have} but no {other}", column=have,
                             fix=f"add the paired question as {other}, or rename the pair")
    return {f: (p["func"], p["dysf"]) for f, p in sorted(sides.items())}


def answer_code(column: str) -> pl.Expr:
    """The 1-5 code of an answer (codes, English or Chinese words); null if blank or unknown."""
    text = pl.col(column).cast(pl.String).str.strip_chars().str.to_lowercase()
    return text.replace_strict(WORDS, default=None, return_dtype=pl.Int64)


def evaluation_table() -> pl.LazyFrame:
    return pl.LazyFrame({
        "functional": [f + 1 for f in range(5) for _ in range(5)],
        "dysfunctional": [d + 1 for _ in range(5) for d in range(5)],
        "class": [EVALUATION[f][d] for f in range(5) for d in range(5)],
    }, schema={"functional": pl.Int64, "dysfunctional": pl.Int64, "class": pl.String})


def kano(
    survey: pl.LazyFrame | None,
    *,
    as_of: dt.date | None = None,
    workspace: str = UNNAMED,
) -> Result:
    """Kano class counts, category, Better and Worse per feature."""
    require(survey, "survey", ANALYSIS, workspace)
    pairs = kano_columns(names(survey))
    if not pairs:
        raise AnalysisError(
            f"{ANALYSIS}: the survey has no Kano questions. Fix: add each feature's answers as a pair of "
            "columns kano_<feature>_func and kano_<feature>_dysf (1 like, 2 expect, 3 neutral, 4 live with, "
            "5 dislike)")
    lf = survey
    if as_of is not None and "response_date" in names(survey):
        lf = lf.filter(on_or_before(pl.col("response_date"), as_of))
    long = pl.concat([
        lf.select(pl.lit(feature).alias("feature"), answer_code(f).alias("functional"),
                  answer_code(d).alias("dysfunctional"))
        for feature, (f, d) in pairs.items()
    ])
    unknown = lf.select(*(
        (pl.col(c).is_not_null() & (pl.col(c).cast(pl.String).str.strip_chars() != "")
         & answer_code(c).is_null()).sum().alias(c)
        for pair in pairs.values() for c in pair))
    answered = long.filter(pl.col("functional").is_not_null() & pl.col("dysfunctional").is_not_null())
    counts = (answered.join(evaluation_table(), on=["functional", "dysfunctional"])
              .group_by("feature", "class").agg(pl.len().cast(pl.Int64).alias("answers")))
    unanswered = long.group_by("feature").agg(
        (pl.col("functional").is_null() | pl.col("dysfunctional").is_null()).sum().alias("skipped"))
    unknown, counts, unanswered = pl.collect_all([unknown, counts, unanswered])
    bad = {c: n for c, n in unknown.row(0, named=True).items() if n}
    if bad:
        col, n = next(iter(bad.items()))
        raise InputError(f"{n} answers in {col} are not one of the five Kano answers", column=col,
                         fix="use 1-5 or like / expect / neutral / live with / dislike")
    features = feature_table(counts, list(pairs))
    if int(features["answers"].sum()) == 0:
        raise AnalysisError(f"{ANALYSIS}: no respondent answered both questions of any Kano pair. "
                            "Fix: check the kano_* columns hold the answers")
    skipped = int(unanswered["skipped"].sum())
    notes = ["Classes by the Kano evaluation table (Berger et al. 1993); category = commonest class, ties "
             "M > O > A > I > R > Q; Better = (A+O)/(A+O+M+I), Worse = -(O+M)/(A+O+M+I)."]
    if skipped:
        notes.append(f"{skipped} feature answers left out: one question of the pair unanswered.")
    tied = features.filter(pl.col("tied")).height
    if tied:
        notes.append(f"{tied} features tie between their two commonest classes (tied = true).")
    long_table = (counts.join(features.select("feature", "answers"), on="feature", suffix="_all")
                  .with_columns((100 * pl.col("answers") / pl.col("answers_all")).alias("share"),
                                pl.col("class").replace_strict(CLASS_NAMES).alias("class_name"))
                  .sort("feature", pl.col("class").replace_strict({c: i for i, c in enumerate(CLASSES)}))
                  .select("feature", "class", "class_name", "answers", "share"))
    return Result(
        name="report.kano",
        title="Kano features",
        tables={"features": features, "classes": long_table},
        kinds={"features/category_share": "points", "classes/share": "points"},  # already in percent (0-100)
        headline={"features_asked": features.height, "pairs_answered": int(features["answers"].sum())},
        charts=(Chart("bar", "Better and Worse by feature", "features", "feature", ("better", "worse")),),
        params={"as_of": as_of},
        notes=tuple(notes),
    )


def feature_table(counts: pl.DataFrame, features: list[str]) -> pl.DataFrame:
    """One row per feature: answers, each class's count, category, its share, Better, Worse."""
    grid = pl.DataFrame({"feature": [f for f in features for _ in CLASSES],
                         "class": [c for _ in features for c in CLASSES]})
    full = grid.join(counts, on=["feature", "class"], how="left").with_columns(pl.col("answers").fill_null(0))
    wide = full.pivot("class", index="feature", values="answers").select("feature", *CLASSES)
    n = sum(pl.col(c) for c in CLASSES)
    core4 = pl.col("A") + pl.col("O") + pl.col("M") + pl.col("I")
    ranked = (full.with_columns(pl.col("class").replace_strict({c: i for i, c in enumerate(CLASSES)}).alias("_tie"))
              .sort("feature", "answers", "_tie", descending=[False, True, False])
              .group_by("feature", maintain_order=True)
              .agg(pl.col("class").first().alias("category"),
                   (pl.col("answers").get(0) == pl.col("answers").get(1)).alias("tied")))
    return (
        wide.join(ranked, on="feature")
        .with_columns(n.alias("answers"))
        .with_columns(
            pl.col("category").replace_strict(CLASS_NAMES).alias("category_name"),
            pl.when(pl.col("answers") > 0).then(100 * pl.max_horizontal(*CLASSES) / pl.col("answers"))
            .alias("category_share"),
            pl.when(core4 > 0).then((pl.col("A") + pl.col("O")) / core4).alias("better"),
            pl.when(core4 > 0).then(-(pl.col("O") + pl.col("M")) / core4).alias("worse"),
        )
        .select("feature", "answers", *CLASSES, "category", "category_name", "category_share", "better", "worse",
                "tied")
    )
