"""`loyalist export run|kinds|init`: any mix of analyses in one HTML report, workbook or
Markdown file, from a recipe.

A recipe is a TOML file listing analyses by kind and options (core.export.recipe), so a
monthly report is one command: `loyalist export run monthly.toml --as-of 2024-06-30`.
The kinds are the registry's (core.registry): every analysis command has one.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from commands.analysis import working
from commands.calls import open_workspace
from commands.options import AsOfOpt, ExitCode, ForceOpt, PseudonymiseOpt, WorkspaceOpt, as_date

app = typer.Typer(no_args_is_help=True)


class BundleFormat(str, Enum):
    html = "html"
    xlsx = "xlsx"
    md = "md"
    json = "json"


@app.command("run")
def run(
    ctx: typer.Context,
    recipe: Annotated[Path, typer.Argument(help="Recipe file (TOML) listing the reports")],
    workspace: WorkspaceOpt = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="File to write (default: the recipe's output, which must be in the recipe's "
        "folder): .html, .xlsx, .md or .json")] = None,
    fmt: Annotated[BundleFormat | None, typer.Option(
        "--format", "-f", help="File format (default: from the output's extension)")] = None,
    as_of: AsOfOpt = None,
    force: ForceOpt = False,
    keep_going: Annotated[bool, typer.Option(
        "--keep-going", help="Write the bundle even if some reports fail (they say why); exit 1")] = False,
    pseudonymise: PseudonymiseOpt = False,
    min_count: Annotated[int | None, typer.Option(
        "--min-count", min=1, help="With --pseudonymise: the smallest group of people shown in an aggregate "
        "table (default: the recipe's min_count, else 10)")] = None,
) -> None:
    """Run every report in a recipe and write them into one file, with contents, each section's
    parameters and the workspace it came from."""
    from commands.output import literal, stderr
    from core.export import bundle_format, check_target, write_bundle
    from core.export.recipe import load_recipe, output_path, run_recipe

    working(ctx)
    plan = load_recipe(recipe, overrides={"as_of": as_date(as_of)})
    target = output_path(plan, output)
    # Fail on the output before the reports run, not after.
    bundle_format(target, fmt.value if fmt else None)
    check_target(target, force=force)
    ws = open_workspace(workspace or plan.workspace)

    def progress(i: int, step) -> None:
        if stderr.is_terminal:
            stderr.print(f"[dim]{i}/{len(plan.reports)} {step.kind}…[/dim]", highlight=False)

    results, failures = run_recipe(plan, ws, keep_going=keep_going, on_report=progress)
    if pseudonymise or plan.pseudonymise:
        from functools import cache

        from core.privacy import load_or_create_key
        from core.privacy import pseudonymise as shareable

        key = cache(lambda: load_or_create_key(ws.root))  # made or read once, when a table has customer ids
        results = [shareable(r, key, min_count or plan.min_count) for r in results]
    path = write_bundle(results, target, title=plan.title, source=str(recipe), force=force,
                        fmt=fmt.value if fmt else None)
    for failure in failures:
        stderr.print(f"[yellow]failed:[/yellow] {literal(failure)}", highlight=False)
    stderr.print(f"wrote {literal(path)} ({len(results)} report{'s' if len(results) != 1 else ''})", highlight=False)
    if failures:
        raise typer.Exit(ExitCode.ANALYSIS_FAILED)


@app.command("kinds")
def kinds() -> None:
    """The analysis kinds a recipe can list, with the options each takes (name = default)."""
    from rich.table import Table

    from commands.output import stdout
    from core.registry import analyses, toml_literal

    table = Table(title="Analysis kinds for recipes", title_justify="left", title_style="bold cyan")
    table.add_column("kind", no_wrap=True)
    table.add_column("options (name = default)")
    table.add_column("what it is")
    for analysis in analyses():
        options = ", ".join(
            f"{o.name} = {toml_literal(o.default)}" if o.default is not None else
            f"{o.name} (required)" if o.required else o.name for o in analysis.options) or "—"
        table.add_row(analysis.kind, options, analysis.description)
    stdout.print(table)


@app.command("init")
def init(
    path: Annotated[Path, typer.Argument(help="Recipe file to write")] = Path("recipe.toml"),
    workspace: WorkspaceOpt = None,
    force: ForceOpt = False,
) -> None:
    """Write a starter recipe listing every kind with its options at their defaults and their help;
    kinds the workspace cannot run are there, commented out, saying why."""
    from commands.output import stderr
    from core.export import safe_write
    from core.export.recipe import starter_recipe
    from core.workspace import Workspace

    text = starter_recipe(Workspace.open(workspace), folder=path.expanduser().parent)
    written = safe_write(path, lambda p: p.write_text(text, encoding="utf-8"), force=force)
    stderr.print(f"wrote {written}; edit it, then run: loyalist export run {written}", highlight=False,
                 markup=False)
