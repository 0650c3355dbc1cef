"""`python -m bench.products`: association rules and item-item recommendations at scale, and
rules beside mlxtend on inputs mlxtend can handle.

Two comparisons, each stage in a fresh child process (wall time and peak resident memory of
the stage itself, inputs prepared untimed):

  scale    Loyalist's rules (read_purchases + mine_rules, pairs) and item-item
           recommendations (top 10 for every customer) on --rows transactions of
           --customers customers and --products products (default 10M / 750k / 20k; targets
           under 30 s and 4 GB each).
  mlxtend  the same rules by Loyalist and by mlxtend (TransactionEncoder + fpgrowth +
           association_rules, the documented recipe) from the same Parquet file, on
           --small-rows transactions and --small-products products; both rule lists are
           compared (same rules, support/confidence/lift to 1e-9) before a time counts.
           Target: Loyalist within 2x of mlxtend.

The transactions are synthetic, written once per size and seed under the benchmark folder:
orders of 1-5 lines from customers drawn uniformly, products from a Zipf-like law, and a
planted partner for each product (the next one) bought in the same order 30% of the time,
so rules exist to find. Writes bench/results/products.json.

    python -m bench.products                    # the full run (minutes; once)
    python -m bench.products --rows 200k --customers 20k --products 2k --small-rows 50k
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import _env, peak_mb, reset_peak
from bench.summary import machine
from bench.workspaces import default_root

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
MIN_SUPPORT = 0.0005  # of baskets: the rules mined at scale
SMALL_MIN_SUPPORT = 0.002
MIN_CONFIDENCE = 0.05
TARGET_SECONDS, TARGET_MB, TARGET_RATIO = 30.0, 4096.0, 2.0


def number(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * scale)


# -- the data ------------------------------------------------------------------------------------


def write_transactions(path: Path, rows: int, customers: int, products: int, seed: int) -> None:
    """Synthetic transactions (see the module docstring), written to Parquet."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 6, size=rows)  # lines per order, mean 3 (more orders than needed)
    order = np.repeat(np.arange(rows), sizes)[:rows]
    orders = int(order[-1]) + 1
    weights = 1.0 / (np.arange(products) + 10.0)
    product = rng.choice(products, size=rows, p=weights / weights.sum())
    # The line after an order's first is the first's partner 30% of the time.
    first = np.r_[True, order[1:] != order[:-1]]
    second = np.r_[False, first[:-1]] & ~first
    partner = second & (rng.random(rows) < 0.3)
    product[partner] = (product[np.flatnonzero(partner) - 1] + 1) % products
    customer = rng.integers(0, customers, size=orders)[order]
    day = rng.integers(0, 730, size=orders)[order]
    frame = pl.DataFrame({
        "customer_id": pl.Series(customer).cast(pl.String).str.zfill(7),
        "order_id": pl.Series(order).cast(pl.String),
        "day": pl.Series(day, dtype=pl.Int32),
        "amount": pl.Series(rng.gamma(2.0, 20.0, size=rows).round(2) + 0.01),
        "product_id": pl.Series(product).cast(pl.String).str.zfill(6),
    }).select(("C" + pl.col("customer_id")).alias("customer_id"), "order_id",
              (pl.lit(dt.date(2024, 1, 1)) + pl.duration(days=pl.col("day"))).cast(pl.Date).alias("order_date"),
              "amount", ("P" + pl.col("product_id")).alias("product_id"))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    frame.write_parquet(partial)
    partial.rename(path)


def ensure_transactions(rows: int, customers: int, products: int, seed: int) -> Path:
    path = default_root() / "products" / f"tx-{rows}-{customers}-{products}-{seed}.parquet"
    if not path.exists():  # in a child, so this process's peak memory stays small
        args = json.dumps([str(path), rows, customers, products, seed])
        subprocess.run([sys.executable, "-c", f"import json, pathlib; from bench.products import "
                        f"write_transactions as w; a = json.loads({args!r}); w(pathlib.Path(a[0]), *a[1:])"],
                       cwd=ROOT, env=_env(), check=True)
    return path


# -- the stages (run in a child: python -m bench.products --child STAGE PATH OUT) ----------------------


def stage_work(stage: str, path: Path, out: Path, support: float):
    """The work to time for a stage; returns a detail dict."""
    import polars as pl

    if stage == "loyalist-rules":
        from core.products.data import read_purchases
        from core.products.rules import mine_rules

        def work() -> dict:
            result = mine_rules(read_purchases(pl.scan_parquet(path)), min_support=support,
                                min_confidence=MIN_CONFIDENCE, min_lift=0.0, top=0)
            rules = result.tables["rules"]
            rules.select("antecedent", "consequent", "support", "confidence", "lift").write_parquet(out)
            return {"rules": rules.height, "baskets": result.headline["basket_count"]}
        return work
    if stage == "loyalist-item-item":
        from core.products.data import read_purchases
        from core.products.recommend import recommend_for

        def work() -> dict:
            result = recommend_for(read_purchases(pl.scan_parquet(path)), method="item_item", n=10)
            picks = result.tables["recommendations"]
            return {"recommendations": picks.height, "customers": picks["customer_id"].n_unique()}
        return work
    if stage == "mlxtend-rules":
        import pandas as pd
        from mlxtend.frequent_patterns import association_rules, fpgrowth
        from mlxtend.preprocessing import TransactionEncoder

        def work() -> dict:
            # Loyalist's baskets: an order's distinct products, positive amounts only.
            baskets = (pl.scan_parquet(path).filter(pl.col("amount") > 0)
                       .group_by("customer_id", "order_id").agg(pl.col("product_id").unique())
                       .collect()["product_id"].to_list())
            encoder = TransactionEncoder()
            onehot = pd.DataFrame(encoder.fit(baskets).transform(baskets), columns=encoder.columns_)
            itemsets = fpgrowth(onehot, min_support=support, use_colnames=True, max_len=2)
            rules = association_rules(itemsets, metric="confidence", min_threshold=MIN_CONFIDENCE)
            table = pl.DataFrame({
                "antecedent": [" + ".join(sorted(a)) for a in rules["antecedents"]],
                "consequent": [" + ".join(sorted(c)) for c in rules["consequents"]],
                "support": rules["support"].to_numpy(), "confidence": rules["confidence"].to_numpy(),
                "lift": rules["lift"].to_numpy()})
            table.write_parquet(out)
            return {"rules": table.height, "baskets": len(baskets)}
        return work
    raise SystemExit(f"unknown stage {stage}")


def child_main(stage: str, path: str, out: str, support: str) -> None:
    work = stage_work(stage, Path(path), Path(out), float(support))
    reset = reset_peak()
    start, cpu = time.perf_counter(), time.process_time()
    detail = work()
    seconds = time.perf_counter() - start
    # CPU seconds (all threads) beside the wall time: on a shared machine the wall time
    # grows with the others' load, the CPU time much less.
    print(json.dumps({"stage": stage, "seconds": seconds, "cpu_seconds": time.process_time() - cpu,
                      "peak_mb": peak_mb(reset), "detail": detail}))


def run_stage(stage: str, path: Path, out: Path, support: float) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.products", "--child", stage, str(path), str(out),
                           str(support)],
                          cwd=ROOT, env=_env(), capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"stage": stage, "ok": False, "error": f"exit {done.returncode}: {tail[:300]}"}
    return {"ok": True, **json.loads(lines[-1])}


def same_rules(ours: Path, theirs: Path) -> str:
    """'' when both rule lists are the same rules with the same measures (1e-9), else why not."""
    import polars as pl

    a, b = pl.read_parquet(ours), pl.read_parquet(theirs)
    if a.height != b.height:
        return f"Loyalist found {a.height} rules, mlxtend {b.height}"
    joined = a.join(b, on=["antecedent", "consequent"], how="inner", suffix="_peer")
    if joined.height != a.height:
        return f"{a.height - joined.height} rules differ"
    worst = max(float((joined[m] - joined[f"{m}_peer"]).abs().max() or 0.0) for m in ("support", "confidence", "lift"))
    return "" if worst <= 1e-9 else f"measures differ by up to {worst:.2e}"


# -- the run ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.products", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="10m")
    parser.add_argument("--customers", default="750k")
    parser.add_argument("--products", default="20k")
    parser.add_argument("--small-rows", default="300k", help="transactions of the mlxtend comparison")
    parser.add_argument("--small-products", default="2k")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each side of the mlxtend comparison")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=str(BENCH / "results" / "products.json"))
    parser.add_argument("--child", nargs=4, metavar=("STAGE", "PATH", "OUT", "SUPPORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(*args.child)
        return
    rows, customers, products = number(args.rows), number(args.customers), number(args.products)
    small_rows, small_products = number(args.small_rows), number(args.small_products)
    report: dict = {"machine": machine(), "targets": {"seconds": TARGET_SECONDS, "peak_mb": TARGET_MB,
                                                     "ratio_to_mlxtend": TARGET_RATIO}}
    with tempfile.TemporaryDirectory() as tmp:
        big = ensure_transactions(rows, customers, products, args.seed)
        scale = {"rows": rows, "customers": customers, "products": products, "min_support": MIN_SUPPORT}
        for stage in ("loyalist-rules", "loyalist-item-item"):
            found = run_stage(stage, big, Path(tmp) / f"{stage}-big.parquet", MIN_SUPPORT)
            found["within_targets"] = bool(found["ok"] and found["seconds"] <= TARGET_SECONDS
                                           and found["peak_mb"] <= TARGET_MB)
            scale[stage] = found
            print(f"{stage:20s} {rows:,} rows: " + (f"{found['seconds']:.1f} s ({found['cpu_seconds']:.1f} s CPU), "
                                                    f"{found['peak_mb']:,.0f} MB" if found["ok"] else found["error"]),
                  flush=True)
        report["scale"] = scale

        small = ensure_transactions(small_rows, max(small_rows // 13, 10), small_products, args.seed)
        side = {"rows": small_rows, "products": small_products, "min_support": SMALL_MIN_SUPPORT}
        times: dict[str, list[float]] = {"loyalist-rules": [], "mlxtend-rules": []}
        peaks: dict[str, float] = {}
        problem = ""
        for _ in range(args.repeats):  # alternately, so both see the same machine load
            for stage in times:
                found = run_stage(stage, small, Path(tmp) / f"{stage}.parquet", SMALL_MIN_SUPPORT)
                if not found["ok"]:
                    problem = f"{stage}: {found['error']}"
                    break
                times[stage].append(found["seconds"])
                peaks[stage] = max(peaks.get(stage, 0.0), found["peak_mb"])
                side[f"{stage}_rules"] = found["detail"]["rules"]
            if problem:
                break
        if not problem:
            problem = same_rules(Path(tmp) / "loyalist-rules.parquet", Path(tmp) / "mlxtend-rules.parquet")
        if problem:
            side["error"] = problem
        else:
            ours, theirs = sorted(times["loyalist-rules"])[len(times["loyalist-rules"]) // 2], \
                sorted(times["mlxtend-rules"])[len(times["mlxtend-rules"]) // 2]
            side.update({"loyalist_seconds": ours, "mlxtend_seconds": theirs, "ratio": ours / theirs,
                         "loyalist_peak_mb": peaks["loyalist-rules"], "mlxtend_peak_mb": peaks["mlxtend-rules"],
                         "within_target": ours / theirs <= TARGET_RATIO, "same_rules": True})
        report["mlxtend"] = side
        said = (f"Loyalist {side['loyalist_seconds']:.2f} s, mlxtend {side['mlxtend_seconds']:.2f} s (ratio "
                f"{side['ratio']:.2f}), the same {side['loyalist-rules_rules']:,} rules") if "ratio" in side \
            else side["error"]
        print(f"beside mlxtend: {said}", flush=True)
    report["load_average_end"] = list(os.getloadavg())  # machine() has it at the start
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
