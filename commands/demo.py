"""`loyalist demo`: write a generated sample workspace with planted, documented truths."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from core.errors import InputError


def demo(
    customers: Annotated[int, typer.Option(min=10, help="Number of customers")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes the same bytes")] = 7,
    out: Annotated[Path, typer.Option(help="Folder to write the workspace into")] = Path("loyalist-demo"),
    file_format: Annotated[str, typer.Option("--file-format", help="csv or parquet")] = "csv",
    force: Annotated[bool, typer.Option("--force", help="Write into a folder that already has files")] = False,
) -> None:
    """Write a realistic, deterministic sample workspace (all six tables)."""
    from commands.output import stderr
    from core.demo import write_workspace

    if file_format not in ("csv", "parquet"):
        raise InputError(f"unknown file format {file_format!r}", fix="use --file-format csv or parquet")
    if out.exists() and any(out.iterdir()) and not force:
        raise InputError("the folder is not empty", file=str(out),
                         fix="choose a new folder, or pass --force to write into it")
    out.mkdir(parents=True, exist_ok=True)
    paths = write_workspace(out, customers=customers, seed=seed, fmt=file_format)
    stderr.print(f"wrote {len(paths)} files to {out}")
