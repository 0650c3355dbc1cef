"""Plainly valid analysis command lines run without Typer (commands.direct, issue 14): they
get exactly the values Typer would give, the same printout, files and errors; anything
unusual still goes to Typer, with its own messages."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

import commands.analysis as analysis_module
from commands import direct
from commands.app import MODULES, app
from core.registry import BOOL, CHOICE, DATE, FLOAT, INT, LIST, PAIRS, PATH, TABLE, TEXT, Analysis, analyses, groups

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "fixtures" / "sample"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
runner = CliRunner()
TX = "customer_id,order_date,amount\nC1,2024-01-05,10\nC2,2024-03-06,20\nC3,2024-02-01,5\nC1,2024-02-01,7\n"
SHARED_GIVEN = ["-w", "ws", "-o", "out.parquet", "--force", "-f", "json", "--skip-invalid", "--output-format", "csv",
                "--pseudonymise", "--min-count", "3"]


def direct_commands() -> list[Analysis]:
    return [a for g in groups() for a in analyses(g.name)
            if a.cli_name and direct.command([g.name, a.cli_name]) is not None]


def typer_values(args: list[str], monkeypatch) -> dict[str, Any]:
    """The values the Typer command hands over for this line (it must be valid)."""
    seen: dict[str, Any] = {}
    monkeypatch.setattr(analysis_module, "run_command", lambda analysis, extra, values: seen.update(values))
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (args, result.output)
    return seen


def given_value(option) -> list[str]:
    """One valid way to give this option on the command line."""
    if option.type == BOOL:
        return [option.flag]
    text = {INT: str(int(option.high if option.high is not None else (option.low or 0) + 1)),
            FLOAT: str(option.high if option.high is not None else 1.5),
            CHOICE: option.choices[-1] if option.choices else "", DATE: "2024-03-01", TEXT: "some text", PAIRS: "a=b", LIST: "a,b",
            PATH: "some/file.csv", TABLE: "table.csv"}[option.type]
    return [f"{option.flag}={text}"] if option.type == TEXT else [option.flag, text]


def test_the_commands_read_directly_are_the_plain_analysis_commands():
    kinds = {a.kind for a in direct_commands()}
    assert "segment.rfm" in kinds and "report.kpi" in kinds and "predict.churn" in kinds
    assert "report.experiment" not in kinds  # its --plan is an Extra
    assert set(direct.GROUP_MODULES) == set(MODULES)


def test_every_command_with_an_extra_is_left_to_typer():
    for name in MODULES:
        importlib.import_module(f"commands.{name}")
    with_extra = set(analysis_module.EXTRAS)
    assert with_extra, "the group modules register their Extras"
    assert not with_extra & {a.kind for a in direct_commands()}
    assert with_extra >= direct.WITH_EXTRA


@pytest.mark.parametrize("kind", [a.kind for a in direct_commands()])
def test_values_are_the_ones_typer_gives(kind, monkeypatch):
    one = next(a for a in direct_commands() if a.kind == kind)
    base = [one.group, one.cli_name]
    lines = [base, base + SHARED_GIVEN]
    for option in one.options:
        if option.cli:
            lines.append(base + given_value(option))
            if option.repeat:
                lines.append(base + given_value(option) + given_value(option)[:1] + ["other"])
            if option.type == BOOL:  # its --no- spelling
                off = option.flags[0].partition("/")[2] if option.flags else "--no-" + option.name.replace("_", "-")
                lines += [base + [off]] if off else []
    for line in lines:
        parsed = direct.parse(line)
        if parsed is None:  # e.g. a required option, or a bool with flags of its own: Typer's
            continue
        assert parsed[0] is one
        expected = typer_values(line, monkeypatch)
        assert parsed[1] == expected, line
        assert {k: type(v) for k, v in parsed[1].items()} == {k: type(v) for k, v in expected.items()}, line


def test_the_common_commands_are_read_directly():
    read = {a.kind for a in direct_commands() if direct.parse([a.group, a.cli_name, "-w", "ws"]) is not None}
    assert {"segment.rfm", "segment.kmeans", "report.kpi", "report.channels", "predict.churn", "predict.drivers",
            "segment.profile"} <= read


@pytest.mark.parametrize("rest", [
    ["--bins", "9"], ["--bins", "x"], ["--bins=9"], ["--as-of", "2024-13-01"], ["--method", "nope"], ["-f", "nope"],
    ["--help"], ["-w"], ["-wfolder"], ["--force", "--force"], ["extra"], ["--"], ["--force=yes"], ["--min-count", "0"],
    ["--bogus"], ["-w", "--force"], ["--as-of", "2024-3-1"], ["--bins", "05"], ["--bins", "4.0"], ["--bins", "+4"],
    ["--bins", "1_0"], ["-f", "JSON"], ["-f=json"],
])
def test_anything_unusual_is_left_to_typer(rest):
    assert direct.parse(["segment", "rfm", *rest]) is None


@pytest.mark.parametrize("line", [[], ["--help"], ["--debug", "segment", "rfm"], ["segment"], ["segment", "nope"],
                                  ["report", "experiment"], ["data", "validate"], ["tui"], ["demo"]])
def test_other_lines_are_left_to_typer(line):
    assert direct.parse(line) is None


def run(entry: str, *args: str) -> subprocess.CompletedProcess:
    """The command line through commands.launch (direct) or commands.app (always Typer)."""
    code = f"import sys; sys.argv = ['loyalist', *sys.argv[1:]]; from {entry} import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env={**ENV, "COLUMNS": "100"},
                          capture_output=True, text=True, check=False)


def test_segment_rfm_runs_without_typer_and_prints_and_writes_the_same(tmp_path):
    probe = ("import sys; sys.argv = ['loyalist', *sys.argv[1:]]\nfrom commands.launch import main\ntry:\n main()\n"
             "finally:\n print(sorted(m for m in ('typer', 'click', 'pydantic') if m in sys.modules), file=sys.stderr)")
    ours = subprocess.run([sys.executable, "-c", probe, "segment", "rfm", "-w", str(SAMPLE), "-o",
                           str(tmp_path / "direct.parquet")], cwd=ROOT, env={**ENV, "COLUMNS": "100"},
                          capture_output=True, text=True, check=False)
    assert ours.returncode == 0, ours.stderr
    assert ours.stderr.strip().splitlines()[-1] == "[]"
    typer_run = run("commands.app", "segment", "rfm", "-w", str(SAMPLE), "-o", str(tmp_path / "typer.parquet"))
    assert typer_run.returncode == 0, typer_run.stderr
    assert ours.stdout == typer_run.stdout and "Champions" in ours.stdout
    assert pl.read_parquet(tmp_path / "direct.parquet").equals(pl.read_parquet(tmp_path / "typer.parquet"))


@pytest.mark.parametrize("files,args,code", [
    (None, ["-w", "/no/such/folder"], 2),  # a clear error, exit 2
    ({"transactions.csv": "customer_id,order_date,amount\nC1,not a date,10\n"}, [], 2),
    ({"transactions.csv": TX}, ["-o", "exists.csv"], 2),  # --output exists, no --force
    ({"transactions.csv": TX}, ["-f", "json", "--as-of", "2023-01-01"], None),  # whatever it is, the same
])
def test_errors_are_the_same_as_typers(make_workspace, tmp_path, files, args, code):
    args = list(args)
    if files is not None:
        folder = make_workspace(files)
        (folder / "exists.csv").write_text("x\n")
        args = ["-w", str(folder), *[str(folder / a) if a == "exists.csv" else a for a in args]]
    ours, theirs = run("commands.launch", "segment", "rfm", *args), run("commands.app", "segment", "rfm", *args)
    assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)
    if code is not None:
        assert ours.returncode == code and "error:" in ours.stderr
