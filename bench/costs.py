"""What each stage costs, by workspace size: bench/RESULTS.md's tables from `python -m bench`'s JSON.

bench.publish calls `apply` on bench/RESULTS.md: every table and every figure quoted around
them is written between `<!-- NAME:start -->` and `<!-- NAME:end -->` markers from
bench/results/latest.json, with the machine, date and load average of that run, using
bench/summary.py's Markdown tables. These are absolute seconds with no peer ("what it
costs"); the ratios to peers are bench.sidebyside's. A table the JSON does not hold says
"Not measured yet" with the command that measures it, never an old figure.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench import sections, summary

LATEST = "latest.json"
RUN = "`python -m bench`"
# a stage measured on the plain Parquet workspace (the rest are the CSV copy and the
# larger-than-memory demonstration)
SIZED = ("parquet", "csv", "converted")


def _runs_on(meta: dict) -> str:
    versions = ", ".join(f"{name} {meta[key]}" for name, key in (
        ("Polars", "polars"), ("numpy", "numpy"), ("scikit-learn", "scikit_learn"), ("pandas", "pandas"),
        ("Python", "python")) if meta.get(key))
    commit = meta.get("commit")
    return f"{versions}, " + (f"commit {commit[:10]}" if commit else "commit not recorded")


def _when(meta: dict, cores) -> str:
    load = (meta.get("load_average") or [None])[0]
    started = "load average not recorded" if load is None else f"load average {load:.2f} at the start"
    busy = load is not None and cores and load > sections.BUSY_PER_CORE * cores
    return f"{(meta.get('time') or 'date not recorded')[:10]}, {started}" + (" (**a busy machine**)" if busy else "")


def run_block(data: dict) -> list[str]:
    """What was measured, where and when, and each workspace's real counts."""
    meta = data["meta"]
    cores = meta.get("cores")
    where = f"{cores} cores" if cores else "cores not recorded"
    if meta.get("cpu"):
        where += f" ({meta['cpu']}, {meta.get('memory_gb', '?')} GB)"
    # each `--update` nests the run it updated: walk back to the first run, so every
    # re-measurement is listed with its own date, load and commit
    updates = []
    first = meta
    while (first.get("updated") or {}).get("earlier"):
        updates.append(first)
        first = first["updated"]["earlier"]
    lines = [f"From `bench/results/latest.json` ({RUN}): {where}, {_runs_on(first)}; "
             f"run on {_when(first, cores)}."]
    for update in reversed(updates):
        again = update["updated"].get("measured_again", [])
        lines.append(f"Measured again on {_when(update, cores)} (`--update`, {_runs_on(update)}): "
                     + ", ".join(again) + ".")

    def busy(m: dict) -> bool:
        return bool(m.get("load_average") and cores and m["load_average"][0] > sections.BUSY_PER_CORE * cores)

    parts = [("the first run" if updates else "the run")] if busy(first) else []
    if any(busy(u) for u in updates):  # each one's load average is in its line above
        parts.append("the stages measured again")
    which = " and ".join(parts)
    if which:
        lines += ["", f"**Warning: {which} started on a busy machine (load average above "
                      f"{sections.BUSY_PER_CORE} per core), which stretches wall times: those seconds are not "
                      "this machine's. Re-run on a quiet one.**"]
    records = data["results"]
    sizes = {}
    for r in records:
        sizes.setdefault(r["size"], r)
    lines += ["", summary.markdown(["size", "transactions", "customers", "transactions per customer"],
                                   [[s, f"{r['transactions']:,}", f"{r['customers']:,}",
                                     f"{r['transactions'] / r['customers']:.1f}"] for s, r in sizes.items()])]
    startup = [r for r in records if r["stage"] == "startup" and r.get("ok")]
    if startup:
        lines += ["", f"Importing the CLI (`startup`, not in the stage times): {startup[0]['seconds']:.2f} s, "
                      f"peak {startup[0]['peak_mb']:,.0f} MB."]
    return lines


def _parquet(records: list[dict]) -> list[dict]:
    return [r for r in records if r.get("variant", "parquet") in SIZED]


def stages_block(data: dict) -> list[str]:
    records = _parquet(data["results"])
    lines = ["What it costs, in absolute seconds and peak MB with no peer beside it (in-process "
             "stage times: no interpreter start-up, no output file written):", "",
             summary.pivot_table(records)]
    scale = _largest(records, "scale", "customers")
    if scale and "table_seconds" in (scale.get("detail") or {}):
        table = scale["detail"]["table_seconds"]
        lines += ["", f"`scale` times the step after the per-customer table; building that table "
                      f"(`scale_data`) took {table:.2f} s more at {scale['customers']:,} customers, so "
                      f"`loyalist scale score` end to end is {table:.2f} s + {scale['seconds']:.2f} s = "
                      f"{table + scale['seconds']:.2f} s there."]
    return lines


def _largest(records: list[dict], stage: str, key: str) -> dict | None:
    found = [r for r in records if r["stage"] == stage and r.get("ok") and r.get("variant", "parquet") == "parquet"]
    return max(found, key=lambda r: r[key]) if found else None


def targets_block(data: dict) -> list[str]:
    rows = summary.targets(_parquet(data["results"]))
    if not rows:
        return [f"Not measured yet (run {RUN} with the 10m and 1mc sizes)."]
    return [summary.targets_table(rows)]


def growth_block(data: dict) -> list[str]:
    records = [r for r in data["results"] if r.get("variant", "parquet") in ("parquet", "csv")]
    rows = summary.growth(records)
    if not rows:
        return [f"Not measured yet (run {RUN})."]
    lines = [summary.growth_table(rows)]
    by = {g["stage"]: g for g in rows}
    per = [f"{name} {by[stage]['seconds_per_million_rows']:.2f} s" for stage, name in
           (("scan", "load"), ("rfm", "RFM segments"), ("features", "every feature"), ("pandas", "pandas' RFM"))
           if stage in by and by[stage]["rows_unit"] == "transactions"]
    reports = [g["seconds_per_million_rows"] for g in rows if g["stage"].startswith("report.")]
    if reports:
        per.append(f"a report {min(reports):.2f}-{max(reports):.2f} s")
    if per:
        lines += ["", "Per million transactions, at the largest size: " + ", ".join(per) + "."]
    models = [f"{g['stage']} {g['seconds_per_million_rows']:.2f} s" for g in rows
              if g["rows_unit"] == "customers"]
    if models:
        lines += ["", "Per million customers, at the largest size: " + ", ".join(models) + "."]
    return lines


def csv_block(data: dict) -> list[str]:
    rows = summary.csv_speedups(data["results"])
    if not rows:
        return [f"Not measured yet (run {RUN} with the csv stage)."]
    lines = [summary.csv_table(rows)]
    convert = max((r for r in data["results"] if r["stage"] == "convert" and r.get("ok")),
                  key=lambda r: r["transactions"], default=None)
    detail = (convert or {}).get("detail") or {}
    if "parquet_mb" in detail and "source_mb" in detail:
        lines += ["", f"At {convert['size']} ({convert['transactions']:,} transactions) the Parquet copy is "
                      f"{detail['parquet_mb']:,.0f} MB for {detail['source_mb']:,.0f} MB of CSV."]
    return lines


def memory_block(data: dict) -> list[str]:
    records = [r for r in data["results"] if r.get("variant", "parquet") not in SIZED]
    if not records:
        return [f"Not measured yet (run {RUN} --memory-limit 2g)."]
    return [summary.results_table(records)]


def tui_block(data: dict) -> list[str]:
    records = [r for r in data["results"] if r["stage"] == "tui" and r.get("ok")]
    if not records:
        return [f"Not measured yet (run {RUN} with the tui stage)."]
    big = max(records, key=lambda r: r["transactions"])
    d = big["detail"]
    lines = [summary.results_table([big]), ""]
    if {"import_seconds", "first_screen_seconds"} <= d.keys():
        lines.append(f"- At {big['transactions']:,} transactions: first screen {d['first_screen_seconds']:.2f} s "
                     f"after {d['import_seconds']:.2f} s of imports "
                     f"({d['import_seconds'] + d['first_screen_seconds']:.2f} s from start).")
    if "rows_seconds" in d:
        lines.append(f"- The transactions browser held its rows at {d['rows_seconds']:.2f} s"
                     + (f"; the UI thread never stalled more than {d['max_ui_stall_ms']:.0f} ms meanwhile."
                        if "max_ui_stall_ms" in d else "."))
    paging = [f"{r['size']} ({r['transactions']:,} rows) {r['detail']['page_down_median_ms']:.0f} ms"
              for r in sorted(records, key=lambda r: r["transactions"]) if "page_down_median_ms" in r["detail"]]
    if paging:
        lines.append("- Page down to the new frame drawn (median): " + ", ".join(paging)
                     + (f"; End to the last row {d['end_ms']:.0f} ms." if "end_ms" in d else "."))
    return lines


BLOCKS = {"bench-run": run_block, "bench-stages": stages_block, "bench-targets": targets_block,
          "bench-growth": growth_block, "bench-csv": csv_block, "bench-memory": memory_block,
          "bench-tui": tui_block}


def blocks(results: Path) -> dict[str, str]:
    """Each section's text from results/latest.json, or what is missing."""
    path = results / LATEST
    if not path.is_file():
        return {name: f"Not measured yet (run {RUN})." for name in BLOCKS}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {name: "\n".join(render(data)) for name, render in BLOCKS.items()}
    except (ValueError, KeyError, TypeError, AttributeError, ZeroDivisionError) as error:
        said = (f"bench/results/{LATEST} is not in the layout {RUN} writes ({type(error).__name__}: "
                f"{error}); nothing is published from it: re-run {RUN}.")
        return {name: said for name in BLOCKS}


def apply(text: str, path: Path, results: Path) -> str:
    for name, content in blocks(results).items():
        text = sections.replace(text, name, content, path)
    return text
