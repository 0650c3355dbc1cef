"""`loyalist export run|kinds|init`: several reports into one HTML report or workbook, from a recipe.

A recipe is a TOML file listing reports by kind and options (core.export.recipe), so a
monthly report is one command: `loyalist export run monthly.toml --as-of 2024-06-30`.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from commands.options import AsOfOpt, ExitCode, ForceOpt, WorkspaceOpt, as_date
from commands.output import stderr, stdout
from core.errors import InputError
from core.export import bundle_format, check_target, safe_write, write_bundle
from core.export.kinds import REPORT_KINDS
from core.export.recipe import Recipe, ReportStep, load_recipe, run_recipe

app = typer.Typer(no_args_is_help=True)


class BundleFormat(str, Enum):
    html = "html"
    xlsx = "xlsx"
    json = "json"
    md = "md"


@app.command("run")
def run(
    recipe: Annotated[Path, typer.Argument(help="Recipe file (TOML) listing the reports")],
    workspace: WorkspaceOpt = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="File to write (default: the recipe's output): .html, .xlsx, .json or .md")] = None,
    fmt: Annotated[BundleFormat | None, typer.Option(
        "--format", "-f", help="File format (default: from the output's extension)")] = None,
    as_of: AsOfOpt = None,
    force: ForceOpt = False,
    keep_going: Annotated[bool, typer.Option(
        "--keep-going", help="Write the bundle even if some reports fail (they say why); exit 1")] = False,
) -> None:
    """Run every report in a recipe and write them into one file."""
    from core.workspace import Workspace

    plan = load_recipe(recipe, overrides={"as_of": as_date(as_of)})
    target = output or plan.output
    if target is None:
        raise InputError("no output file given", file=str(recipe),
                         fix='pass --output FILE.html, or add output = "report.html" to the recipe')
    # Fail on the output before the reports run, not after.
    bundle_format(target, fmt.value if fmt else None)
    check_target(Path(target).expanduser(), force=force)
    ws = Workspace.open(workspace or plan.workspace)
    results, failures = run_recipe(plan, ws, keep_going=keep_going, on_report=_progress(plan))
    path = write_bundle(results, target, title=plan.title, source=str(recipe), force=force,
                        fmt=fmt.value if fmt else None)
    for failure in failures:
        stderr.print(f"[yellow]failed:[/yellow] {failure}", highlight=False)
    stderr.print(f"wrote {path} ({len(results)} report{'s' if len(results) != 1 else ''})", highlight=False)
    if failures:
        raise typer.Exit(ExitCode.ANALYSIS_FAILED)


def _progress(plan: Recipe):
    def report(i: int, step: ReportStep) -> None:
        if stderr.is_terminal:
            stderr.print(f"[dim]{i}/{len(plan.reports)} {step.kind}…[/dim]", highlight=False)
    return report


@app.command("kinds")
def kinds() -> None:
    """The report kinds a recipe can list, with the options each takes."""
    table = Table(title="Report kinds for recipes", title_justify="left", title_style="bold cyan")
    table.add_column("kind")
    table.add_column("options")
    table.add_column("what it is")
    for name in sorted(REPORT_KINDS):
        spec = REPORT_KINDS[name]
        options = ", ".join(f"{o} ({t.__name__})" for o, t in spec.options.items()) or "—"
        table.add_row(name, options, spec.help)
    stdout.print(table)


@app.command("init")
def init(
    path: Annotated[Path, typer.Argument(help="Recipe file to write")] = Path("recipe.toml"),
    force: ForceOpt = False,
) -> None:
    """Write a starter recipe that lists every report kind, ready to edit."""
    text = starter_recipe()
    written = safe_write(path, lambda p: p.write_text(text, encoding="utf-8"), force=force)
    stderr.print(f"wrote {written}; edit it, then run: loyalist export run {written}", highlight=False)


def starter_recipe() -> str:
    lines = [
        "# A Loyalist recipe: the reports to run, written into one file.",
        "# Run it with: loyalist export run THIS_FILE [--as-of YYYY-MM-DD] [--output FILE] [--force]",
        "",
        'title = "Monthly loyalty report"',
        '# workspace = "path/to/workspace"   # relative to this file; --workspace wins',
        'output = "monthly-report.html"      # .html, .xlsx, .json or .md; --output wins',
        "",
        "[defaults]                          # options given to every report that takes them",
        "# as_of = 2024-06-30                # --as-of wins",
    ]
    for name in sorted(REPORT_KINDS):
        spec = REPORT_KINDS[name]
        lines += ["", "[[report]]", f'kind = "{name}"' + (f"    # {spec.help}" if spec.help else "")]
        lines += [f"# {option} = {_example(kind)}" for option, kind in spec.options.items()]
    return "\n".join(lines) + "\n"


def _example(kind: type) -> str:
    return {dt.date: "2024-06-30", int: "5", float: "0.5", str: '"..."', bool: "true", list: '["..."]'}[kind]
