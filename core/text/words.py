"""Chinese words of comments, split once: sentiment and themes both use them.

jieba splits each text after traditional characters are made simplified (SnowNLP's table,
core.text.snownlp_data). A text is split once per process however often it is scored or
themed (a bounded cache: surveys repeat short answers, and a report splits for sentiment
and for themes).
"""

from __future__ import annotations

from functools import lru_cache

import polars as pl


def chinese_words(texts: list[str]) -> list[tuple[str, ...]]:
    from core.text.snownlp_data import simplified

    plain = pl.Series("t", texts, dtype=pl.String).to_frame().select(simplified(pl.col("t")))["t"].to_list()
    return [_split(t) for t in plain]


@lru_cache(maxsize=1 << 17)
def _split(text: str) -> tuple[str, ...]:
    import jieba

    jieba.setLogLevel(60)  # its "Building prefix dict" lines are not the user's business
    return tuple(jieba.lcut(text))
