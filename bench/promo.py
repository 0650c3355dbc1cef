"""`python -m bench.promo [--rows 10000000]`: `report promotions` beside a bare Polars + statsmodels peer.

A synthetic transactions Parquet (rows lines over three years: a growing customer base, monthly
seasonality, a weekend lift, six tagged promotions with a known lift) is written once to --out.
Then, alternately (A B A B, so both see the same machine load), in fresh processes: Loyalist's
core.pricing.promotions.promotions on the scanned file, and a peer that reduces the lines to
daily sales, orders, units and new customers with Polars, fits statsmodels' GLM Poisson with
Newey-West errors on the same seasonal design (patsy B-splines, weekday, month, holiday dummies)
per metric, predicts each promotion's window, and computes the discount depth with a Polars
join. Both sales lifts must agree to 1e-6 (relative) before a time counts. Wall time and peak
memory (each child's own) go to bench/results/promo.json. Check it at a small size
(--rows 200000) before the 10M run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
START, DAYS, PRODUCTS = "2023-01-01", 3 * 365, 500
PROMOS = (("P1", "2023-04-05", 7), ("P2", "2023-09-13", 10), ("P3", "2024-03-06", 7),
          ("P4", "2024-07-10", 7), ("P5", "2025-05-14", 7), ("P6", "2025-10-15", 10))
LIFT, DISCOUNT = 0.4, 0.2


def make_data(rows: int, path: Path, seed: int = 1) -> None:
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    dates = np.datetime64(START) + np.arange(DAYS)
    month = dates.astype("datetime64[M]").astype(int) % 12
    weekday = (dates.astype(int) + 3) % 7
    season = np.array([0.85, 0.8, 0.9, 0.95, 1.0, 0.95, 0.9, 0.9, 0.95, 1.0, 1.35, 1.45])[month]
    weight = (0.3 + np.arange(DAYS) / DAYS) * season * np.where(weekday >= 5, 1.2, 1.0)
    promo = np.full(DAYS, "", dtype=object)
    for name, first, days in PROMOS:
        at = (dates - np.datetime64(first)).astype(int)
        inside = (at >= 0) & (at < days)
        weight = np.where(inside, weight * (1 + LIFT), weight)
        promo[inside] = name
    day = rng.choice(DAYS, size=rows, p=weight / weight.sum())
    product = rng.integers(0, PRODUCTS, rows)
    price = 5.0 + (product % 50)
    quantity = 1 + rng.poisson(0.3, rows)
    tagged = (promo[day] != "") & (rng.random(rows) < LIFT / (1 + LIFT))
    pl.DataFrame({
        "order_id": np.char.add("O", (np.arange(rows) // 2).astype(str)),
        "customer_id": np.char.add("C", rng.integers(0, max(rows // 20, 1), rows).astype(str)),
        "order_date": dates[day],
        "amount": np.round(price * quantity * np.where(tagged, 1 - DISCOUNT, 1.0), 2),
        "quantity": quantity.astype(np.float64),
        "product_id": np.char.add("P", product.astype(str)),
        "promo_id": pl.Series(np.where(tagged, promo[day], None).tolist(), dtype=pl.String),
    }).write_parquet(path)


def loyalist(path: Path) -> dict[str, float]:
    import polars as pl

    from core.pricing.promotions import promotions

    table = promotions(pl.scan_parquet(path)).tables["promotions"]
    return dict(zip(table["promo_id"].to_list(), table["sales_lift"].to_list()))


def peer(path: Path) -> dict[str, float]:
    """The same seasonal baseline by hand: Polars daily totals, statsmodels GLM per metric."""
    import datetime as dt

    import numpy as np
    import polars as pl
    import statsmodels.api as sm
    from patsy import bs

    from core.forecast.holidays import calendar, holiday_days

    lines = pl.scan_parquet(path).filter(pl.col("amount") > 0)
    daily, first, windows = pl.collect_all([
        lines.group_by("order_date").agg(pl.col("amount").sum().alias("sales"),
                                         pl.col("order_id").n_unique().alias("orders"),
                                         pl.col("quantity").sum().alias("units")),
        lines.group_by("customer_id").agg(pl.col("order_date").min()).group_by("order_date").len("new_customers"),
        lines.filter(pl.col("promo_id").is_not_null()).group_by("promo_id")
        .agg(pl.col("order_date").min().alias("start"), pl.col("order_date").max().alias("end")).sort("start")])
    lo, hi = daily["order_date"].min(), daily["order_date"].max()
    series = (pl.DataFrame({"order_date": pl.date_range(lo, hi, "1d", eager=True)})
              .join(daily, on="order_date", how="left").join(first, on="order_date", how="left").fill_null(0))
    dates = series["order_date"].to_numpy().astype("datetime64[D]")
    festive = holiday_days(calendar("both"), lo, hi)
    t = (dates - dates[0]).astype(float)
    inner = np.linspace(0, t[-1], round(t[-1] / 182) + 1)
    frame = series.select(pl.col("order_date").dt.weekday().alias("wd"), pl.col("order_date").dt.month().alias("m"))
    x = np.column_stack([np.asarray(bs(t, knots=inner[1:-1], degree=3, include_intercept=True, lower_bound=0,
                                       upper_bound=t[-1]))]
                        + [(frame["wd"] == k).to_numpy().astype(float) for k in range(2, 8)]
                        + [(frame["m"] == k).to_numpy().astype(float) for k in range(2, 13)]
                        + [np.isin(dates, g["date"].to_numpy().astype("datetime64[D]")).astype(float)
                           for _, g in festive.group_by("holiday", maintain_order=True)])
    quiet = np.ones(len(dates), bool)
    masks = {}
    for name, start, end in windows.iter_rows():
        own = (dates >= np.datetime64(start)) & (dates <= np.datetime64(end))
        quiet &= ~own & ~((dates > np.datetime64(end)) & (dates <= np.datetime64(end + dt.timedelta(days=14))))
        masks[name] = own
    x = x[:, x[quiet].any(axis=0)]
    lifts = {}
    for metric in ("sales", "orders", "units", "new_customers"):
        y = series[metric].to_numpy().astype(float)
        fit = sm.GLM(y[quiet], x[quiet], family=sm.families.Poisson()).fit(
            cov_type="HAC", cov_kwds={"maxlags": 14}, tol=1e-13)
        for name, own in masks.items():
            mu = fit.predict(x[own])
            grad = mu @ x[own]
            _ = grad @ fit.cov_params() @ grad  # the interval's parameter part, as Loyalist computes it
            if metric == "sales":
                lifts[name] = float(y[own].sum() - mu.sum())
    regular = (pl.scan_parquet(path).filter((pl.col("amount") > 0) & pl.col("promo_id").is_null())
               .join_where(windows.lazy().with_columns((pl.col("start") - pl.duration(weeks=8)).alias("from")),
                           pl.col("order_date") < pl.col("start"), pl.col("order_date") >= pl.col("from"))
               .group_by("promo_id", "product_id").agg((pl.col("amount").sum() / pl.col("quantity").sum()).alias("p")))
    (lines.filter(pl.col("promo_id").is_not_null()).join(regular, on=["promo_id", "product_id"])
     .group_by("promo_id").agg(1 - pl.col("amount").sum() / (pl.col("quantity") * pl.col("p")).sum()).collect())
    return lifts


def _child(side: str, path: Path, result: Path) -> None:
    result.write_text(json.dumps((loyalist if side == "loyalist" else peer)(path)))


def _run(side: str, path: Path, result: Path) -> tuple[float, float, dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bench.promo", "--child", side, "--data", str(path),
                             "--result", str(result)], cwd=ROOT, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{side} failed with status {status}")
    return wall, usage.ru_maxrss / 1024, json.loads(result.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("/tmp/loyalist-bench-promo"))
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "promo.json")
    parser.add_argument("--child", choices=("loyalist", "peer"))
    parser.add_argument("--make", type=int, help="(internal) write the synthetic data of this many rows")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--result", type=Path)
    args = parser.parse_args()
    if args.child:
        return _child(args.child, args.data, args.result)
    if args.make:
        return make_data(args.make, args.data)
    args.out.mkdir(parents=True, exist_ok=True)
    data = args.out / f"promo_{args.rows}.parquet"
    if not data.exists():  # in a child: a child's peak memory starts from its parent's resident size
        subprocess.run([sys.executable, "-m", "bench.promo", "--make", str(args.rows), "--data", str(data)],
                       cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    from bench.summary import machine

    setting = machine()  # cores, load average and time at the start: bench.sections warns when busy
    times: dict[str, list[float]] = {"loyalist": [], "peer": []}
    memory: dict[str, float] = {"loyalist": 0.0, "peer": 0.0}
    lifts = {}
    for _ in range(args.repeat):
        for side in ("loyalist", "peer"):
            wall, peak, lifts[side] = _run(side, data, args.out / f"{side}.json")
            times[side].append(wall)
            memory[side] = max(memory[side], peak)
    worst = max(abs(lifts["loyalist"][p] - lifts["peer"][p]) / max(abs(lifts["peer"][p]), 1.0) for p in lifts["peer"])
    if worst > 1e-6:
        raise SystemExit(f"Loyalist and the peer disagree on a sales lift by {worst:.2e} (relative)")
    report = {
        "rows": args.rows, "repeat": args.repeat, "machine": setting,
        "load_average_at_start": round(setting["load_average"][0], 2), "cpu_count": setting["cores"],
        "loyalist_seconds": statistics.median(times["loyalist"]), "peer_seconds": statistics.median(times["peer"]),
        "loyalist_peak_mb": round(memory["loyalist"], 1), "peer_peak_mb": round(memory["peer"], 1),
        "ratio": statistics.median(times["loyalist"]) / statistics.median(times["peer"]),
        "max_relative_lift_difference": worst, "times": times,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "times"}, indent=2))


if __name__ == "__main__":
    main()
