"""Property: workspaces mixing odd ids, offsets, date cells, stale copies and broken files
never end in an internal error, exit only 0/1/2, and print only finite figures."""

import json
import math
import os
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from commands.app import app

runner = CliRunner()

ID_STYLES = ("text", "whole floats", "fractional floats", "huge floats")
TIME_STYLES = ("iso", "utc Z", "+08:00", "mixed offsets and naive")


def _ids(style: str, n: int) -> list:
    return {"text": [f"C{i % 5:03d}" for i in range(n)], "whole floats": [float(1000 + i % 5) for i in range(n)],
            "fractional floats": [1000 + i % 5 + (0.5 if i == 1 else 0.0) for i in range(n)],
            "huge floats": [float(2**60 + i) for i in range(n)]}[style]


def _times(style: str, n: int) -> list[str]:
    base = [f"2024-03-{1 + i % 27:02d}T{i % 24:02d}:15:00" for i in range(n)]
    return {"iso": base, "utc Z": [t + "Z" for t in base], "+08:00": [t + "+08:00" for t in base],
            "mixed offsets and naive": [t + ("-05:00" if i % 2 else "") for i, t in enumerate(base)]}[style]


def _write(folder: Path, case: dict) -> None:
    n = case["rows"]
    frame = pl.DataFrame({"customer_id": _ids(case["ids"], n), "order_date": _times(case["times"], n),
                          "amount": [round(3.5 * (i + 1), 2) for i in range(n)]})
    if case["format"] == "parquet":
        frame.write_parquet(folder / "transactions.parquet")
    else:
        frame.with_columns(pl.col("customer_id").cast(pl.String)).write_csv(folder / "transactions.csv")
    config = []
    if case["time_zone"]:
        config.append('time_zone = "Asia/Shanghai"')
    if case["date_format"]:
        config.append(f'[tables.transactions]\ndate_format = "{case["date_format"]}"')
    if config:
        (folder / "loyalist.toml").write_text("\n".join(config) + "\n", encoding="utf-8")
    if case["format"] == "csv" and case["copy"] != "none":
        runner.invoke(app, ["data", "convert", "-w", str(folder)])
        copy = folder / "transactions.parquet"
        if case["copy"] == "stale":
            with (folder / "transactions.csv").open("a", encoding="utf-8") as handle:
                handle.write("C999,2024-03-28T10:00:00,1.25\n")
        elif case["copy"] == "truncated" and copy.exists():
            data = copy.read_bytes()
            copy.write_bytes(data[: len(data) // 2])
            os.utime(copy, ns=(0, 4_000_000_000_000_000_000))  # newest file in the folder


def _numbers(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, list):
        for v in value:
            yield from _numbers(v)
    elif isinstance(value, float):
        yield value


CLEAN = {"rows": 6, "ids": "text", "times": "iso", "format": "csv", "time_zone": False, "date_format": None,
         "copy": "none"}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.fixed_dictionaries({
    "rows": st.integers(3, 12), "ids": st.sampled_from(ID_STYLES), "times": st.sampled_from(TIME_STYLES),
    "format": st.sampled_from(("csv", "parquet")), "time_zone": st.booleans(),
    "date_format": st.sampled_from((None, None, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%Q")),
    "copy": st.sampled_from(("none", "current", "stale", "truncated")),
}))
# Classes from issue 12, always run (the truncated copy ended in "internal error" before).
@example(case=dict(CLEAN, copy="truncated"))
@example(case=dict(CLEAN, format="parquet", ids="fractional floats"))
@example(case=dict(CLEAN, times="utc Z"))
@example(case=dict(CLEAN, times="+08:00", time_zone=True, copy="stale"))
@example(case=dict(CLEAN, date_format="%Y-%m-%Q"))
def test_odd_workspaces_end_in_a_clear_message_or_finite_figures(case):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _write(folder, case)
        for args in (["data", "inspect"], ["data", "validate"], ["report", "kpi"]):
            result = runner.invoke(app, [*args, "-w", str(folder), "--format", "json"])
            assert result.exit_code in (0, 1, 2), (case, args, result.output)
            assert "internal error" not in result.stderr and "Traceback" not in result.output, (case, args)
            if result.exit_code == 2:
                assert "Fix:" in result.stderr or args == ["data", "validate"], (case, args, result.stderr)
            if result.exit_code == 0 and args == ["report", "kpi"]:
                figures = list(_numbers(json.loads(result.stdout)))
                assert figures and all(math.isfinite(x) for x in figures), (case, result.stdout)
