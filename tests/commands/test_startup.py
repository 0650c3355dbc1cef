"""`loyalist --help` starts light (issue 14): the command line builds only the group it runs,
and Typer's help renderer loads without markdown_it and pygments; what the user sees is the
same as from the fully built app. Speed itself is measured in bench/sidebyside.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from commands.app import app, first_words

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
ENV = {**os.environ, "COLUMNS": "100", "PYTHONPATH": str(ROOT)}
ENV.pop("FORCE_COLOR", None)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "commands", *args], cwd=ROOT, env=ENV, capture_output=True,
                          text=True)


@pytest.mark.parametrize("args", [["--help"], ["segment", "--help"], ["segment", "rfm", "--help"],
                                  ["report", "channels", "--help"], ["export", "run", "--help"],
                                  ["--debug", "data", "--help"], ["tui", "--help"]])
def test_the_command_line_shows_the_same_help_as_the_whole_app(args):
    """The command line mounts only the group it runs; the help must not notice."""
    shown = cli(*args)
    whole = runner.invoke(app, args, env={"COLUMNS": "100"}, prog_name="python -m commands")
    assert shown.returncode == whole.exit_code == 0
    assert shown.stdout == whole.stdout
    assert "Usage:" in shown.stdout


@pytest.mark.parametrize("args", [["segmnt", "rfm"], ["segment", "rfm", "--bins", "9"], ["report", "nope"]])
def test_usage_errors_read_the_same_too(args):
    shown = cli(*args)
    whole = runner.invoke(app, args, env={"COLUMNS": "100"}, prog_name="python -m commands")
    assert shown.returncode == whole.exit_code == 2
    assert shown.stderr == whole.stderr and shown.stderr.strip()


def test_the_listed_groups_are_every_group():
    listed = cli("--help").stdout
    for name in ("data", "segment", "scale", "report", "predict", "export", "demo", "tui"):
        assert f" {name} " in listed


def test_first_word_skips_top_level_options():
    assert first_words(["--debug", "segment", "rfm", "-w", "x"])[0] == "segment"
    assert first_words(["--help"])[0] == ""
    assert first_words([])[0] == ""
    assert first_words(["--debug", "segment", "rfm", "-w", "x"]) == ("segment", "rfm")
    assert first_words(["report", "--help"]) == ("report", "")


def test_the_command_line_makes_only_the_command_it_runs():
    """The group's other commands are listed, not made with their options: only the one run has them."""
    code = """
import typer
from commands.app import command_line
report = typer.main.get_command(command_line("report", "channels")).commands["report"]
print(sorted(name for name, command in report.commands.items() if command.params))
print(len(report.commands))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True, check=True)
    made, listed = out.stdout.split("\n")[:2]
    assert made == "['channels']"
    assert int(listed) == len(typer.main.get_command(app).commands["report"].commands)


@pytest.mark.parametrize("args", [["--help"], ["segment", "rfm", "--help"], ["report", "channels", "--help"]])
def test_help_loads_neither_markdown_pygments_nor_pydantic(args):
    """Typer's renderer imports rich.markdown and rich.traceback at its top, and checks an
    absent --help through pydantic; Loyalist's help needs none of them."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "commands", *args], cwd=ROOT, env=ENV,
                         capture_output=True, text=True, check=True)
    loaded = {line.split("|")[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time")}
    assert not {m for m in loaded if m.split(".")[0] in {"markdown_it", "pygments", "pydantic"}}
    assert "rich.markdown" not in loaded and "rich.traceback" not in loaded


def test_the_deferred_classes_are_the_real_ones_when_used():
    """Were Typer to draw Markdown or a traceback, it gets Rich's own classes."""
    code = """
import sys
from commands.lean_help import load_typer_help
load_typer_help()
assert "rich.markdown" not in sys.modules and "markdown_it" not in sys.modules
import typer.rich_utils as ru
import rich.markdown, rich.traceback
assert hasattr(rich.markdown, "__file__")  # the real module, not the stand-in
shown = ru.Markdown("**hi**")
assert type(shown) is rich.markdown.Markdown
try:
    1 / 0
except ZeroDivisionError as exc:
    tb = ru.Traceback.from_exception(type(exc), exc, exc.__traceback__)
assert type(tb) is rich.traceback.Traceback
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_segment_rfm_runs_without_numpy(tmp_path):
    """RFM scores in Polars alone: numpy's import (a tenth of a second, a fifth of the bare
    Polars script at a million rows) is left to the analyses that compute with it."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "commands", "segment", "rfm",
                          "-o", str(tmp_path / "rfm.parquet")], cwd=ROOT, env=ENV,
                         capture_output=True, text=True, check=True)
    loaded = {line.split("|")[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time")}
    assert "polars" in loaded and "numpy" not in loaded
    assert (tmp_path / "rfm.parquet").is_file()



@pytest.mark.parametrize(("report", "scipy"), [("kpi", False), ("nps", True)])
def test_a_report_loads_only_its_own_module(tmp_path, report, scipy):
    """core.evaluate imports each report on first use: `report kpi` no longer loads every
    report's module and scipy.stats with them; `report nps` (which tests with it) does."""
    code = f"""
import sys
from commands.app import main
sys.argv = ["loyalist", "report", "{report}", "-o", r"{tmp_path / 'r.json'}"]
try:
    main()
except SystemExit:
    pass
print(sorted(m for m in sys.modules if m.startswith("core.evaluate.")), "scipy" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True)
    loaded = out.stdout.strip().splitlines()[-1]
    assert f"'core.evaluate.{report}'" in loaded and "core.evaluate.channels" not in loaded, out.stderr
    assert loaded.endswith(str(scipy)), loaded
    assert (tmp_path / "r.json").is_file()
