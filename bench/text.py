"""`python -m bench.text [--size 100000]`: `report comments` beside a bare sentiment script.

The budget (issue 17): 100k comments scored and themed in under 60 s on this machine.
Builds a survey of SIZE answers, each with a comment made of four clauses drawn from
Chinese and English banks (so nearly every comment is distinct: the worst case, nothing to
reuse), then times, in fresh processes, one after the other:

  loyalist   `loyalist report comments --output x.json`: language, cleaning, sentiment,
             themes, theme shares by group and month, NMF topics (start-up included)
  peer       a bare script: Polars reads the file, each distinct comment is scored by
             vaderSentiment (Latin script) or SnowNLP(text).sentiments (Han script),
             directly, as their READMEs show. Scores only: no themes, no summaries.

Writes the run into bench/results/text.json under its size (other sizes kept). Run the
peer at 10k (`--size 10000`); at 100k it runs SnowNLP's own segmenter over 50k comments
(many minutes): `--size 100000 --no-peer` checks the budget.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from bench.summary import machine

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BUDGET_SECONDS_PER_100K = 60.0
ZH = ("送货很快", "包装很好", "质量不错", "客服态度很差", "物流太慢", "价格有点贵", "会员活动很划算", "店员很热情",
      "退货很麻烦", "商品和描述不符", "做工精细", "尺码偏小", "颜色好看", "发错货了", "味道很好", "电池不耐用",
      "性价比很高", "等了一个星期", "积分清零了", "下次还会再来", "屏幕有划痕", "导购很专业", "优惠券用不了",
      "非常满意", "非常失望", "衣服起球", "安装师傅很准时", "网站很卡", "赠品没有给", "环境干净")
EN = ("fast delivery", "great quality", "rude staff", "the app keeps crashing", "prices are too high",
      "friendly customer service", "the parcel arrived damaged", "love the loyalty points", "checkout was slow",
      "wrong size sent", "easy returns", "refund took weeks", "nice store", "the coupon did not work",
      "will buy again", "never again", "good value for money", "the website is confusing", "helpful assistant",
      "delivery was late", "excellent packaging", "poor stitching", "the colour faded", "quick refund",
      "long queue at the till", "tasty food", "battery dies fast", "great discounts", "clean fitting rooms",
      "lost my order")

PEER = """
import sys, time
import polars as pl
start = time.perf_counter()
from snownlp import SnowNLP
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
texts = pl.read_csv(sys.argv[1])["comment"].drop_nulls().unique().to_list()
vader = SentimentIntensityAnalyzer()
han = __import__("re").compile("[\\u4e00-\\u9fff]")
scores = [SnowNLP(t).sentiments if han.search(t) else vader.polarity_scores(t)["compound"] for t in texts]
print(len(scores))
"""


def survey(size: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    chinese = rng.random(size) < 0.5
    zh = np.asarray(ZH, dtype=object)[rng.integers(0, len(ZH), (size, 4))]
    en = np.asarray(EN, dtype=object)[rng.integers(0, len(EN), (size, 4))]
    comments = np.where(chinese, ["，".join(r) for r in zh], [", ".join(r).capitalize() for r in en])
    days = rng.integers(0, 180, size)
    return pl.DataFrame({
        "customer_id": [f"C{i:07d}" for i in range(size)],
        "response_date": np.datetime64("2025-01-01") + days.astype("timedelta64[D]"),
        "nps": rng.integers(0, 11, size),
        "comment": comments.tolist(),
    })


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one command run to its end."""
    start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.perf_counter() - start, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000, help="survey answers, each with a comment")
    parser.add_argument("--no-peer", action="store_true", help="time Loyalist only")
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "text.json")
    args = parser.parse_args()
    meta = machine()  # the load average before the run starts
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ws"
        folder.mkdir()
        table = survey(args.size)
        table.write_csv(folder / "survey.csv")
        distinct = table["comment"].n_unique()
        loyalist, loyalist_cpu = timed([sys.executable, "-m", "commands", "report", "comments", "-w",
                                        str(folder), "--output", str(Path(tmp) / "comments.json")])
        peer, peer_cpu = (None, None) if args.no_peer else timed([sys.executable, "-c", PEER,
                                                                  str(folder / "survey.csv")])
    result = {
        "machine": meta,
        "comments": args.size, "distinct": distinct,
        "loyalist_seconds": round(loyalist, 2),
        "peer_seconds": None if peer is None else round(peer, 2),
        "loyalist_cpu_seconds": round(loyalist_cpu, 2),
        "peer_cpu_seconds": None if peer_cpu is None else round(peer_cpu, 2),
        "peer_over_loyalist": None if peer is None else round(peer / loyalist, 2),
        # the budget is for 100k comments; start-up (imports, ~5 s) does not shrink with fewer
        "budget": {"comments": 100_000, "seconds": BUDGET_SECONDS_PER_100K},
        "within_budget": loyalist <= BUDGET_SECONDS_PER_100K if args.size >= 100_000 else None,
        "what": "loyalist: report comments (sentiment, themes, groups, topics) in a fresh process; peer: a bare "
                "script scoring each distinct comment with vaderSentiment or SnowNLP directly",
    }
    out = args.json
    runs = json.loads(out.read_text()).get("runs", {}) if out.exists() else {}
    runs[str(args.size)] = result  # one run per size: 10k with the peer, 100k against the budget
    out.write_text(json.dumps({"runs": runs}, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
