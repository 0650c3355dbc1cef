"""The command line's choices and exit codes, apart from their Typer flags (commands.options)
so the direct path (commands.direct) and the printing (commands.output) never import Typer."""

from __future__ import annotations

from enum import Enum, IntEnum


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


class ExitCode(IntEnum):
    OK = 0
    ANALYSIS_FAILED = 1  # the analysis could not be done (too little data, no convergence)
    BAD_INPUT = 2  # usage error or bad input data


class FileFormat(str, Enum):
    csv = "csv"
    tsv = "tsv"
    parquet = "parquet"
    ndjson = "ndjson"
    json = "json"
    md = "md"
    xlsx = "xlsx"
    html = "html"
