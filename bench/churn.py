"""`python -m bench.churn`: predict churn's three feature snapshots, read once against three times.

Each contestant is a fresh process on the same Parquet workspace; CPU seconds (user + system)
and peak resident MB are recorded, alternating `--repeat` times:

- `floor`: the bare-Polars RFM script (bench/peers.py), one group_by per customer;
- `three reads`: customer_features at the training, test and scoring dates, collected one
  after the other (what predict churn did before, labels aside);
- `one read`: core.features.customer_features_at for the three dates and both label windows
  (what predict churn does now); the same tables, checked in tests/core/test_predict_churn.py;
- `predict churn`: the whole command (snapshots, CLV for value at risk, model choice and refit
  on at most MAX_TRAIN_ROWS training customers, test and scoring), writing `--output`.

`--stages` instead runs predict churn once per size in a fresh process and records the CPU and
wall seconds of each stage (imports, the CLV for value at risk, the feature read, the model
choice and refit, the test predictions, the scored list) and the peak, into
bench/results/churn_stages.json: where the time goes. The CLV runs on a thread beside the model
choice and the test predictions beside the scored list, so those stages' wall seconds overlap
(their sum can exceed the command's, leaving 'the rest' short or below zero); CPU seconds are the
process's, so overlapping stages each count the other's CPU too.

`--learning-curve` instead fits the model choice on stratified samples of 10k-200k training
customers (three seeds each) and on all of them, and writes each one's validation and test AUC
and Brier on the same whole test snapshot to bench/results/churn_learning.json: the evidence
for MAX_TRAIN_ROWS.

Writes bench/results/churn.json; ratios are CPU against the floor's CPU.

  python -m bench.churn --sizes 1m
  python -m bench.churn --learning-curve --sizes 1m,10m
  python -m bench.churn --stages --sizes 1m
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.heavy import write_run
from bench.sidebyside import CLI, timed
from bench.workspaces import default_root, ensure_parquet, parse_size, workspace_info

BENCH = Path(__file__).resolve().parent
HORIZON_DAYS = 90


def _stage(mode: str, folder: str) -> None:
    """Run inside a child process: the feature snapshots of predict churn's default dates."""
    import polars as pl

    from core.features import customer_features, customer_features_at
    from core.predict.churn import churn_dates
    from core.workspace import Workspace

    ws = Workspace.open(folder)
    tx = ws.scan("transactions")
    tables = {t: ws.scan_if(t) for t in ("customers", "touchpoints", "survey")}
    dates = churn_dates(tx.select(pl.col("order_date").max()).collect().item(), HORIZON_DAYS)
    days = [dates.train_as_of, dates.test_as_of, dates.as_of]
    if mode == "three":
        for day in days:
            customer_features(tx, as_of=day, **tables).collect()
    else:
        customer_features_at(tx, days, **tables, purchase_windows=[
            (dates.train_as_of, dates.train_label_end), (dates.test_as_of, dates.test_label_end)])


# predict churn's stages, each a function timed where it is looked up (module, name)
STAGES = (("core.predict.clv", "customer_clv", "CLV for value at risk (BG/NBD, Gamma-Gamma; summary from the feature read)"),
          ("core.predict.churn", "one_pass_snapshots", "feature read: three snapshots, both label windows, the CLV summary"),
          ("core.predict.churn", "fit_model", "model choice on held-out training customers (and the refit after a validation quarter)"),
          ("core.predict.churn", "tested", "test predictions and metrics"),
          ("core.predict.churn", "_at_risk_list", "scoring every customer and the listed ones' risk factors"))
# parts of the CLV stage, timed inside it (rows with "within", left out of the sums)
CLV_PARTS = (("core.predict.clv", "btyd_summary", "CLV: the per-customer summary (from the feature read's table)"),
             ("core.predict.bgnbd.BetaGeoModel", "fit", "CLV: BG/NBD fit (starts on 50k, polish, Hessian)"),
             ("core.predict.gammagamma.GammaGammaModel", "fit", "CLV: Gamma-Gamma fit"),
             ("core.predict.clv", "_discounted_purchases", "CLV: discounted expected purchases"))


def _stages(folder: str) -> None:
    """Run inside a child process: predict churn on the workspace with each stage timed; JSON on stdout."""
    import functools
    import importlib
    import json
    import resource

    wall, cpu = time.perf_counter(), time.process_time()
    # scikit-learn is not imported here: predict churn imports it on a thread beside its feature
    # read (core.predict.churn.import_beside); the CLV models are, to time their stages
    import core.predict.clv  # noqa: F401
    from core.predict import run
    from core.workspace import Workspace

    rows = [{"stage": "imports (core, scipy and the CLV models; sklearn loads beside the read)",
             "wall_seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu}]

    def timed_stage(function, label, within=None):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            w, c = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                rows.append({"stage": label, "wall_seconds": time.perf_counter() - w,
                             "cpu_seconds": time.process_time() - c, **({"within": within} if within else {})})
        return wrapper

    def owner(path):
        module, _, attr = path.rpartition(".")
        try:
            return importlib.import_module(path)
        except ModuleNotFoundError:
            return getattr(importlib.import_module(module), attr)

    for module, name, label in STAGES:
        target = importlib.import_module(module)
        setattr(target, name, timed_stage(getattr(target, name), label))
    for path, name, label in CLV_PARTS:
        target = owner(path)
        setattr(target, name, timed_stage(getattr(target, name), label, within=STAGES[0][2]))
    w, c = time.perf_counter(), time.process_time()
    result = run.churn(Workspace.open(folder))
    total_wall, total_cpu = time.perf_counter() - w, time.process_time() - c
    stages_run = [r for r in rows[1:] if "within" not in r]
    rows.append({"stage": "the rest (last date scans, matrices, result tables)", "wall_seconds": total_wall - sum(
        r["wall_seconds"] for r in stages_run), "cpu_seconds": total_cpu - sum(r["cpu_seconds"] for r in stages_run)})
    print(json.dumps({"stages": [{k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()} for r in rows],
                      "wall_seconds": round(time.perf_counter() - wall, 2),
                      "cpu_seconds": round(time.process_time() - cpu, 2),
                      "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                      "test_auc": result.headline["test_auc"], "test_brier": result.headline["test_brier"],
                      "model": result.headline["model"], "n_scored": result.headline["n_scored"]}))


def stages(sizes: list[str], root: Path, seed: int, log) -> list[dict]:
    import json
    import subprocess

    records = []
    for text in sizes:
        folder = ensure_parquet(root, parse_size(text), seed, log=log)
        out = subprocess.run([sys.executable, "-m", "bench.churn", "--stage", "stages", str(folder)],
                             capture_output=True, text=True, check=True)
        record = {"size": text, **workspace_info(folder), **json.loads(out.stdout.splitlines()[-1])}
        for row in record["stages"]:
            log(f"  {text} {row['stage']:<60} {row['cpu_seconds']:6.2f} s CPU {row['wall_seconds']:6.2f} s wall")
        log(f"  {text} total {record['cpu_seconds']} s CPU, {record['wall_seconds']} s wall, {record['peak_mb']} MB")
        records.append(record)
    return records


LEARNING_CAPS = (10_000, 25_000, 50_000, 100_000, 200_000)
LEARNING_SEEDS = (0, 1, 2)


def learning_curve(folder: Path, caps=LEARNING_CAPS, seeds=LEARNING_SEEDS, log=print) -> list[dict]:
    """predict churn's model choice and refit on stratified samples of the training customers
    (core.predict.churn.training_sample) of each size in `caps`, each seed in `seeds`, and on all
    of them: validation AUC of both models, the chosen one's test AUC and Brier on the same,
    whole test snapshot, and the CPU seconds of the fits and the test predictions."""
    import numpy as np
    import polars as pl
    import sklearn.ensemble  # noqa: F401  (its OpenMP runtime, for threadpool_limits)
    from threadpoolctl import threadpool_limits

    from core.predict import churn as ch
    from core.workspace import Workspace

    ws = Workspace.open(folder)
    tx = ws.scan("transactions")
    tables = {t: ws.scan_if(t) for t in ("customers", "touchpoints", "survey")}
    dates = ch.churn_dates(tx.select(pl.col("order_date").max()).collect().item(), HORIZON_DAYS)
    train, test, *_ = ch.one_pass_snapshots(tx, dates, **tables)
    names = ch.feature_columns(train)
    x_train, x_test = ch._matrix(train, names), ch._matrix(test, names)
    informative = ~np.isnan(x_train).all(axis=0)  # as churn_analysis: features with no value left out
    x_train, x_test = x_train[:, informative], x_test[:, informative]
    y_train, y_test = (f["churned"].to_numpy().astype(int) for f in (train, test))
    records = []
    for cap in [c for c in caps if c < len(y_train)] + [len(y_train)]:
        for seed in (seeds if cap < len(y_train) else seeds[:1]):
            rows = ch.training_sample(y_train, cap, seed)
            validation = ch.validation_set(x_train, y_train, rows, seed)  # as predict churn judges the choice
            started = time.process_time()
            with threadpool_limits(limits=1):
                models, chosen, estimator = ch.fit_model(x_train[rows], y_train[rows], "best", seed, validation)
                p_test = estimator.predict_proba(x_test)[:, 1]
            metrics = ch.classification_metrics(y_test, p_test, 0.5)
            record = {"fit_rows": len(rows), "train_customers": len(y_train),
                      "test_customers": len(y_test), "seed": seed, "chosen": chosen,
                      **{f"validation_auc_{m}": round(v, 5) for m, v in zip(models["model"], models["validation_auc"])},
                      "boosting_trees": int(getattr(estimator, "n_iter_", 0)) or None,
                      "test_auc": round(metrics["auc"], 5), "test_brier": round(metrics["brier"], 5),
                      "cpu_seconds": round(time.process_time() - started, 2)}
            log(f"  {cap:>8,} seed {seed}: {chosen:<8} validation {record['validation_auc_logistic']:.4f} / "
                f"{record['validation_auc_boosting']:.4f}  test AUC {record['test_auc']:.4f}  "
                f"Brier {record['test_brier']:.4f}  {record['cpu_seconds']:.1f} s CPU")
            records.append(record)
    return records


def run(sizes: list[str], repeat: int, root: Path, seed: int, log) -> list[dict]:
    records = []
    for text in sizes:
        folder = ensure_parquet(root, parse_size(text), seed, log=log)
        info = workspace_info(folder)
        out = Path(tempfile.mkdtemp(prefix="loyalist-churn-"))
        contestants = {
            "floor": [sys.executable, "-m", "bench.peers", "polars", str(folder), str(out / "floor.parquet")],
            "three reads": [sys.executable, "-m", "bench.churn", "--stage", "three", str(folder)],
            "one read": [sys.executable, "-m", "bench.churn", "--stage", "one", str(folder)],
            "predict churn": [*CLI, "predict", "churn", "-w", str(folder), "-o", str(out / "churn.parquet"),
                              "--force"],
        }
        measured = {name: [] for name in contestants}
        for _ in range(repeat):
            for name, command in contestants.items():
                measured[name].append(timed(command))
        floor_cpu = statistics.median(m["cpu_seconds"] for m in measured["floor"])
        for name, runs in measured.items():
            ok = all(m["ok"] for m in runs)
            cpu = statistics.median(m["cpu_seconds"] for m in runs)
            record = {"contestant": name, "size": text, "transactions": info["transactions"],
                      "customers": info["customers"], "ok": ok,
                      "error": next((m["error"] for m in runs if not m["ok"]), ""),
                      "cpu_seconds": round(cpu, 2), "cpu_runs": [round(m["cpu_seconds"], 2) for m in runs],
                      "peak_mb": round(max(m["peak_mb"] for m in runs)),
                      "cpu_ratio": round(cpu / floor_cpu, 2) if ok and floor_cpu else None}
            log(f"  {text} {name:<12} {cpu:6.2f} s CPU {record['peak_mb']:6d} MB  {record['cpu_ratio']}x")
            records.append(record)
    return records


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.churn", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m", help="comma-separated, e.g. 1m,10m")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=default_root())
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "churn.json")
    parser.add_argument("--learning-curve", action="store_true",
                        help="instead: test AUC of the models fitted on samples of each size against all "
                             "training customers; writes bench/results/churn_learning.json")
    parser.add_argument("--stages", action="store_true",
                        help="instead: CPU and wall seconds of each stage of predict churn in one fresh process; "
                             "writes bench/results/churn_stages.json")
    parser.add_argument("--stage", nargs=2, metavar=("MODE", "WORKSPACE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        if args.stage[0] == "stages":
            _stages(args.stage[1])
        else:
            _stage(*args.stage)
        return
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    started = time.perf_counter()
    if args.learning_curve:
        records = []
        for text in (s.strip() for s in args.sizes.split(",") if s.strip()):
            folder = ensure_parquet(args.out, parse_size(text), args.seed, log=log)
            log(f"{text}: learning curve")
            records += [{"size": text, **r} for r in learning_curve(folder, log=log)]
        write_run(args.json.with_name("churn_learning.json"), records, started, log)
        return
    if args.stages:
        records = stages([s.strip() for s in args.sizes.split(",") if s.strip()], args.out, args.seed, log)
        write_run(args.json.with_name("churn_stages.json"), records, started, log)
        return
    records = run([s.strip() for s in args.sizes.split(",") if s.strip()], args.repeat, args.out, args.seed, log)
    write_run(args.json, records, started, log)


if __name__ == "__main__":
    main()
