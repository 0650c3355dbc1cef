"""Options every analysis command shares, declared once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from commands.enums import ExitCode, FileFormat, OutputFormat  # noqa: F401  (declared there, used from here)

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace folder or loyalist.toml "
                 "(default: the current folder if it holds one, else the bundled sample)"),
]
SkipInvalidOpt = Annotated[
    bool, typer.Option("--skip-invalid", help="Leave out rows that break a validation rule, counted in the "
                       "result's notes (on_invalid = \"skip\" for every table)"),
]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="How to print the result")]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Also write the result: .csv/.tsv/.parquet/.ndjson (main table), "
                 ".json (everything), .xlsx (a sheet per table)"),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite --output if it exists")]


PseudonymiseOpt = Annotated[
    bool,
    typer.Option("--pseudonymise", "--pseudonymize",
                 help="Make the output shareable: customer ids become keyed hashes (the key stays in the "
                 "workspace, .loyalist/pseudonym.key), names, emails, phone numbers and addresses are dropped, "
                 "counts of fewer than --min-count people are blanked in aggregate tables"),
]
MinCountOpt = Annotated[
    int,
    typer.Option("--min-count", min=1, help="With --pseudonymise: the smallest group of people shown in an "
                 "aggregate table; smaller counts and their figures are blanked"),
]
FileFormatOpt = Annotated[
    FileFormat | None,
    typer.Option("--output-format", help="Format of --output (default: from its extension)"),
]
AsOfOpt = Annotated[
    dt.datetime | None,
    typer.Option("--as-of", formats=["%Y-%m-%d"],
                 help="Use data dated on or before this day (YYYY-MM-DD) (default: the last transaction date)"),
]


def as_date(value: dt.datetime | None) -> dt.date | None:
    """Typer parses dates as datetimes; analyses take dates."""
    return value.date() if value is not None else None
