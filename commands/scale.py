"""`loyalist scale init|check|score|validate`: build, check and score a loyalty scale.

`check` also works on any table outside a workspace:
    loyalist scale check --data FILE --items a,b,c [--missing pairwise|listwise] --format json
Its JSON is one object whose top-level keys are the reliability figures (alpha,
alpha_ci [low, high], std_alpha, g6, average_r, n, k, omega_total, split_half_*...),
then one list per table (items: item, n, mean, sd, raw_r, std_r, r_cor, r_drop,
alpha_if_deleted, std_alpha_if_deleted, reverse_keyed, flag; with a spec also weights
and sensitivity), notes and params.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from commands.options import FileFormatOpt, AsOfOpt, ForceOpt, FormatOpt, OutputFormat, OutputOpt, WorkspaceOpt, as_date
from commands.output import emit, stderr
from core.errors import InputError

app = typer.Typer(no_args_is_help=True)


class Missing(str, Enum):
    pairwise = "pairwise"
    listwise = "listwise"
    impute_median = "impute_median"


class Interval(str, Enum):
    feldt = "feldt"
    bootstrap = "bootstrap"


SpecOpt = Annotated[Path, typer.Option("--spec", "-s", help="Scale spec (TOML); `loyalist scale init` writes one")]


def _workspace(path: Path | None):
    from core.workspace import Workspace

    return Workspace.open(path)


def _spec(path: Path, missing: Missing | None = None):
    from core.scale.spec import load_spec

    spec = load_spec(path)
    return dataclasses.replace(spec, missing=missing.value) if missing else spec


@app.command("init")
def init(
    workspace: WorkspaceOpt = None,
    spec: Annotated[Path, typer.Option("--spec", "-s", help="Where to write the spec")] = Path("scale.toml"),
    name: Annotated[str, typer.Option(help="The scale's name")] = "Loyalty index",
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """Write a commented starting spec from the workspace's survey columns and features."""
    from core.scale.run import init_text

    if spec.exists() and not force:
        raise InputError("the spec file already exists", file=str(spec),
                         fix="choose another --spec path, or pass --force to overwrite it")
    text = init_text(_workspace(workspace), name=name)
    spec.write_text(text, encoding="utf-8")
    items = text.count("\n[[items]]\n")
    stderr.print(f"wrote {spec} ({items} items); edit it, then run "
                 f"`loyalist scale check --spec {spec}`")


@app.command("check")
def check(
    spec: Annotated[Path | None, typer.Option("--spec", "-s", help="Scale spec (TOML)")] = None,
    data: Annotated[Path | None, typer.Option("--data", "-d", help="Check the columns of this table "
                    "(CSV, Parquet, JSON, XLSX) instead of a workspace")] = None,
    items: Annotated[str | None, typer.Option(help="Comma-separated item columns for --data "
                     "(default: every numeric column)")] = None,
    missing: Annotated[Missing | None, typer.Option(help="Missing-data policy "
                       "(default: the spec's, else pairwise)")] = None,
    ci: Annotated[Interval, typer.Option(help="Confidence interval for alpha")] = Interval.feldt,
    level: Annotated[float, typer.Option(min=0.5, max=0.999, help="Confidence level")] = 0.95,
    n_boot: Annotated[int, typer.Option(min=100, help="Bootstrap resamples (with --ci bootstrap)")] = 1000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed")] = 0,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """Reliability (alpha with CI, item-total, alpha if deleted, omega), weights and sensitivity."""
    if spec is None and data is None:
        raise InputError("nothing to check", fix="give --spec FILE (a scale on the workspace) "
                         "or --data FILE [--items a,b,c] (columns of any table)")
    if data is not None:
        from core.scale.readers import read_table

        table = read_table(data)
        if spec is not None:
            from core.scale.build import check as check_spec

            result = check_spec(table, _spec(spec, missing), ci=ci.value, level=level,
                                n_boot=n_boot, seed=seed)
        else:
            from core.scale.reliability import reliability

            result = reliability(table, _item_list(items), missing=(missing or Missing.pairwise).value,
                                 ci=ci.value, level=level, n_boot=n_boot, seed=seed)
            result = result.with_params(data=str(data))
    else:
        if items is not None:
            raise InputError("--items goes with --data", fix="list the items in the spec instead")
        from core.scale.run import run_check

        ws = _workspace(workspace)
        result = run_check(ws, _spec(spec, missing), as_of=as_date(as_of),
                           ci=ci.value, level=level, n_boot=n_boot, seed=seed)
        result = result.with_params(workspace=str(ws.root))
    emit(result, fmt, output, force, file_format=file_format)


def _item_list(items: str | None) -> list[str] | None:
    if items is None:
        return None
    names = [i.strip() for i in items.split(",") if i.strip()]
    if not names:
        raise InputError("--items names no columns", fix="e.g. --items q1,q2,q3")
    return names


@app.command("score")
def score(
    spec: SpecOpt,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """0–100 score and tier per customer; --output scores.csv writes customer_id, each
    normalised item, score and tier."""
    from core.scale.run import run_score

    ws = _workspace(workspace)
    result = run_score(ws, _spec(spec), as_of=as_date(as_of)).with_params(workspace=str(ws.root))
    # On a terminal the summary matters; the per-customer scores go to --output or csv.
    emit(result, fmt, output, force, file_format=file_format, hide_on_terminal=("scores",))


@app.command("validate")
def validate(
    spec: SpecOpt,
    factors: Annotated[int | None, typer.Option(min=1, help="Number of factors "
                       "(default: eigenvalues above 1)")] = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """Item correlations, factor analysis (KMO, Bartlett, varimax loadings) and criterion
    validity: AUC and buying rate by score decile over the spec's outcome_days."""
    from core.scale.run import run_validate

    ws = _workspace(workspace)
    result = run_validate(ws, _spec(spec), as_of=as_date(as_of), n_factors=factors).with_params(workspace=str(ws.root))
    emit(result, fmt, output, force, file_format=file_format)
