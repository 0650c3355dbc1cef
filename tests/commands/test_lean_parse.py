"""Options parsed without pydantic where Typer does not need it (commands.lean_parse, issue 14):
a command given only paths and flags never imports it; a value the user typed is still
checked by Typer, with Typer's messages; defaults reach the analysis with their types."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from commands.app import app

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "fixtures" / "sample"
runner = CliRunner()
TX = "customer_id,order_date,amount\nC1,2024-01-05,10\nC2,2024-03-06,20\nC3,2024-02-01,5\nC1,2024-02-01,7\n"

PROBE = """
import sys
from commands.app import main
sys.argv = ["loyalist", *sys.argv[1:]]
try:
    main()
except SystemExit as exit:
    code = exit.code
print("pydantic" in sys.modules, file=sys.stderr)
"""


def probe(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ROOT, env=env, capture_output=True, text=True)


def test_a_command_given_paths_and_flags_does_not_import_pydantic(make_workspace, tmp_path):
    folder = make_workspace({"transactions.csv": TX})
    done = probe("segment", "rfm", "-w", str(folder), "-o", str(tmp_path / "x.parquet"), "--force")
    assert done.stderr.strip().splitlines()[-1] == "False", done.stderr
    assert (tmp_path / "x.parquet").is_file()


def test_a_typed_number_is_checked_by_typer(make_workspace):
    """The control: a value that needs Typer's check gets it (and pydantic with it)."""
    done = probe("segment", "rfm", "-w", str(make_workspace({"transactions.csv": TX})), "--bins", "4")
    assert done.returncode == 0 and done.stderr.strip().splitlines()[-1] == "True", done.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--bins", "9"], "less than or equal to 5"),
    (["--bins", "x"], "valid integer"),
    (["-f", "nope"], "'nope' is not one of"),
    (["--as-of", "2024-13-01"], "does not match the formats"),
    (["--method", "nope"], "'nope' is not one of"),
])
def test_typed_values_keep_typers_messages(make_workspace, args, message):
    result = runner.invoke(app, ["segment", "rfm", "-w", str(make_workspace({"transactions.csv": TX})), *args],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_defaults_and_given_values_reach_the_analysis(make_workspace):
    folder = str(make_workspace({"transactions.csv": TX}))
    default = json.loads(runner.invoke(app, ["segment", "rfm", "-w", folder, "-f", "json"]).stdout)
    assert (default["params"]["bins"], default["params"]["method"], default["params"]["scheme"]) == (5, "rank", "map")
    given = runner.invoke(app, ["segment", "rfm", "-w", folder, "-f", "json", "--bins", "3", "--method", "midrank",
                                "--as-of", "2024-02-15"])
    assert given.exit_code == 0, given.output
    params = json.loads(given.stdout)["params"]
    assert (params["bins"], params["method"], params["as_of"]) == (3, "midrank", "2024-02-15")


def test_a_workspace_path_that_is_a_file_is_still_a_path(make_workspace):
    """-w takes a loyalist.toml too: the path is handed over as a Path either way."""
    folder = make_workspace({"transactions.csv": TX, "loyalist.toml": ""})
    result = runner.invoke(app, ["segment", "rfm", "-w", str(folder / "loyalist.toml"), "-f", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["customer_count"] == 3
