"""`segment rfm`'s fixed cost stays small (issue 14): the command loads only what it uses,
collects no garbage while starting up, and collects as usual once its work begins.
Speed itself is measured in bench/imports.py and bench/sidebyside.py."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from commands.app import app

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "fixtures" / "sample"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
runner = CliRunner()

# Runs the command line as `loyalist` does (commands.launch.main) and reports, as JSON on
# stderr: the modules loaded, the collections made from main() until the analysis's work
# began (Polars, Rich and the exporters are imported on the way), and the collector's state
# when the work begins and at the end.
PROBE = """
import gc, json, sys
import commands.calls as calls  # the registry; Polars loads later, in the command
made = {"starting": 0, "working": 0}
during = {}
def count(phase, info):
    if phase == "start":
        made["working" if during else "starting"] += 1
run = calls.Call.run
def watched(self, *args, **kwargs):  # the analysis's work begins
    during.update(enabled=gc.isenabled(), frozen=gc.get_freeze_count())
    return run(self, *args, **kwargs)
calls.Call.run = watched
from commands.launch import main
sys.argv = ["loyalist", *sys.argv[1:]]
gc.callbacks.append(count)
try:
    main()
except SystemExit as exit:
    code = exit.code
print(json.dumps({"modules": sorted(sys.modules), "made": made, "during": during,
                  "enabled_at_end": gc.isenabled(), "code": code}), file=sys.stderr)
"""


def probe(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ROOT, env=ENV, capture_output=True, text=True)
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_segment_rfm_loads_no_model_library_and_no_help_renderer(tmp_path):
    """RFM is Polars alone: none of the libraries the models and reports use, no pydantic
    (commands.lean_parse), and not the parts of Rich only `--help` draws with."""
    seen = probe("segment", "rfm", "-w", str(SAMPLE), "-o", str(tmp_path / "rfm.parquet"))
    assert seen["code"] == 0 and (tmp_path / "rfm.parquet").is_file()
    top = {name.split(".")[0] for name in seen["modules"]}
    assert not top & {"numpy", "pandas", "scipy", "sklearn", "statsmodels", "pyarrow", "pydantic",
                      "markdown_it", "pygments", "textual", "xlsxwriter", "openpyxl"}
    assert not {"rich.markdown", "rich.traceback", "rich.progress", "core.export.html",
                "core.export.workbook", "core.export.charts"} & set(seen["modules"])


def test_no_garbage_is_collected_while_starting_and_collection_resumes_for_the_work(tmp_path):
    seen = probe("segment", "rfm", "-w", str(SAMPLE), "-o", str(tmp_path / "rfm.parquet"))
    assert seen["code"] == 0
    assert seen["made"]["starting"] == 0  # Python's default thresholds: about 80 collections on the way
    assert seen["during"]["enabled"] and seen["during"]["frozen"] > 10_000  # start-up's objects are frozen
    assert seen["enabled_at_end"]


def test_a_command_that_fails_still_says_why(tmp_path):
    seen = probe("segment", "rfm", "-w", str(tmp_path / "missing"))
    assert seen["code"] == 2


def test_other_commands_collect_as_usual(tmp_path):
    """A command that is not an analysis (here `demo`) runs with the collector on."""
    code = """
import gc, sys
import commands.demo
def demo() -> None:
    print(gc.isenabled(), file=sys.stderr)
commands.demo.demo = demo
from commands.launch import main
sys.argv = ["loyalist", "demo"]
try:
    main()
except SystemExit:
    pass
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert done.stderr.strip().splitlines()[-1] == "True", done.stderr


def test_in_process_callers_keep_pythons_collector(tmp_path):
    """Tests and the app run commands in their own process: nothing of theirs is frozen."""
    frozen = gc.get_freeze_count()
    result = runner.invoke(app, ["segment", "rfm", "-w", str(SAMPLE), "-o", str(tmp_path / "rfm.parquet")])
    assert result.exit_code == 0, result.output
    assert gc.isenabled() and gc.get_freeze_count() == frozen
