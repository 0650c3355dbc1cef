"""Chinese words of a comment, split once: sentiment and themes both use them.

jieba splits the text after traditional characters are made simplified (SnowNLP's table).
A comment is split once per process however often it is scored or themed (a bounded
cache: surveys repeat short answers, and a report splits for sentiment and for themes).
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1 << 17)
def chinese_words(text: str) -> tuple[str, ...]:
    import jieba
    from snownlp import normal

    jieba.setLogLevel(60)  # its "Building prefix dict" lines are not the user's business
    return tuple(jieba.lcut(normal.zh2hans(text)))
