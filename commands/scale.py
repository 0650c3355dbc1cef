"""`loyalist scale init|check|score|validate`: build, check and score a loyalty scale.

check, score and validate are made from the registry (core/registry/catalog/scale.py);
`check` and `validate` also work on any table outside a workspace:
    loyalist scale check --data FILE --items a,b,c [--missing pairwise|listwise] --format json
    loyalist scale validate --data FILE --items a,b,c [--factors 2 --rotation oblimin]
(validate --data: KMO, Bartlett, eigenvalues, loadings; criterion validity needs a workspace).
Its JSON is one object whose top-level keys are the reliability figures (alpha,
alpha_ci [low, high], std_alpha, g6, average_r, n, k, omega_total, split_half_*...),
then one list per table (items: item, n, mean, sd, raw_r, std_r, r_cor, r_drop,
alpha_if_deleted, std_alpha_if_deleted, reverse_keyed, flag; with a spec also weights
and sensitivity), notes and params.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated

import typer

from commands.analysis import KEYWORD, add_analysis_commands, working
from commands.calls import Call, Extra
from commands.options import ForceOpt, WorkspaceOpt
from core.errors import InputError

app = typer.Typer(no_args_is_help=True)

DATA = inspect.Parameter("data", KEYWORD, default=None, annotation=Annotated[Path | None, typer.Option(
    "--data", "-d", help="Check the columns of this table (CSV, Parquet, JSON, XLSX) instead of a workspace")])
ITEMS = inspect.Parameter("items", KEYWORD, default=None, annotation=Annotated[str | None, typer.Option(
    help="Comma-separated item columns for --data (default: every numeric column)")])


def _data_table(call: Call, what: str):
    """--data FILE [--items]: the table to read instead of a workspace, with the item columns
    and the spec; None when neither --data nor (for a workspace run) --spec is the question."""
    data, items, spec = call.extra.pop("data"), call.extra.pop("items"), call.options.get("spec")
    if data is None:
        if spec is None:
            raise InputError(f"nothing to {what}", fix="give --spec FILE (a scale on the workspace) "
                             "or --data FILE [--items a,b,c] (columns of any table)")
        if items is not None:
            raise InputError("--items goes with --data", fix="list the items in the spec instead")
        return None
    from core.scale.readers import read_table

    return read_table(data), data, _item_list(items), spec


def _check_data(call: Call):
    """--data: reliability of a table's columns (with --spec: the spec's items), no workspace."""
    given = _data_table(call, "check")
    if given is None:
        return None
    table, data, items, spec = given
    o = call.options
    if spec is not None:
        from core.scale.build import check
        from core.scale.run import spec_from_file

        result = check(table, spec_from_file(spec, o["missing"]), ci=o["ci"], level=o["level"], n_boot=o["n_boot"],
                       seed=o["seed"])
    else:
        from core.scale.reliability import reliability

        result = reliability(table, items, missing=o["missing"] or "pairwise", ci=o["ci"],
                             level=o["level"], n_boot=o["n_boot"], seed=o["seed"])
    return result.with_params(data=str(data))


def _validate_data(call: Call):
    """--data: factor analysis (KMO, Bartlett, loadings) of a table's columns, no workspace."""
    given = _data_table(call, "validate")
    if given is None:
        return None
    table, data, items, spec = given
    o = call.options
    if spec is not None:
        from core.scale.build import validate
        from core.scale.run import spec_from_file

        result = validate(table, spec_from_file(spec), n_factors=o["factors"], rotation=o["rotation"])
    else:
        from core.scale.validity import efa

        result = efa(table, items, n_factors=o["factors"], rotation=o["rotation"])
    return result.with_params(data=str(data))


def _item_list(items: str | None) -> list[str] | None:
    if items is None:
        return None
    names = [i.strip() for i in items.split(",") if i.strip()]
    if not names:
        raise InputError("--items names no columns", fix="e.g. --items q1,q2,q3")
    return names


add_analysis_commands(app, "scale", {
    "scale.check": Extra(params=(DATA, ITEMS), optional=("spec",), run=_check_data),
    "scale.validate": Extra(params=(DATA, ITEMS), optional=("spec",), run=_validate_data),
})


@app.command("init")
def init(
    ctx: typer.Context,
    workspace: WorkspaceOpt = None,
    spec: Annotated[Path, typer.Option("--spec", "-s", help="Where to write the spec")] = Path("scale.toml"),
    name: Annotated[str, typer.Option(help="The scale's name")] = "Loyalty index",
    force: ForceOpt = False,
) -> None:
    """Write a commented starting spec from the workspace's survey columns and features."""
    from commands.output import literal, stderr
    from core.scale.run import init_text
    from core.workspace import Workspace

    working(ctx)
    if spec.exists() and not force:
        raise InputError("the spec file already exists", file=str(spec),
                         fix="choose another --spec path, or pass --force to overwrite it")
    text = init_text(Workspace.open(workspace), name=name)
    spec.write_text(text, encoding="utf-8")
    items = text.count("\n[[items]]\n")
    stderr.print(f"wrote {literal(spec)} ({items} items); edit it, then run "
                 f"`loyalist scale check --spec {literal(spec)}`")
