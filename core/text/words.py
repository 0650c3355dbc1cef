"""Chinese words of comments, split once: sentiment and themes both use them.

Each text is split by jieba's algorithm and dictionary (Sun Junyi's jieba: a prefix-
dictionary DAG, the most probable path, an HMM for words not in the dictionary) as
implemented in Rust by jieba-rs (the rjieba package): the same words as the Python jieba
(tests/core/test_text_words.py), about 18 times faster, and its dictionary loads in a
fraction of a second instead of 2-3 s. Traditional characters are made simplified first
(SnowNLP's table, core.text.snownlp_data). A text is split once per process however often
it is scored or themed (a bounded cache: a report splits for sentiment and for themes).
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
    import rjieba

    return tuple(rjieba.cut(text))
