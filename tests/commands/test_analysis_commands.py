"""The CLI's analysis commands are the registry's: every command has a kind, every option a
flag with the registry's name, default, bounds and choices, and `--help` stays light."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import typing
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from commands import analysis as generated
from commands.app import app
from commands.report import PLAN
from core.registry import BOOL, CHOICE, LIST, analyses, get, groups
from core.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
CLI = typer.main.get_command(app)
HAND_WRITTEN = {("data", "convert"), ("scale", "init")}  # they write files, they are not analyses
CLI_ONLY = {("report", "experiment"): {"plan"}, ("scale", "check"): {"data", "items"},
            ("scale", "validate"): {"data", "items"}}


def commands():
    for group in groups():
        if group.single:  # one command, not a group of them (test_a_single_command_group_is_its_kind)
            continue
        for name, command in CLI.commands[group.name].commands.items():
            yield group.name, name, command


def test_every_analysis_command_has_a_kind_and_every_kind_a_command():
    kinds = {(a.group, a.cli_name): a.kind for a in analyses() if a.cli_name}
    found = {(g, n) for g, n, _ in commands()}
    assert found - HAND_WRITTEN == set(kinds)
    # reached by `report experiment --plan`, and `loyalist alerts` (a group that is one command)
    assert {a.kind for a in analyses() if not a.cli_name} == {PLAN} | {g.single for g in groups() if g.single}


def test_a_single_command_group_is_its_kind():
    for group in (g for g in groups() if g.single):
        command = CLI.commands[group.name]
        assert not hasattr(command, "commands")
        params = {p.name for p in command.params if p.name != "help"}
        assert params == {o.name for o in get(group.single).options} | set(generated.SHARED)


@pytest.mark.parametrize(("group", "name"), sorted({(a.group, a.cli_name) for a in analyses() if a.cli_name}))
def test_a_commands_options_are_its_kinds(group, name):
    command = CLI.commands[group].commands[name]
    analysis = next(a for a in analyses() if (a.group, a.cli_name) == (group, name))
    options = {o.name: o for o in analysis.options}
    if (group, name) == ("report", "experiment"):
        options |= {o.name: o for o in get(PLAN).options}  # borrowed, all optional here
    params = {p.name: p for p in command.params if p.name not in ("help",)}
    shared = set(generated.SHARED)
    assert set(params) == set(options) | shared | CLI_ONLY.get((group, name), set())
    for option in options.values():
        param = params[option.name]
        flags = [f for f in option.flags for f in f.split("/")] or [option.flag]
        if option.type == BOOL and not option.flags:
            flags = [option.flag, "--no-" + option.flag[2:]]
        assert sorted(param.opts + param.secondary_opts) == sorted(flags), option.name
        assert param.multiple == (option.type == LIST and option.repeat)
        if option.type == CHOICE:
            annotation = param.type_descriptor.annotation
            choices = typing.get_args(next(a for a in typing.get_args(annotation) if a is not type(None))) \
                if typing.get_origin(annotation) is typing.Union else typing.get_args(annotation)
            assert tuple(choices) == option.choices
        assert (param.min, param.max) == (option.low, option.high), option.name
        relaxed = (group, name) in (("scale", "check"), ("scale", "validate"), ("report", "experiment"))
        assert param.required == (option.required and not relaxed)
        if option.default is not None:
            assert param.default == option.default, option.name


def test_help_shows_each_flag_with_the_registrys_help():
    result = runner.invoke(app, ["report", "channels", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in get("report.channels").options:
        assert option.flag in result.stdout
    assert "Days after a touch in which a purchase counts as its conversion" in result.stdout
    assert "(default: the last transaction date)" in result.stdout  # "empty: ..." said for a terminal


@pytest.mark.parametrize("args", [["--help"], ["segment", "rfm", "--help"], ["report", "--help"]])
def test_help_imports_no_polars_numpy_sklearn_or_the_exporters(args):
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "commands", *args], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    loaded = {line.split("|")[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time")}
    heavy = {m for m in loaded if m.split(".")[0] in {"polars", "numpy", "sklearn", "scipy"}
             or m.startswith(("core.export", "core.result", "core.workspace", "commands.output"))}
    assert not heavy, sorted(heavy)


def test_bad_values_are_refused_by_the_registry_with_exit_two(tmp_path):
    tx = tmp_path / "transactions.csv"
    tx.write_text("customer_id,order_date,amount\nC1,2024-01-05,10\n", encoding="utf-8")
    bounds = runner.invoke(app, ["segment", "rfm", "-w", str(tmp_path), "--bins", "7"])
    assert bounds.exit_code == 2 and "--bins" in bounds.output
    choice = runner.invoke(app, ["segment", "rfm", "-w", str(tmp_path), "--method", "mean"])
    assert choice.exit_code == 2 and "rank" in choice.output
    compare = runner.invoke(app, ["segment", "profile", "-w", str(tmp_path), "--compare", "A"])
    assert compare.exit_code == 2 and "exactly two" in compare.stderr


def test_a_command_records_its_options_and_the_files_it_read(make_workspace):
    folder = make_workspace({"transactions.csv": "customer_id,order_date,amount\nC1,2024-01-05,10\n"
                                                 "C2,2024-02-05,20\nC1,2024-03-05,30\n"})
    result = runner.invoke(app, ["segment", "rfm", "-w", str(folder), "--bins", "3", "-f", "json"])
    assert result.exit_code == 0, result.output
    params = json.loads(result.stdout)["params"]
    assert params["bins"] == 3 and params["method"] == "rank" and params["scheme"] == "map"
    assert params["workspace"] == str(folder) and params["tables"] == "transactions.csv"
    assert params["as_of"] == dt.date(2024, 3, 5).isoformat()


def test_a_new_registration_is_a_command_a_form_a_recipe_kind_and_a_starter_entry(add_analysis, monkeypatch,
                                                                                  make_workspace, tmp_path):
    """What "one function, one registration" buys: nothing else is written for these."""
    import polars as pl

    from core.export.recipe import load_recipe, starter_recipe
    from core.registry import DATE, FLOAT, Analysis, Group, Option, model
    from core.result import Result
    from tui.screens import report_entries

    def share(ws, *, as_of=None, threshold=0.5):
        tx = ws.scan("transactions").collect()
        big = tx.filter(pl.col("amount") > threshold).height
        return Result("test.share", "Share of big orders", {"orders": pl.DataFrame({"big": [big]})},
                      headline={"big_share": big / tx.height})

    monkeypatch.setitem(model.GROUPS, "test", Group("test", "Tests", "Made-up analyses", screen="reports"))
    add_analysis(Analysis("test.share", "Share of big orders", "Orders above a threshold", run=share, options=(
        Option("as_of", DATE), Option("threshold", FLOAT, 0.5, low=0, help="Orders above this amount"))))
    folder = make_workspace({"transactions.csv": "customer_id,order_date,amount\nC1,2024-01-05,10\n"
                                                 "C2,2024-02-06,20\nC3,2024-03-01,30\nC4,2024-03-02,40\n"})
    sub = typer.Typer()
    sub.callback()(lambda: None)  # a group, as commands/app.py mounts it, even with one command
    generated.add_analysis_commands(sub, "test")
    result = runner.invoke(sub, ["share", "-w", str(folder), "--threshold", "25", "-f", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["big_share"] == 0.5
    assert runner.invoke(sub, ["share", "-w", str(folder), "--threshold", "-1"]).exit_code == 2

    entry = next(e for e in report_entries._entries() if e.key == "test.share")
    assert entry.group == "Tests" and [f.name for f in entry.fields] == ["as_of", "threshold"]
    assert entry.run(Workspace.open(folder), {"threshold": 15.0}).headline["big_share"] == 0.75

    recipe = tmp_path / "r.toml"
    recipe.write_text('[[report]]\nkind = "test.share"\nthreshold = 35\n', encoding="utf-8")
    assert load_recipe(recipe).reports[0].options == {"threshold": 35.0}
    assert 'kind = "test.share"' in starter_recipe()
