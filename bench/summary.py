"""Turn measurements into the tables the benchmark prints and the JSON it writes.

Tables are Markdown (they paste into bench/RESULTS.md as they are). Growth is the slope
of log(seconds) against log(rows) between sizes: 1.0 is linear, below 1 means a fixed
cost (imports aside: opening files, fitting on a sample) still weighs at that size.
"""

from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Targets (DESIGN.md budgets and the performance issue), checked on every run.
RFM_SECONDS, RFM_MB = 3.0, 2048
PER_CUSTOMER_SECONDS = {"clustering": 5.0, "scale": 5.0, "clv": 10.0}
TARGET_CUSTOMERS = 1_000_000
FIRST_SCREEN_SECONDS = 1.0
TARGET_TRANSACTIONS = 10_000_000


def label(record: dict) -> str:
    variant = record.get("variant", "parquet")
    return record["stage"] if variant == "parquet" else f"{record['stage']} ({variant})"


def _num(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _rate(value: float | None) -> str:
    if value is None:
        return "-"
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:,.1f}{unit}"
    return f"{value:,.0f}"


def markdown(header: list[str], rows: Iterable[list[str]]) -> str:
    rows = list(rows)
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|",
                      *map(line, rows)])


def results_table(records: list[dict]) -> str:
    header = ["size", "transactions", "customers", "stage", "seconds", "peak MB", "rows/s",
              "note"]
    rows = []
    for r in records:
        note = r.get("error") or _detail_note(r)
        rows.append([r["size"], _num(r["transactions"]), _num(r["customers"]), label(r),
                     _num(r.get("seconds")), _num(r.get("peak_mb"), 0),
                     (_rate(r.get("rows_per_second")) + " " + _unit(r)).strip()
                     if r.get("rows_per_second") else "-", note])
    return markdown(header, rows)


def _unit(record: dict) -> str:
    return {"transactions": "tx", "customers": "cust", "rows": "rows",
            "rows browsed": "rows"}.get(record.get("rows_unit", ""), "")


def _detail_note(record: dict) -> str:
    d = record.get("detail") or {}
    keys = {
        "rfm": ("checks_seconds", "features_seconds", "segments_seconds"),
        "clv": ("summary_seconds", "fit_seconds"),
        "churn": ("model", "scored"),
        "scale": ("table_seconds",),
        "clustering": ("algorithm", "k"),
        "scan": ("in_memory_mb",),
        "features": ("customers",),
        "convert": ("source_mb", "parquet_mb"),
        "tui": ("import_seconds", "first_screen_seconds", "rows_seconds", "max_ui_stall_ms",
                "page_down_median_ms", "end_ms"),
    }.get(record["stage"], ())
    return ", ".join(_detail(k, d[k]) for k in keys if k in d)


def _detail(key: str, value) -> str:
    for suffix, unit, digits in (("_seconds", "s", 2), ("_mb", "MB", 0), ("_ms", "ms", 0)):
        if key.endswith(suffix):
            name = key[: -len(suffix)].replace("_", " ")
            return f"{name} {_num(float(value), digits)} {unit}"
    return f"{key.replace('_', ' ')} {_num(value)}"


def pivot_table(records: list[dict]) -> str:
    """Stages down, sizes across: seconds and peak MB (Parquet workspaces)."""
    sizes = list(dict.fromkeys(r["size"] for r in records if r.get("variant", "parquet") == "parquet"))
    cells: dict[str, dict[str, str]] = {}
    for r in records:
        if r["size"] not in sizes or r["stage"] == "startup":
            continue
        # tui: until the rows are in the browser (its total includes paging through them)
        seconds = r["detail"]["rows_seconds"] if r["stage"] == "tui" and r.get("ok") else r.get("seconds")
        shown = f"{seconds:.2f} s / {r['peak_mb']:,.0f} MB" if r.get("ok") else "failed"
        cells.setdefault(label(r), {})[r["size"]] = shown
    heads = [f"{s} ({_short(r['transactions'])} tx, {_short(r['customers'])} cust)"
             for s in sizes for r in [next(x for x in records if x["size"] == s)]]
    return markdown(["stage", *heads],
                    [[name, *(row.get(s, "") for s in sizes)] for name, row in cells.items()])


def _short(n: int) -> str:
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if n >= 0.95 * size:
            return f"{n / size:.{0 if n >= 9.5 * size else 1}f}{unit}"
    return str(n)


def growth(records: list[dict]) -> list[dict]:
    """Per stage: the log-log slope of seconds over rows between the largest size and the
    largest one at least 5x smaller (where fixed costs weigh least), and seconds and MB
    per million rows at the largest."""
    out = []
    by_stage: dict[str, list[dict]] = {}
    for r in records:
        if r.get("ok") and r.get("seconds") and r.get("rows") and r["stage"] not in ("startup", "tui"):
            by_stage.setdefault(label(r), []).append(r)
    for name, rs in by_stage.items():
        rs = sorted(rs, key=lambda r: r["rows"])
        big = rs[-1]
        # the largest size at least 5x smaller: close sizes make the slope mostly noise
        small = next((r for r in reversed(rs) if r["rows"] * 5 <= big["rows"]), rs[0])
        slope = None
        if len(rs) >= 2 and big["rows"] > small["rows"]:
            slope = (math.log(big["seconds"] / small["seconds"])
                     / math.log(big["rows"] / small["rows"]))
        out.append({"stage": name, "rows_unit": big["rows_unit"], "sizes": len(rs),
                    "slope": slope, "largest_rows": big["rows"],
                    "seconds_per_million_rows": big["seconds"] / big["rows"] * 1e6,
                    "peak_mb_per_million_rows": (big["peak_mb"] - (big.get("start_mb") or 0))
                    / big["rows"] * 1e6})
    return out


def growth_table(rows: list[dict]) -> str:
    return markdown(
        ["stage", "grows with", "slope (1 = linear)", "s per million", "MB per million (above start)",
         "at rows"],
        [[g["stage"], g["rows_unit"], _num(g["slope"]), _num(g["seconds_per_million_rows"], 3),
          _num(g["peak_mb_per_million_rows"], 0), _num(g["largest_rows"])] for g in rows])


def _find(records: list[dict], stage: str, variant: str = "parquet") -> list[dict]:
    return [r for r in records if r["stage"] == stage and r.get("variant", "parquet") == variant
            and r.get("ok")]


def targets(records: list[dict]) -> list[dict]:
    """Each target with the measurement it is judged on (the size nearest the target's;
    per-customer stages below 1M customers are projected linearly, and say so)."""
    out = []
    rfm = _nearest(_find(records, "rfm"), "transactions", TARGET_TRANSACTIONS)
    if rfm:
        out.append(_target(f"features + RFM, {rfm['transactions']:,} transactions", "seconds",
                           rfm["seconds"], RFM_SECONDS, rfm))
        out.append(_target(f"features + RFM, {rfm['transactions']:,} transactions", "peak MB",
                           rfm["peak_mb"], RFM_MB, rfm))
        # No ratio against pandas here: these are in-process stage times (no start-up, no
        # output file); peers are compared end to end by bench.sidebyside.
    for stage, limit in PER_CUSTOMER_SECONDS.items():
        found = _nearest(_find(records, stage), "customers", TARGET_CUSTOMERS)
        # Projecting from far fewer customers would mostly scale up fixed costs.
        if found and found["customers"] >= TARGET_CUSTOMERS / 2:
            scale = max(1.0, TARGET_CUSTOMERS / found["customers"])
            note = "" if scale == 1 else f"projected linearly from {found['customers']:,} customers"
            out.append(_target(f"{stage}, 1,000,000 customers", "seconds",
                               found["seconds"] * scale, limit, found, note))
    tui = _nearest(_find(records, "tui"), "transactions", TARGET_TRANSACTIONS)
    if tui:
        d = tui["detail"]
        out.append(_target(f"TUI first screen, {tui['transactions']:,} transactions", "seconds",
                           d["import_seconds"] + d["first_screen_seconds"], FIRST_SCREEN_SECONDS,
                           tui, f"imports {d['import_seconds']:.2f} s + app start "
                                f"{d['first_screen_seconds']:.2f} s"))
    return out


def _nearest(records: list[dict], key: str, goal: int) -> dict | None:
    if not records:
        return None
    best = min(records, key=lambda r: abs(math.log(max(r[key], 1) / goal)))
    return best


def _target(what: str, measure: str, value: float, limit: float, record: dict, note: str = "",
            at_least: bool = False) -> dict:
    met = value >= limit if at_least else value <= limit
    return {"target": what, "measure": measure, "value": value,
            "limit": limit, "at_least": at_least, "met": met, "size": record["size"],
            "note": note}


def targets_table(rows: list[dict]) -> str:
    return markdown(["target", "measure", "measured", "target", "met", "note"],
                    [[t["target"], t["measure"], _num(t["value"]),
                      ("≥ " if t["at_least"] else "≤ ") + _num(t["limit"]),
                      "yes" if t["met"] else "NO", t["note"]] for t in rows])


def compare_table(records: list[dict], previous: list[dict]) -> str:
    """Seconds and peak now against an earlier JSON (e.g. from another commit)."""
    before = {(p["size"], label(p)): p for p in previous if p.get("ok")}
    rows = []
    for r in records:
        p = before.get((r["size"], label(r)))
        if p is None or not r.get("ok"):
            continue
        rows.append([r["size"], label(r), _num(p["seconds"]), _num(r["seconds"]),
                     f"{r['seconds'] / p['seconds']:.2f}x", _num(p["peak_mb"], 0),
                     _num(r["peak_mb"], 0)])
    return markdown(["size", "stage", "s before", "s now", "now/before", "MB before", "MB now"],
                    rows)


def machine() -> dict:
    import numpy
    import polars
    import sklearn

    info = {"cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "polars": polars.__version__,
            "numpy": numpy.__version__, "scikit_learn": sklearn.__version__,
            "load_average": list(os.getloadavg()), "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "commit": commit()}
    try:
        import pandas

        info["pandas"] = pandas.__version__
    except ImportError:
        pass
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                           if line.startswith("model name"))
        meminfo = Path("/proc/meminfo").read_text().split()
        info["memory_gb"] = round(int(meminfo[meminfo.index("MemTotal:") + 1]) / 2**20, 1)
    except (OSError, StopIteration, ValueError):
        pass
    return info


def commit(root: Path = ROOT) -> str | None:
    """The checked-out commit, read from .git (no git process). In a worktree (`git worktree
    add`, as a bench of another commit runs), .git is a file naming the worktree's own git
    directory, whose refs live in the repository's common one."""
    git = root / ".git"
    try:
        if git.is_file():
            text = git.read_text().strip()
            if not text.startswith("gitdir: "):
                return None
            git = (root / text[len("gitdir: "):]).resolve()
        common = (git / (git / "commondir").read_text().strip()).resolve() if (git / "commondir").is_file() else git
        ref = (git / "HEAD").read_text().strip()
        if not ref.startswith("ref: "):
            return ref  # a detached HEAD holds the commit itself
        name = ref[len("ref: "):]
        for base in (git, common):
            if (base / name).is_file():
                return (base / name).read_text().strip()
        packed = (common / "packed-refs").read_text().splitlines()
        return next((line.split()[0] for line in packed if line.endswith(" " + name)), None)
    except OSError:
        return None


def csv_speedups(records: list[dict]) -> list[dict]:
    """Per size: CSV against Parquet for the full load and for `segment rfm`, and after how
    many rfm runs `data convert` has paid for itself."""
    out = []
    for size in dict.fromkeys(r["size"] for r in records):
        def seconds(stage: str, variant: str) -> float | None:
            found = [r for r in _find(records, stage, variant) if r["size"] == size]
            return found[0]["seconds"] if found else None
        scan_csv, scan_pq = seconds("scan", "csv"), seconds("scan", "parquet")
        rfm_csv, rfm_conv = seconds("rfm", "csv"), seconds("rfm", "converted")
        convert = seconds("convert", "csv")
        if None in (rfm_csv, rfm_conv, convert):
            continue
        saved = rfm_csv - rfm_conv
        out.append({"size": size, "scan_speedup": scan_csv / scan_pq if scan_csv and scan_pq else None,
                    "rfm_speedup": rfm_csv / rfm_conv, "convert_seconds": convert,
                    "break_even_runs": convert / saved if saved > 0 else None})
    return out


def csv_table(rows: list[dict]) -> str:
    return markdown(["size", "load: CSV / Parquet", "segment rfm: CSV / converted", "convert s",
                     "convert pays off after (rfm runs)"],
                    [[r["size"], _num(r["scan_speedup"]) + "x" if r["scan_speedup"] else "-",
                      _num(r["rfm_speedup"]) + "x", _num(r["convert_seconds"]),
                      _num(r["break_even_runs"], 1)] for r in rows])
