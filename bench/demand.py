"""`python -m bench.demand`: `predict demand` beside a bare statsmodels script, in one run.

The brief's case: a 52-week revenue forecast for 200 categories from --rows transactions
(default 10 million) over three years, with the rolling-origin backtest (4 origins, so 5
fits a category). Loyalist runs `core.forecast.demand.demand_forecast` on a Parquet file;
the peer is a bare script doing the same work: one Polars aggregation to weekly sums per
category, then statsmodels' ARIMA of the same specification (AR(1) errors after a 52-week
seasonal difference, holiday weeks as regressors, feasible GLS; with --errors auto also MA(1)
and ARMA(1,1), the lowest AIC kept and refitted at the origins) fitted per category at the
same origins (a series with empty weeks on the raw scale, as Loyalist does). Each runs in
a fresh process, alternately (Loyalist, peer, Loyalist, peer); medians of wall and CPU
seconds (the machine may be shared: CPU seconds are the comparable figure then), peak
memory, the load average at the start and the relative difference of the two forecasts'
totals are recorded. Loyalist fits with the same statsmodels estimator but forecasts in
closed form (core/forecast/model.py); the peer builds and filters ARIMA's state-space model.
Loyalist's weekly interval widths also include its in-sample h-step errors (empirical widths);
only the point forecasts' totals are compared.

Writes bench/results/demand.json. Check it at a small size first (--rows 200000).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
END = "2025-12-31"
DAYS = 3 * 365 + 1
CATEGORIES = 200
HORIZON = 52
ORIGINS = 4
# --errors auto: Loyalist's weekly error candidates (statsmodels' estimator for each); the lowest AIC kept
CANDIDATES = {"ar": (((1, 0, 0), "burg"),),
              "auto": (((1, 0, 0), "burg"), ((0, 0, 1), "innovations_mle"), ((1, 0, 1), "innovations_mle"))}


def make_transactions(path: Path, rows: int, seed: int = 0) -> None:
    """Three years of orders in 200 categories with a weekly and yearly pattern and growth."""
    import datetime as dt

    import polars as pl

    rng = np.random.default_rng(seed)
    start = dt.date.fromisoformat(END) - dt.timedelta(days=DAYS - 1)
    day = np.arange(DAYS)
    weight = (1.0 + 0.3 * np.sin(2 * np.pi * day / 365.25)) * np.where(day % 7 >= 5, 1.2, 1.0) * (1 + day / 2000)
    days = rng.choice(DAYS, size=rows, p=weight / weight.sum())
    share = rng.dirichlet(np.full(CATEGORIES, 2.0))
    cats = rng.choice(CATEGORIES, size=rows, p=share)
    frame = pl.DataFrame({
        "customer_id": pl.Series(rng.integers(0, max(rows // 20, 1), size=rows)).cast(pl.String),
        "order_date": pl.Series(np.datetime64(start, "D") + days.astype("timedelta64[D]")),
        "amount": rng.gamma(2.0, 25.0, size=rows).round(2),
        "category": pl.Series([f"cat{c:03d}" for c in range(CATEGORIES)]).gather(cats),
    })
    frame.write_parquet(path)


def loyalist(path: Path, errors: str = "ar") -> dict:
    import polars as pl

    from core.forecast.demand import demand_forecast

    result = demand_forecast(pl.scan_parquet(path), measure="revenue", freq="week", by="category",
                             horizon=HORIZON, backtest_origins=ORIGINS, top=0, errors=errors)
    return {"groups": result.headline["groups"], "total": result.headline["forecast_total"]}


def peer(path: Path, errors: str = "ar") -> dict:
    """The bare script: Polars to weekly sums, statsmodels' ARIMA per category."""
    import datetime as dt
    import warnings

    import pandas as pd
    import polars as pl
    from statsmodels.tsa.arima.model import ARIMA

    from core.forecast.holidays import calendar, holiday_days

    end = dt.date.fromisoformat(END)
    weekly = (pl.scan_parquet(path).filter(pl.col("amount") > 0)
              .with_columns(((pl.lit(end) - pl.col("order_date")).dt.total_days() // 7).alias("back"))
              .group_by("category", "back").agg(pl.col("amount").sum()).collect())
    n = int(weekly["back"].max())  # the oldest, partial week is left out
    weeks = [end - dt.timedelta(days=7 * k + 6) for k in range(n - 1, -1, -1)]
    future = [end + dt.timedelta(days=1 + 7 * k) for k in range(HORIZON)]
    spans = weeks + future
    hol = holiday_days(calendar(), spans[0], spans[-1] + dt.timedelta(days=6))
    names = sorted(set(hol["holiday"]))
    length = {h.name: h.days for h in calendar()}
    X = np.zeros((len(spans), len(names)))
    for name, day in hol.iter_rows():
        i = (day - spans[0]).days // 7
        X[i, names.index(name)] += 1.0 / length[name]
    total = 0.0
    for (cat,), part in weekly.filter(pl.col("back") < n).group_by("category"):
        y = np.zeros(n)
        y[n - 1 - part["back"].to_numpy()] = part["amount"].to_numpy()
        log = not np.any(y == 0)  # Loyalist's rule: a series with empty weeks stays on the raw scale
        z = np.log1p(y) if log else y

        def fit(upto: int, candidates):
            Xt = X[:upto]
            keep = [j for j in range(X.shape[1]) if np.any(np.abs(Xt[52:, j] - Xt[:-52, j]) > 1e-12)]
            exog = pd.DataFrame(Xt[:, keep], columns=[names[j] for j in keep])
            fits = []
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for order, method in candidates:
                    fits.append(ARIMA(z[:upto], exog=exog, order=order, seasonal_order=(0, 1, 0, 52)).fit(
                        method=method, gls=True, cov_type="none"))
            return min(fits, key=lambda r: r.aic), keep

        res, keep = fit(n, CANDIDATES[errors])
        chosen = next(c for c in CANDIDATES[errors] if c[0] == tuple(res.model.order))  # refits keep it
        ahead = pd.DataFrame(X[n:n + HORIZON][:, keep], columns=[names[j] for j in keep])
        mean = np.asarray(res.get_forecast(HORIZON, exog=ahead).predicted_mean)
        total += float(np.maximum(np.expm1(mean) if log else mean, 0.0).sum())
        step = -(-HORIZON // ORIGINS)
        for origin in (n - k * step for k in range(ORIGINS, 0, -1)):
            if origin >= 104:
                r, cols = fit(origin, (chosen,))
                steps = min(HORIZON, n - origin)
                r.get_forecast(steps, exog=pd.DataFrame(X[origin:origin + steps][:, cols],
                                                        columns=[names[j] for j in cols]))
    return {"groups": weekly["category"].n_unique(), "total": round(total, 2)}


def peak_mb() -> float:
    """This process's peak resident memory. ru_maxrss survives exec, so a child started by
    a parent that built 10M rows would report the parent's peak; VmHWM is this image's own."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(which: str, path: Path, errors: str) -> None:
    start = time.perf_counter()
    out = (loyalist if which == "loyalist" else peer)(path, errors)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out |= {"seconds": time.perf_counter() - start, "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "peak_mb": peak_mb()}
    print(json.dumps(out))


def run(which: str, path: Path, errors: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "bench.demand", "--errors", errors, "--child", which, str(path)],
                          cwd=ROOT,
                          capture_output=True, text=True, check=False)
    if proc.returncode:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.demand", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="alternating runs of each (median kept)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/loyalist-bench"))
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "demand.json")
    parser.add_argument("--errors", choices=("ar", "auto"), default="ar",
                        help="predict demand's --errors (auto: MA(1)/ARMA(1,1) candidates, much slower)")
    parser.add_argument("--child", nargs=2, metavar=("WHICH", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], Path(args.child[1]), args.errors)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"demand-{args.rows}.parquet"
    if not path.exists():
        make_transactions(path, args.rows)
    load = os.getloadavg()[0]
    runs: dict[str, list[dict]] = {"loyalist": [], "peer": []}
    for _ in range(args.repeat):
        for which in runs:
            runs[which].append(run(which, path, args.errors))
    summary = {}
    for which, got in runs.items():
        ok = [r for r in got if "error" not in r]
        summary[which] = ({"seconds": statistics.median(r["seconds"] for r in ok),
                           "cpu_seconds": statistics.median(r["cpu_seconds"] for r in ok),
                           "peak_mb": max(r["peak_mb"] for r in ok), "groups": ok[0]["groups"],
                           "forecast_total": ok[0]["total"]} if ok else {"error": got[0]["error"]})
    lo, pe = summary["loyalist"], summary["peer"]
    out = {"case": f"52-week revenue forecast for {CATEGORIES} categories with a {ORIGINS}-origin backtest",
           "rows": args.rows, "errors": args.errors, "load_average_at_start": round(load, 2), "cpu_count": os.cpu_count(),
           "loyalist": lo, "peer": pe,
           "ratio": lo["seconds"] / pe["seconds"] if "seconds" in lo and "seconds" in pe else None,
           "budget_seconds": 60, "within_budget": lo.get("seconds", float("inf")) < 60,
           # the peer starts every category at the first full week (Loyalist: at its first sale)
           "forecast_total_relative_difference": (
               abs(lo["forecast_total"] - pe["forecast_total"]) / pe["forecast_total"]
               if "forecast_total" in lo and "forecast_total" in pe else None)}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
