"""`loyalist ... | head`: when the reader stops early the command ends quietly with exit 0.

Run as a real process whose stdout is a pipe with its reading end already closed, so the
first write fails with EPIPE exactly as it does after `head` exits.
"""

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

ORDERS = "Customer,Order Date,Total\n" + "".join(f"C{i:04d},2024-0{1 + i % 9}-1{i % 10},{10 + i}.50\n"
                                                  for i in range(300))


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_a_closed_pipe_ends_the_command_quietly_with_exit_0(make_workspace, fmt):
    folder = make_workspace({"transactions.csv": ORDERS})
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-m", "commands", "segment", "rfm", "-w", str(folder), "-f", fmt],
                              cwd=ROOT, stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120,
                              env={**os.environ, "COLUMNS": "120"})
    finally:
        os.close(write_end)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no "internal error", no "Exception ignored ... BrokenPipeError"
