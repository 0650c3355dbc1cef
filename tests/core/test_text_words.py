"""Chinese words come from jieba-rs (rjieba): the same words as the Python jieba, which is
the reference here (a dev dependency)."""

import pathlib

import jieba
import polars as pl

from bench.text import survey
from core.text.snownlp_data import simplified
from core.text.words import chinese_words

CORPUS = pl.read_csv(pathlib.Path(__file__).parent.parent / "data" / "comments_zh_labelled.csv")["text"].to_list()


def test_words_are_pythons_jieba_words_after_simplifying():
    made = survey(3000)["comment"].to_list()
    texts = CORPUS + [t for t in made if "，" in t]
    texts += ["这个东西真心很赞", "質量很好 but the box 壞了", "小米手机很好用"]
    plain = pl.Series("t", texts).to_frame().select(simplified(pl.col("t")))["t"].to_list()
    jieba.setLogLevel(60)
    assert [list(w) for w in chinese_words(texts)] == [jieba.lcut(t) for t in plain]
