"""`loyalist report channels|attribution|experiment|campaign|program|nps|cohorts|kpi`.

Each command opens the workspace, runs one report from core.evaluate (which names any
table it needs and lacks) and prints the Result.

JSON (`--format json`) is one object with stable keys:
- name, title, notes (list), params (object);
- every headline figure at the top level (e.g. nps, nps_ci for `report nps`);
- one list of row objects per table, named after the table (e.g. channels for
  `report attribution`, variants and comparisons for `report experiment`). Where a row
  has X_ci_low and X_ci_high it also has X_ci = [low, high] (diff_ci, nps_ci, ...).
Tables and their columns per report are listed in core/evaluate/__init__.py.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from commands.options import FileFormat, FileFormatOpt, AsOfOpt, ForceOpt, FormatOpt, OutputFormat, OutputOpt, WorkspaceOpt, as_date
from commands.output import check_output, emit
from core.errors import InputError
from core.result import Result

app = typer.Typer(no_args_is_help=True, help="Evaluation reports: channels, attribution, experiments, "
                  "campaigns, loyalty program, NPS, cohorts and a KPI overview.")

ConfidenceOpt = Annotated[float, typer.Option("--confidence", min=0.5, max=0.999,
                                              help="Confidence level of intervals and tests")]
FromOpt = Annotated[dt.datetime | None, typer.Option("--from", formats=["%Y-%m-%d"],
                                                     help="First day to include (YYYY-MM-DD)")]


class Period(str, Enum):
    month = "month"
    week = "week"


class Interval(str, Enum):
    wald = "wald"
    adjusted_wald = "adjusted-wald"


class Comparison(str, Enum):
    future_members = "future_members"
    non_members = "non_members"


def run(name: str, workspace: Path | None, fmt: OutputFormat, output: Path | None, force: bool,
        file_format: FileFormat | None, **options: Any) -> None:
    from core.evaluate import run_report
    from core.workspace import Workspace

    check_output(output, force)
    show(run_report(name, Workspace.open(workspace), **options), fmt, output, force, file_format)


def show(result: Result, fmt: OutputFormat, output: Path | None, force: bool,
         file_format: FileFormat | None = None) -> None:
    emit(result, fmt, output, force, file_format=file_format)


def csv_list(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(t.strip() for t in text.split(",") if t.strip())


def parse_split(text: str | None) -> dict[str, float] | None:
    """control=50,treatment=50 -> {"control": 50.0, "treatment": 50.0}."""
    if text is None:
        return None
    split = {}
    for part in csv_list(text) or ():
        variant, sep, weight = part.partition("=")
        try:
            split[variant.strip()] = float(weight)
        except ValueError:
            sep = ""
        if not sep or not variant.strip():
            raise InputError(f"cannot read the planned split {text!r}",
                             fix="give variant=weight pairs, e.g. --split control=50,treatment=50")
    return split


@app.command("channels")
def channels(
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    window: Annotated[int, typer.Option(min=1, help="Days after a touch in which a purchase counts "
                                        "as its conversion")] = 30,
    confidence: ConfidenceOpt = 0.95,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """Per channel customers, orders, revenue, AOV, repeat and conversion rates, CAC and ROI;
    single- against multi-channel customers; channel overlap; reach/engagement/conversion.

    Needs transactions (with channel); uses customers, touchpoints, survey and campaigns."""
    run("channels", workspace, fmt, output, force, file_format, as_of=as_date(as_of), window_days=window,
        confidence=confidence)


@app.command("attribution")
def attribution(
    workspace: WorkspaceOpt = None,
    paths: Annotated[Path | None, typer.Option(help="Aggregated paths file instead of touchpoints: "
                                               "columns path ('a > b'), conversions, optional nulls, value")] = None,
    lookback: Annotated[int, typer.Option(min=1, help="Days before a purchase whose touchpoints are on its path")] = 30,
    half_life: Annotated[float, typer.Option(min=0.01, help="Time decay: days for a touch's weight to halve")] = 7.0,
    order: Annotated[int, typer.Option(min=1, max=4, help="Markov chain order")] = 1,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """Conversions and value credited to channels by first touch, last touch, linear, time
    decay, position based (40/20/40) and Markov chain (removal effects, solved exactly).

    Needs touchpoints and transactions, or --paths."""
    frame = None
    if paths is not None:
        from core.readers import scan_file

        frame = scan_file(paths)
    run("attribution", workspace, fmt, output, force, file_format, paths=frame, lookback_days=lookback,
        half_life_days=half_life, markov_order=order, as_of=as_date(as_of))


@app.command("experiment")
def experiment(
    workspace: WorkspaceOpt = None,
    name: Annotated[str | None, typer.Option("--experiment", "-e", help="Experiment to read (default: all)")] = None,
    control: Annotated[str | None, typer.Option(help="Control variant (default: control/A/holdout, else "
                                                "the first)")] = None,
    split: Annotated[str | None, typer.Option(help="Planned split for the sample-ratio check, e.g. "
                                              "control=50,treatment=50 (default: equal)")] = None,
    window: Annotated[int, typer.Option(min=1, help="Days after exposure counted when outcomes come "
                                        "from transactions")] = 30,
    confidence: ConfidenceOpt = 0.95,
    plan: Annotated[bool, typer.Option("--plan", help="Plan an experiment instead: units needed, power "
                                       "and minimum detectable effect (no workspace needed)")] = False,
    baseline: Annotated[float | None, typer.Option(help="--plan: the control's conversion rate, e.g. 0.05")] = None,
    lift: Annotated[float | None, typer.Option(help="--plan: lift to detect, relative (0.1 = +10%)")] = None,
    absolute: Annotated[bool, typer.Option(help="--plan: --lift is in rate points (0.01 = +1 point)")] = False,
    alpha: Annotated[float, typer.Option(help="--plan: significance level (two-sided)")] = 0.05,
    power: Annotated[float, typer.Option(help="--plan: chance of detecting the lift")] = 0.8,
    ratio: Annotated[float, typer.Option(help="--plan: variant units per control unit")] = 1.0,
    units: Annotated[int | None, typer.Option(help="--plan: control units you can get (gives power "
                                              "and the minimum detectable effect)")] = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """Per variant units, conversions, rate and revenue per unit; each variant against the
    control with intervals, z-test, Welch t-test, Holm correction and a sample-ratio check.

    Needs experiments; uses transactions (outcomes after exposure) and campaigns (to leave
    campaign holdouts to `report campaign`). --plan needs nothing."""
    if plan:
        if baseline is None or lift is None:
            raise InputError("--plan needs --baseline and --lift", fix="e.g. --plan --baseline 0.05 --lift 0.1")
        from core.evaluate.plan import plan as make_plan

        show(make_plan(baseline, lift, relative=not absolute, alpha=alpha, power_target=power, ratio=ratio,
                       units=units), fmt, output, force, file_format)
        return
    run("experiment", workspace, fmt, output, force, file_format, experiment=name, control=control,
        split=parse_split(split), confidence=confidence, window_days=window, as_of=as_date(as_of))


@app.command("campaign")
def campaign(
    workspace: WorkspaceOpt = None,
    campaign_id: Annotated[str | None, typer.Option("--campaign", "-c", help="One campaign_id (default: all)")] = None,
    as_of: AsOfOpt = None,
    confidence: ConfidenceOpt = 0.95,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """Revenue and orders before, during and after each campaign; incremental revenue against
    the holdout (or matched untouched customers), ROI against spend, new members.

    Needs campaigns and transactions; uses experiments, touchpoints and customers."""
    run("campaign", workspace, fmt, output, force, file_format, campaign_id=campaign_id, as_of=as_date(as_of),
        confidence=confidence)


@app.command("program")
def program(
    workspace: WorkspaceOpt = None,
    cost: Annotated[float | None, typer.Option(help="Yearly program cost, for the ROI")] = None,
    post_days: Annotated[int, typer.Option(min=7, help="Days after joining in which spend is compared")] = 60,
    comparison: Annotated[Comparison, typer.Option(help="Who members are matched with")] = Comparison.future_members,
    as_of: AsOfOpt = None,
    confidence: ConfidenceOpt = 0.95,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """Loyalty-program members against non-members: participation, spend, frequency, retention,
    CLV; lift raw and after matching on behaviour before joining; ROI with --cost.

    Needs transactions and customers (is_member, member_since); uses survey."""
    run("program", workspace, fmt, output, force, file_format, program_cost=cost, post_days=post_days,
        comparison=comparison.value, as_of=as_date(as_of), confidence=confidence)


@app.command("nps")
def nps(
    workspace: WorkspaceOpt = None,
    by: Annotated[str | None, typer.Option(help="Breakdowns, comma-separated survey or customer columns, "
                                           "'channel' or 'month' (default: segment-like columns present)")] = None,
    method: Annotated[Interval, typer.Option(help="NPS interval method")] = Interval.wald,
    min_responses: Annotated[int, typer.Option(min=1, help="Groups with fewer answers are flagged "
                                               "small_sample")] = 30,
    since: FromOpt = None,
    as_of: AsOfOpt = None,
    confidence: ConfidenceOpt = 0.95,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """NPS with its interval, promoters/passives/detractors, CSAT and other scores, by
    segment, channel and month.

    Needs survey (nps); uses customers and transactions for the breakdowns."""
    run("nps", workspace, fmt, output, force, file_format, by=csv_list(by), method=method.value,
        min_responses=min_responses, since=as_date(since), as_of=as_date(as_of), confidence=confidence)


@app.command("cohorts")
def cohorts(
    workspace: WorkspaceOpt = None,
    period: Annotated[Period, typer.Option(help="Cohort and period length")] = Period.month,
    periods: Annotated[int | None, typer.Option(min=1, help="Show at most this many periods after the first")] = None,
    since: FromOpt = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """Acquisition cohorts x periods since first purchase: customer and revenue retention.

    Needs transactions."""
    run("cohorts", workspace, fmt, output, force, file_format, period=period.value, max_periods=periods,
        since=as_date(since), as_of=as_date(as_of))


@app.command("kpi")
def kpi(
    workspace: WorkspaceOpt = None,
    since: FromOpt = None,
    as_of: AsOfOpt = None,
    days: Annotated[int, typer.Option(min=1, help="Period length when --from is not given")] = 30,
    fmt: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    force: ForceOpt = False,
    file_format: FileFormatOpt = None,
) -> None:
    """Brand, customer and sales KPIs for a period (--from .. --as-of, or the last --days)
    against the period before: customers, CAC, CLV, retention, churn, AOV, revenue, growth.

    Needs transactions; uses customers, touchpoints and survey."""
    run("kpi", workspace, fmt, output, force, file_format, start=as_date(since), end=as_date(as_of), days=days)
