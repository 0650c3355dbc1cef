"""`loyalist report channels|attribution|experiment|campaign|program|nps|cohorts|kpi`.

The commands are made from the registry (core/registry/catalog/report.py): each opens the
workspace, runs one report from core.evaluate (the registry names any table it needs and
lacks before it starts) and prints the Result. `report experiment --plan` plans an
experiment instead (the registry's report.experiment.plan; no workspace needed).

JSON (`--format json`) is one object with stable keys:
- name, title, notes (list), params (object);
- every headline figure at the top level (e.g. nps, nps_ci for `report nps`);
- one list of row objects per table, named after the table (e.g. channels for
  `report attribution`, variants and comparisons for `report experiment`). Where a row
  has X_ci_low and X_ci_high it also has X_ci = [low, high] (diff_ci, nps_ci, ...).
Tables and their columns per report are listed in core/evaluate/__init__.py.
"""

from __future__ import annotations

import inspect
from typing import Annotated

import typer

from commands.analysis import KEYWORD, add_analysis_commands
from commands.calls import Call, Extra, cli_value
from core.registry import get

app = typer.Typer(no_args_is_help=True, help="Evaluation reports: channels, attribution, experiments, "
                  "campaigns, loyalty program, NPS, cohorts and a KPI overview.")

PLAN = "report.experiment.plan"
PLAN_FLAG = inspect.Parameter("plan", KEYWORD, default=False, annotation=Annotated[bool, typer.Option(
    "--plan", help="Plan an experiment instead: units needed, power and minimum detectable effect "
    "(no workspace needed)")])


def _plan_or_experiment(call: Call):
    if not call.extra.pop("plan"):
        return None
    options = {o.name: cli_value(o, call.extra.get(o.name)) for o in get(PLAN).options}
    return call.run(PLAN, options)


add_analysis_commands(app, "report", {
    "report.experiment": Extra(params=(PLAN_FLAG,), borrow=PLAN, borrow_prefix="--plan: ", run=_plan_or_experiment),
})
