"""core.text.snownlp_data reads SnowNLP's files itself (the package's import loads every
model it has, ~10 s): each piece must give what the snownlp package's own functions give."""

import pathlib

import polars as pl
import pytest
from snownlp import normal, seg, sentiment

from core.text.snownlp_data import positive_probabilities, simplified, stop_words

CORPUS = pl.read_csv(pathlib.Path(__file__).parent.parent / "data" / "comments_zh_labelled.csv")["text"].to_list()
TRADITIONAL = ["質量很好，非常滿意", "服務態度很差，非常失望", "飛機飛向藍天", "印表機說明檔案", "乾坤乾燥",
               "發貨太慢，等到不耐煩"]


def snownlp_p(words):
    kind, p = sentiment.classifier.classifier.classify(normal.filter_stop(words))
    return p if kind == "pos" else 1 - p


def test_simplified_is_snownlps_zh2hans():
    texts = TRADITIONAL + CORPUS
    ours = pl.Series("t", texts).to_frame().select(simplified(pl.col("t")))["t"].to_list()
    assert ours == [normal.zh2hans(t) for t in texts]


def test_stop_words_are_snownlps():
    assert stop_words() == frozenset(normal.stop)


def test_probabilities_are_snownlps_bayes_on_the_same_words():
    docs = [seg.seg(normal.zh2hans(t)) for t in ["这个东西真心很赞", *CORPUS]] + [[], ["从没见过的词语"]]
    words = pl.DataFrame({"doc": range(len(docs)), "word": docs},
                         schema={"doc": pl.Int64, "word": pl.List(pl.String)}).explode("word")
    ours = positive_probabilities(words, len(docs))
    assert ours.to_list() == pytest.approx([snownlp_p(d) for d in docs], rel=1e-9, abs=1e-12)
    # SnowNLP's README: SnowNLP('这个东西真心很赞').sentiments == 0.9769663402895832
    assert ours[0] == pytest.approx(0.9769663402895832, abs=1e-4)
