"""The newer benches' published sections, generated from their JSON (bench.publish calls this).

Each bench below writes bench/results/<name>.json in its own layout; its renderer turns that
into the text between `<!-- <name>:start -->` and `<!-- <name>:end -->` in README.md and
bench/RESULTS.md: what was measured (size, machine, date, load average at the start),
Loyalist's and the peer's wall seconds, CPU seconds and peak memory where the bench records
them, the ratio, whether the answers agreed, and the issue's target, met or not. A missing
JSON says "not measured yet", never an old figure; a run that started on a loaded machine
carries a warning that its wall times are distorted. Nothing here is typed by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
BUSY_PER_CORE = 1.5  # load average per core above which wall times are not comparable
NOT_RECORDED = "not recorded"


# -- formatting ---------------------------------------------------------------------------------


def seconds(value: float | None) -> str:
    if value is None:
        return NOT_RECORDED
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def megabytes(value: float | None) -> str:
    return NOT_RECORDED if value is None else f"{value:,.0f}"


def milliseconds(value: float | None) -> str:
    return NOT_RECORDED if value is None else f"{value:,.0f} ms"


def ratio(ours: float | None, theirs: float | None) -> str:
    """Loyalist's time over the peer's: 2.1 -> "2.1x"; 0.4 -> "0.40x (2.5x faster)"."""
    if not ours or not theirs:
        return "-"
    value = ours / theirs
    return f"{value:.1f}x" if value >= 1 else f"{value:.2f}x ({1 / value:.1f}x faster)"


def runs(repeat) -> str:
    return "one run each" if repeat == 1 else f"medians of {repeat} alternating runs"


def verdict(met: bool | None, why: str) -> str:
    word = {True: "**met**", False: "**not met**", None: "**not judged**"}[met]
    return f"{word} ({why})"


def measured(how: str, size: str, machine: dict | None, load: float | None = None,
             cores: int | None = None) -> list[str]:
    """The line saying what, where and when, and the warning when the machine was busy."""
    machine = machine or {}
    cores = cores or machine.get("cores")
    if load is None and machine.get("load_average"):
        load = machine["load_average"][0]
    where = f"{cores} cores" if cores else "cores not recorded"
    if machine.get("cpu"):
        where += f" ({machine['cpu']}, {machine.get('memory_gb', '?')} GB)"
    when = machine.get("time", "")[:10] or "date not recorded"
    started = f"load average {load:.2f} at the start" if load is not None else "load average not recorded"
    lines = [f"Measured by `{how}`: {size}; {where}, {when}, {started}."]
    if load is not None and cores and load > BUSY_PER_CORE * cores:
        lines += ["", f"**Warning: this run started on a busy machine (load average {load:.2f} on {cores} "
                      f"cores, above {BUSY_PER_CORE} per core): its wall times are distorted; CPU seconds, "
                      "where recorded, are the fairer figure. Re-run it on a quiet machine.**"]
    elif load is None:
        lines += ["", "**Warning: the load at the start was not recorded, so wall times may be distorted.**"]
    return lines


def side_by_side(ours: str, peer: str, a: dict, b: dict | None) -> list[str]:
    """The Loyalist / peer table: wall s, CPU s, peak MB and their ratios (no peer: one row)."""
    head = [
        "| | wall s | CPU s | peak MB |",
        "|---|---|---|---|",
        f"| Loyalist: {ours} | {seconds(a.get('wall'))} | {seconds(a.get('cpu'))} | {megabytes(a.get('mb'))} |",
    ]
    if b is None:
        return head + [f"| peer: {peer} | - | - | - |"]
    return head + [
        f"| peer: {peer} | {seconds(b.get('wall'))} | {seconds(b.get('cpu'))} | {megabytes(b.get('mb'))} |",
        f"| Loyalist / peer | {ratio(a.get('wall'), b.get('wall'))} | {ratio(a.get('cpu'), b.get('cpu'))} "
        f"| {ratio(a.get('mb'), b.get('mb'))} |",
    ]


# -- one renderer per bench: its JSON's own layout -> markdown ------------------------------------


def demand(data: dict) -> list[str]:
    lo, pe = data["loyalist"], data["peer"]
    rows = data["rows"]
    lines = measured("python -m bench.demand", f"{rows:,} transactions, {data['case']}", data.get("machine"),
                     data.get("load_average_at_start"), data.get("cpu_count"))
    if "error" in lo or "error" in pe:
        return lines + ["", "The run failed: " + "; ".join(
            f"{who}: {side['error']}" for who, side in (("Loyalist", lo), ("peer", pe)) if "error" in side) + "."]
    lines += ["", *side_by_side("`predict demand` (core.forecast)", "a bare statsmodels ARIMA script",
                                {"wall": lo["seconds"], "cpu": lo.get("cpu_seconds"), "mb": lo.get("peak_mb")},
                                {"wall": pe["seconds"], "cpu": pe.get("cpu_seconds"), "mb": pe.get("peak_mb")})]
    diff = data.get("forecast_total_relative_difference")
    agree = (f"the forecast totals differ by {diff:.1e} (relative)" if diff is not None
             else "the forecast totals were not compared")
    budget = data.get("budget_seconds", 60)
    at_size = rows >= 10_000_000 and lo.get("groups", 0) >= 200
    met = (lo["seconds"] < budget) if at_size else None
    lines += ["", f"Same answer: {agree}, over {lo.get('groups')} categories.",
              "", f"Target (issue 18): a 52-week forecast for 200 categories from 10M transactions in under "
              f"{budget} s: " + verdict(met, f"{seconds(lo['seconds'])} s wall" if at_size
                                       else f"measured at {rows:,} rows, not at the target's size") + "."]
    return lines


def pricing(data: dict) -> list[str]:
    rows = data["rows"]
    lines = measured("python -m bench.pricing", f"{rows:,} transactions (2,000 products, 20 categories, "
                     f"104 weeks), {runs(data.get('repeat', '?'))}",
                     data.get("machine"), data.get("load_average_at_start"))
    lines += ["", *side_by_side("`report pricing` (PPML)", "a bare Polars IRLS script",
                                {"wall": data["loyalist_seconds"], "cpu": data.get("loyalist_cpu_seconds"),
                                 "mb": data.get("loyalist_peak_mb")},
                                {"wall": data["peer_seconds"], "cpu": data.get("peer_cpu_seconds"),
                                 "mb": data.get("peer_peak_mb")})]
    target = data.get("target_seconds", 20.0)
    at_size = rows >= 10_000_000
    met = data["loyalist_seconds"] < target if at_size else None
    lines += ["", f"Same answer: the elasticities agree to {data['max_elasticity_difference']:.1e} "
                  "(the bench stops above 1e-6).",
              "", f"Target (issue 18): pricing on 10M transactions in under {target:g} s: "
              + verdict(met, f"{seconds(data['loyalist_seconds'])} s wall" if at_size
                        else f"measured at {rows:,} rows, not at the target's size") + "."]
    return lines


def promo(data: dict) -> list[str]:
    rows = data["rows"]
    lines = measured("python -m bench.promo", f"{rows:,} transactions, {runs(data.get('repeat', '?'))}",
                     data.get("machine"), data.get("load_average_at_start"), data.get("cpu_count"))
    lines += ["", *side_by_side("`report promotions` (seasonal baseline)", "a bare Polars + statsmodels GLM script",
                                {"wall": data["loyalist_seconds"], "cpu": data.get("loyalist_cpu_seconds"),
                                 "mb": data.get("loyalist_peak_mb")},
                                {"wall": data["peer_seconds"], "cpu": data.get("peer_cpu_seconds"),
                                 "mb": data.get("peer_peak_mb")})]
    lines += ["", f"Same answer: the sales lifts agree to {data['max_relative_lift_difference']:.1e} (relative)."]
    return lines


def products(data: dict) -> list[str]:
    scale, side, targets = data["scale"], data["mlxtend"], data["targets"]
    size = (f"{scale['rows']:,} transactions, {scale['customers']:,} customers, {scale['products']:,} products "
            f"(support {scale['min_support']:g}); beside mlxtend on {side['rows']:,} transactions, "
            f"{side['products']:,} products")
    lines = measured("python -m bench.products", size, data.get("machine"))
    at_size = scale["rows"] >= 10_000_000 and scale["customers"] >= 750_000 and scale["products"] >= 20_000
    limit = f"under {targets['seconds']:g} s and {targets['peak_mb'] / 1024:g} GB"
    lines += ["", "| stage (no peer at this size) | wall s | CPU s | peak MB | target |", "|---|---|---|---|---|"]
    for stage, label in (("loyalist-rules", "rules (pairs)"), ("loyalist-item-item", "item-item top 10, every customer")):
        run = scale[stage]
        if not run.get("ok"):
            lines.append(f"| {label} | failed: {run.get('error', '?')} | - | - | - |")
            continue
        ok = run["seconds"] <= targets["seconds"] and run["peak_mb"] <= targets["peak_mb"]
        lines.append(f"| {label} | {seconds(run['seconds'])} | {seconds(run.get('cpu_seconds'))} "
                     f"| {megabytes(run['peak_mb'])} | {verdict(ok if at_size else None, limit)} |")
    if "error" in side:
        lines += ["", f"Beside mlxtend: not comparable in this run ({side['error']})."]
        mlx = None
    else:
        lines += ["", *side_by_side("`products rules`", "mlxtend fpgrowth + association_rules",
                                    {"wall": side["loyalist_seconds"], "cpu": side.get("loyalist_cpu_seconds"),
                                     "mb": side["loyalist_peak_mb"]},
                                    {"wall": side["mlxtend_seconds"], "cpu": side.get("mlxtend_cpu_seconds"),
                                     "mb": side["mlxtend_peak_mb"]}),
                  "", f"Same answer: the same {side.get('loyalist-rules_rules', '?'):,} rules, support, confidence "
                      "and lift to 1e-9."]
        mlx = side["loyalist_seconds"] / side["mlxtend_seconds"] <= targets["ratio_to_mlxtend"]
    lines += ["", "Targets (issue 16): rules and item-item at 10M transactions, 750k customers, 20k products "
                  f"{limit} each: " + verdict(
                      (all(scale[s].get("ok") and scale[s]["seconds"] <= targets["seconds"]
                           and scale[s]["peak_mb"] <= targets["peak_mb"]
                           for s in ("loyalist-rules", "loyalist-item-item")) if at_size else None),
                      "both stages" if at_size else "measured below the target's size")
              + f"; within {targets['ratio_to_mlxtend']:g}x of mlxtend: "
              + verdict(mlx, ratio(side["loyalist_seconds"], side["mlxtend_seconds"]) if mlx is not None
                        else "no comparable run") + "."]
    return lines


def engines(data: dict) -> list[str]:
    meta, records = data["meta"], [r for r in data["comparisons"] if r["comparison"] == "engine"]
    sizes = sorted({(r["transactions"], r["customers"], r["size"]) for r in records})
    shown = "; ".join(f"{s} ({tx:,} transactions, {cu:,} customers)" for tx, cu, s in sizes) or "no sizes"
    lines = measured("python -m bench.engines", f"`segment rfm` from Parquet at {shown}, "
                     f"{runs(meta.get('repeat', '?'))}", meta)
    lines += ["", "| size | Loyalist | wall s | peak MB | peer | wall s | peak MB | Loyalist / peer | same answer |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        same = {True: "yes", False: "**no**", None: "-"}[r["same_answer"]]
        shown_ratio = ratio(r["loyalist_seconds"], r["peer_seconds"]) if r["ok"] else f"failed: {r['error']}"
        lines.append(f"| {r['size']} | `{r['loyalist']}` | {seconds(r['loyalist_seconds'])} "
                     f"| {megabytes(r['loyalist_peak_mb'])} | {r['peer']} | {seconds(r['peer_seconds'])} "
                     f"| {megabytes(r['peer_peak_mb'])} | {shown_ratio} | {same} |")
    lines += ["", "CPU seconds: not recorded by this bench (peak memory includes each process's children, "
                  "Spark's JVM too)."]

    def run(engine: str, least: int) -> dict | None:
        """The engine's agreeing run at (about: the generated workspaces vary) this many transactions."""
        return next((r for r in records if r["loyalist"] == f"loyalist --engine {engine}" and r["ok"]
                     and r["same_answer"] is not False and r["transactions"] >= 0.95 * least), None)

    for least, label in ((10_000_000, "10M"), (100_000_000, "100M")):
        duck, polars = run("duckdb", least), run("polars", least)
        if duck and polars and duck["size"] == polars["size"]:
            lines.append(f"DuckDB against Polars at {duck['size']}: "
                         f"{ratio(duck['loyalist_seconds'], polars['loyalist_seconds'])}.")
    wanted = [("DuckDB and Polars at 10M", ("duckdb", "polars"), 10_000_000),
              ("DuckDB and Polars at 100M", ("duckdb", "polars"), 100_000_000),
              ("Spark at 10M", ("spark",), 10_000_000)]
    said = [f"{what}: " + ("**measured**" if all(run(e, least) for e in names) else "**not measured**")
            for what, names, least in wanted]
    lines += ["", "Targets (issue 19; no time limit is set, only that each is measured, agreeing with Polars): "
              + "; ".join(said) + "."]
    return lines


def text(data: dict) -> list[str]:
    lines: list[str] = []
    for size, run in sorted(data["runs"].items(), key=lambda kv: int(kv[0])):
        if lines:
            lines.append("")
        lines += measured(f"python -m bench.text --size {size}", f"{run['comments']:,} comments "
                          f"({run['distinct']:,} distinct)", run.get("machine"))
        lines += ["", *side_by_side("`report comments` (start-up, sentiment, themes, topics)",
                                    "bare vaderSentiment/SnowNLP scores only" if run["peer_seconds"] is not None
                                    else "not run (`--no-peer`)",
                                    {"wall": run["loyalist_seconds"], "cpu": run.get("loyalist_cpu_seconds"),
                                     "mb": run.get("loyalist_peak_mb")},
                                    None if run["peer_seconds"] is None else
                                    {"wall": run["peer_seconds"], "cpu": run.get("peer_cpu_seconds"),
                                     "mb": run.get("peer_peak_mb")})]
        if run["peer_seconds"] is not None:
            lines += ["", "Same answer: not compared (the peer only scores; Loyalist also themes and "
                          "summarises)."]
        budget = run["budget"]
        met = run["loyalist_seconds"] <= budget["seconds"] if int(size) >= budget["comments"] else None
        lines += ["", f"Target (issue 17): {budget['comments']:,} comments in under {budget['seconds']:g} s: "
                  + verdict(met, f"{seconds(run['loyalist_seconds'])} s wall" if met is not None
                            else f"this run has {int(size):,} comments") + "."]
    return lines


def points(data: dict) -> list[str]:
    lines = measured("python -m bench.points", f"a demo workspace of {data['customers']:,} customers "
                     f"(seed {data['seed']}), both in one process", data.get("machine"))
    lines += ["", *side_by_side("`report points` through the registry", "a bare Polars ledger script",
                                {"wall": data["loyalist_seconds"], "cpu": data.get("loyalist_cpu_seconds"),
                                 "mb": None},
                                {"wall": data["peer_seconds"], "cpu": data.get("peer_cpu_seconds"), "mb": None}),
              "", "Peak memory: not recorded (both run in one process). Same answer: the outstanding "
                  "points are equal (the bench stops otherwise). Target: none set (issue 21)."]
    return lines


def tui_peer(data: dict) -> list[str]:
    records = data["records"]
    first = records[0]
    lines = measured("python -m bench.tui_peer", f"the transactions of a {first['transactions']:,}-row "
                     f"workspace, {first['runs']} alternating runs each in a fresh process, medians",
                     data.get("meta"))
    lines += ["", "Seconds from starting the app to the first frame drawn with the first "
                  f"{first['page']:,} transaction rows; the peer is a minimal Textual app showing "
                  "`scan().head(page)` in a DataTable.", "",
              "| file | Loyalist | peer | Loyalist / peer | target | checks' findings shown | longest UI stall "
              "| UI thread's own work (most CPU between two ticks) |",
              "|---|---|---|---|---|---|---|---|"]
    for r in records:
        app, peer, limit = r["app"], r["peer"], r["target_ratio"]
        lines.append(f"| {r['format']} | {seconds(app['seconds'])} s | {seconds(peer['seconds'])} s "
                     f"| {ratio(app['seconds'], peer['seconds'])} "
                     f"| {verdict(r['ratio'] <= limit, f'within {limit:g}x')} "
                     f"| {seconds(app.get('checks_seconds'))} s | {app['max_ui_stall_ms']:,.0f} ms "
                     f"| {milliseconds(app.get('max_ui_cpu_ms'))} |")
    return lines


RENDERERS: dict[str, Callable[[dict], list[str]]] = {
    "engines": engines, "products": products, "pricing": pricing, "text": text, "points": points,
    "demand": demand, "tui_peer": tui_peer, "promo": promo,
}


def block(name: str, results: Path = RESULTS) -> str:
    """The section's text from bench/results/<name>.json, or what is missing."""
    path = results / f"{name}.json"
    run = f"`python -m bench.{name}`"
    if not path.is_file():
        return f"Not measured yet (run {run})."
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        lines = RENDERERS[name](data)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        return (f"bench/results/{name}.json is not in the layout {run} writes "
                f"({type(error).__name__}: {error}); nothing is published from it: re-run {run}.")
    return "\n".join(lines)


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def replace(text: str, name: str, content: str, path: Path) -> str:
    start, end = markers(name)
    if start not in text or end not in text:
        raise SystemExit(f"{path}: no {start} ... {end} markers to write between")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{content}\n{end}{tail}"


def apply(texts: dict[Path, str], results: Path = RESULTS) -> dict[Path, str]:
    """Each file's text with every bench's section written between its markers."""
    blocks = {name: block(name, results) for name in RENDERERS}
    out = {}
    for path, text in texts.items():
        for name, content in blocks.items():
            text = replace(text, name, content, path)
        out[path] = text
    return out
