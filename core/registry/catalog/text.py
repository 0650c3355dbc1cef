"""Voice-of-the-customer reports in the `report` group: comment sentiment and themes, KANO."""

from __future__ import annotations

from core.registry.catalog import AS_OF, CONFIDENCE, SINCE
from core.registry.model import Analysis, register
from core.registry.options import INT, LIST, Option

register(Analysis(
    "report.comments", "Comments", "Sentiment of survey comments in Chinese and English, per comment and by NPS "
    "group, language and segment; themes (top terms per sentiment); comments not scored are counted",
    run="core.text.comments:comments", takes="tables", noun="comments report",
    details="Needs survey (comment); uses customers and transactions for the breakdowns. English is scored with "
    "VADER, Chinese with SnowNLP's sentiment model; nothing is downloaded.",
    needs=("survey",), uses=("customers", "transactions"), long=("scored", "theme_groups"),
    options=(
        Option("by", LIST, title="Break down by", sample='["region", "channel"]',
               help="Survey or customer columns or 'channel', comma-separated; empty: the segment-like columns "
               "present"),
        Option("min_responses", INT, 30, low=1, help="Groups with fewer comments are flagged small_sample"),
        Option("top_terms", INT, 10, low=1, high=100, help="Themes: terms listed per sentiment (and followed by "
               "group and month in theme_groups)"),
        Option("topics", INT, 5, low=0, high=30, help="Topics found by NMF over the comments' terms; 0: none"),
        SINCE, AS_OF, CONFIDENCE,
    ),
))
register(Analysis(
    "report.kano", "Kano", "Kano categories of features (attractive, one-dimensional, must-be, indifferent, "
    "reverse, questionable) from paired functional/dysfunctional questions, with Better and Worse coefficients",
    run="core.text.kano:kano", takes="tables", noun="kano report",
    details="Needs survey columns kano_<feature>_func and kano_<feature>_dysf (1 like, 2 expect, 3 neutral, "
    "4 live with, 5 dislike, or those words).",
    needs=("survey",),
    options=(AS_OF,),
))
register(Analysis(
    "report.comment_drivers", "Comment drivers", "Which comment themes separate detractors from promoters: per "
    "term, mentions on each side and the odds ratio with its interval (beside the key drivers of NPS)",
    run="core.text.drivers:comment_drivers", takes="tables", noun="comment_drivers report",
    command="comment-drivers",
    details="Needs survey (nps, comment). Terms as in report comments (jieba's Chinese words, English words and "
    "two-word phrases, stop words out); Woolf intervals with Haldane's 0.5 when a cell is 0; q-values by "
    "Benjamini-Hochberg. Passives are left out; no sentiment is scored.",
    needs=("survey",),
    options=(
        Option("min_mentions", INT, 5, low=1, help="Test only terms that at least this many detractors' and "
               "promoters' comments mention"),
        SINCE, AS_OF, CONFIDENCE,
    ),
))
