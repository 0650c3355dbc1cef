"""Tables are not wrapped to 80 columns when the output is piped or redirected (scripts read
whole rows); COLUMNS still sets the width, and a terminal keeps its own."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import polars as pl

from commands.output import PIPED_WIDTH, _Console, rich_table

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "fixtures" / "sample"


def piped(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return subprocess.run([sys.executable, "-m", "commands", *args], cwd=ROOT, capture_output=True, text=True, check=False,
                          env={**environ, "PYTHONPATH": str(ROOT), **env}, stdin=subprocess.DEVNULL)


def test_a_piped_segment_table_keeps_each_row_on_one_line():
    done = piped("segment", "rfm", "-w", str(SAMPLE))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(all(word in line for word in ("segment", "customers", "monetary_mean", "rule")) for line in lines)
    potential = next(line for line in lines if "Potential Loyalists" in line)
    assert "R4-5 F2-3" in potential  # the whole row, rule included, on one line
    assert max(map(len, lines)) > 80


def test_columns_still_sets_the_width_of_piped_output():
    done = piped("segment", "rfm", "-w", str(SAMPLE), COLUMNS="80")
    assert done.returncode == 0, done.stderr
    assert max(map(len, done.stdout.splitlines())) <= 80
    assert not any("Potential Loyalists" in line and "R4-5 F2-3" in line for line in done.stdout.splitlines())


def test_a_terminal_or_an_explicit_width_is_kept():
    terminal = _Console(file=io.StringIO(), force_terminal=True, piped_width=PIPED_WIDTH, _environ={})
    assert terminal.width != PIPED_WIDTH
    fixed = _Console(file=io.StringIO(), width=70, piped_width=PIPED_WIDTH)
    assert fixed.width == 70
    out = io.StringIO()
    console = _Console(file=out, piped_width=PIPED_WIDTH, _environ={})
    assert console.width == PIPED_WIDTH
    console.print(rich_table(pl.DataFrame({f"a_rather_long_column_{i}": [i * 1000.5] for i in range(8)})))
    assert all(len(line) < PIPED_WIDTH for line in out.getvalue().splitlines())  # drawn at its own width
    assert len(out.getvalue().splitlines()[1]) > 80
