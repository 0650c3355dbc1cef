"""Recipes: a TOML file (data only, never code) listing analyses to run into one bundle.

    title = "Monthly loyalty report"
    workspace = "../shop"        # optional, relative to this file; --workspace wins
    output = "monthly.html"      # optional, inside this file's folder; --output wins
    pseudonymise = true          # optional: a shareable report (core.privacy); --pseudonymise too
    min_count = 10               # optional: with pseudonymise, the smallest group shown; --min-count wins

    [defaults]                   # given to every report that takes the option
    as_of = 2024-06-30           # --as-of wins over this and over each report's own

    [[report]]
    kind = "segment.rfm"         # any kind of the registry (`loyalist export kinds`)
    bins = 4                     # any option the kind takes, by name or by its CLI flag
    title = "RFM, four bins"     # optional: replaces the report's own title

Option names are the registry's (core.registry), and a CLI flag's spelling works too:
`window = 14` for --window, `as_of` for kpi's --as-of. [defaults] and --as-of reach every
report with an option of that name, e.g. as_of reaches clv's calibration end and kpi's
period end. File options (a scale spec, a paths or segments file) are relative to the
recipe. The recipe's `output` must stay inside its folder (a recipe from someone else
cannot write elsewhere); a path given on the command line may go anywhere.

The whole file is checked (kinds, option names, types, bounds and choices) before any
analysis runs.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import InputError, LoyalistError
from core.export.safe import check_name
from core.registry import PATH, TABLE, Analysis, OptionError, analyses, key_of, run_analysis, toml_literal
from core.registry.model import ANALYSES
from core.result import Result

TOP_KEYS = {"title", "workspace", "output", "defaults", "report", "pseudonymise", "min_count"}
MIN_COUNT = 10  # core.privacy.MIN_COUNT
STEP_KEYS = {"kind", "title"}


@dataclass(frozen=True)
class ReportStep:
    kind: str
    options: dict[str, Any]  # by option name, checked and converted ([defaults] and overrides applied)
    title: str | None = None


@dataclass(frozen=True)
class Recipe:
    path: Path
    title: str
    workspace: Path | None
    output: Path | None  # joined to the recipe's folder (see output_path)
    reports: tuple[ReportStep, ...]
    output_text: str | None = None  # as written in the file
    pseudonymise: bool = False  # write a shareable bundle (core.privacy.pseudonymise)
    min_count: int = MIN_COUNT


def load_recipe(path: str | Path, *, overrides: Mapping[str, Any] | None = None) -> Recipe:
    """Read and check a recipe; `overrides` (e.g. {"as_of": date}) win over the file's options."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InputError("the recipe file does not exist", file=str(path), fix="check the path") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"is not valid TOML ({exc})", file=str(path),
                         fix="see `loyalist export init` for an example") from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", file=str(path), fix="check the path") from None
    return parse_recipe(data, path, overrides=overrides)


def parse_recipe(data: Mapping[str, Any], path: Path, *, overrides: Mapping[str, Any] | None = None) -> Recipe:
    fail = _failer(path)
    unknown = set(data) - TOP_KEYS
    if unknown:
        fail(f"unknown setting {', '.join(sorted(unknown))}", f"the settings are {', '.join(sorted(TOP_KEYS))}")
    steps = data.get("report")
    if not isinstance(steps, list) or not steps:
        fail("lists no reports", 'add one or more [[report]] tables with kind = "..."')
    defaults = _normalise(data.get("defaults", {}), fail, "[defaults]")
    forced = _normalise(overrides or {}, fail, "the command line")
    base = path.parent
    reports = tuple(_step(i, raw, defaults, forced, base, fail) for i, raw in enumerate(steps, 1))
    return Recipe(
        path=path,
        title=_text(data, "title", fail) or path.stem.replace("_", " ").replace("-", " ").capitalize(),
        workspace=base / _text(data, "workspace", fail) if "workspace" in data else None,
        output=base / _text(data, "output", fail) if "output" in data else None,
        reports=reports,
        output_text=data.get("output"),
        **_privacy(data, fail),
    )


def _privacy(data: Mapping[str, Any], fail: Callable[..., Any]) -> dict[str, Any]:
    pseudonymise, min_count = data.get("pseudonymise", False), data.get("min_count", MIN_COUNT)
    if not isinstance(pseudonymise, bool):
        fail(f"pseudonymise must be true or false, got {pseudonymise!r}", "write pseudonymise = true")
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        fail(f"min_count must be a whole number of at least 1, got {min_count!r}", "write min_count = 10")
    return {"pseudonymise": pseudonymise, "min_count": min_count}


def output_path(recipe: Recipe, given: str | Path | None = None) -> Path:
    """Where the bundle goes: a path given on the command line as it is; else the recipe's
    `output`, which must stay inside the recipe's folder."""
    if given is not None:
        return Path(given).expanduser()
    if recipe.output is None:
        raise InputError("no output file given", file=str(recipe.path),
                         fix='pass --output FILE.html, or add output = "report.html" to the recipe')
    check_name(recipe.output)  # a NUL or an overlong name: said before resolving the path
    folder = recipe.path.parent.resolve()
    target = recipe.output.resolve()  # follows "..", absolute paths and symbolic links
    if not target.is_relative_to(folder):
        raise InputError(f"the output {recipe.output_text!r} is outside the "
                         f"recipe's folder ({folder})", file=str(recipe.path),
                         fix=f'name a file in that folder, e.g. output = "{target.name}", or pass --output PATH '
                         "on the command line to write elsewhere")
    return target


def run_recipe(recipe: Recipe, workspace: Any, *, keep_going: bool = False,
               on_report: Callable[[int, ReportStep], None] | None = None) -> tuple[list[Result], list[str]]:
    """Run every report on one opened workspace; returns the results and the failures.

    With keep_going, a report that fails becomes a section saying why, and the others run.
    """
    results, failures = [], []
    for i, step in enumerate(recipe.reports, 1):
        if on_report is not None:
            on_report(i, step)
        try:
            result = run_analysis(step.kind, workspace, step.options)
        except LoyalistError as exc:
            message = f"report {i} ({step.kind}): {exc}"
            if not keep_going:
                error = LoyalistError(message)
                error.exit_code = exc.exit_code  # bad input stays exit 2, a failed analysis exit 1
                raise error from exc
            failures.append(message)
            results.append(_failed(step, exc, workspace))
            continue
        results.append(dataclasses.replace(result, title=step.title) if step.title else result)
    return results, failures


def _failed(step: ReportStep, exc: Exception, workspace: Any) -> Result:
    return Result(name=step.kind, title=step.title or ANALYSES[step.kind].title, tables={},
                  params={"workspace": str(workspace.root), **step.options},
                  notes=(f"This report could not be produced: {exc}",))


def _failer(path: Path) -> Callable[..., Any]:
    def fail(message: str, fix: str) -> None:
        raise InputError(message, file=str(path), fix=fix)
    return fail


def _text(data: Mapping[str, Any], key: str, fail: Callable[..., Any], where: str = "") -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        fail(f"{where}{key} must be text in quotes, got {value!r}", f'write {key} = "..."')
    return value


def _normalise(options: Any, fail: Callable[..., Any], where: str) -> dict[str, Any]:
    if not isinstance(options, Mapping):
        fail(f"{where} must be a table of options", "write [defaults] on its own line, then name = value lines")
    return {key_of(str(k)): v for k, v in options.items()}


def _step(i: int, raw: Any, defaults: dict[str, Any], forced: dict[str, Any], base: Path,
          fail: Callable[..., Any]) -> ReportStep:
    where = f"report {i}: "
    if not isinstance(raw, Mapping):
        fail(f"{where}must be a [[report]] table", 'write [[report]] then kind = "..."')
    kind = raw.get("kind")
    if not isinstance(kind, str) or not kind:
        fail(f'{where}has no kind', 'add kind = "segment.rfm" (see `loyalist export kinds`)')
    analysis = ANALYSES.get(kind)
    if analysis is None:
        fail(f"{where}unknown kind {kind!r}", f"use one of {', '.join(ANALYSES)}")
    where = f"report {i} ({kind}): "
    keys = analysis.keys()
    own = _normalise({k: v for k, v in raw.items() if k not in STEP_KEYS}, fail, where)
    unknown = set(own) - set(keys)
    if unknown:
        takes = ", ".join(o.name for o in analysis.options) or "no options"
        fail(f"{where}unknown option {', '.join(sorted(unknown))}", f"{kind} takes {takes}")
    options: dict[str, Any] = {}
    for layer in ({k: v for k, v in defaults.items() if k in keys}, own,
                  {k: v for k, v in forced.items() if k in keys and v is not None}):
        seen: dict[str, str] = {}
        for key, value in layer.items():
            name = keys[key].name
            if name in seen:
                fail(f"{where}option {name} is given twice, as {seen[name]} and as {key}", "keep one of them")
            seen[name] = key
            options[name] = _convert(analysis, name, value, base, where, fail)
    return ReportStep(kind, options, _text(raw, "title", fail, where))


def _convert(analysis: Analysis, name: str, value: Any, base: Path, where: str, fail: Callable[..., Any]) -> Any:
    option = analysis.option(name)
    try:
        value = option.convert(value)
    except OptionError as exc:
        fail(f"{where}{exc.message}", f"fix {name} in the recipe: {exc.fix}")
    if option.type in (PATH, TABLE) and isinstance(value, Path) and not value.is_absolute():
        value = base / value  # a file named in the recipe is found beside it, wherever it runs
    return value


# -- writing recipes --------------------------------------------------------------------------


def step_of(result: Result, title: str | None = None) -> ReportStep | None:
    """How a recipe reruns a result: its kind and the options its params record that differ
    from the defaults; None when its name is no registered kind (e.g. one customer's history)."""
    analysis = ANALYSES.get(result.name)
    if analysis is None:
        return None
    options = {}
    for option in analysis.options:
        value = result.params.get(option.name)
        if value is None:
            continue
        try:
            value = option.convert(value)
        except OptionError:
            continue  # recorded in another form than the option takes: leave it to its default
        if value != option.default:
            options[option.name] = value
    return ReportStep(result.name, options, title)


HEADER = """\
# A Loyalist recipe: the reports to run, written into one file.
# Run it with: loyalist export run THIS_FILE [--as-of YYYY-MM-DD] [--output FILE] [--force]
# Paths are relative to this file; `output` must stay in its folder (--output may go anywhere).
"""


def recipe_text(title: str, steps: Sequence[ReportStep], *, output: str | None = None,
                workspace: str | None = None) -> str:
    """A recipe that reruns these steps (what the app's "Save as recipe" writes)."""
    lines = [HEADER, f"title = {toml_literal(title)}"]
    if workspace is not None:
        lines.append(f"workspace = {toml_literal(workspace)}")
    if output is not None:
        lines.append(f"output = {toml_literal(output)}")
    for step in steps:
        analysis = ANALYSES[step.kind]
        lines += ["", "[[report]]", f"kind = {toml_literal(step.kind)}    # {analysis.title}"]
        if step.title:
            lines.append(f"title = {toml_literal(step.title)}")
        lines += [f"{name} = {toml_literal(value)}" for name, value in step.options.items() if value is not None]
    return "\n".join(lines) + "\n"


def starter_recipe(workspace: Any = None, *, folder: Path | None = None) -> str:
    """Every kind with every option written out at its default and its help as a comment.

    With a workspace, a kind it cannot run (a table missing) is there but commented out,
    saying why; so are the scale kinds while no scale.toml sits in `folder`, and the
    experiment plan, which needs a baseline and a lift.
    """
    lines = [HEADER.rstrip("\n"),
             "# Every option is written at its default; delete a [[report]] block to leave it out.",
             "", 'title = "Monthly loyalty report"',
             '# workspace = "path/to/workspace"   # relative to this file; --workspace wins',
             'output = "monthly-report.html"      # .html, .xlsx, .md or .json; --output wins',
             "", "[defaults]                          # options given to every report that takes them",
             "# as_of = 2024-06-30                # --as-of wins"]
    group = None
    for analysis in analyses():
        if analysis.group != group:
            group = analysis.group
            lines += ["", f"# == {group} " + "=" * (60 - len(group))]
        reason = _cannot_run(analysis, workspace, folder)
        block = [("[[report]]", ""), (f"kind = {toml_literal(analysis.kind)}", analysis.description)]
        for option in analysis.options:
            if analysis.kind.startswith("scale.") and option.name == "spec":
                block.append(('spec = "scale.toml"', _help(option)))
            elif option.required or option.default is not None:
                value = option.example() if option.required else toml_literal(option.default)
                block.append((f"{option.name} = {value}", _help(option)))
            else:  # None: the analysis decides; an example, commented out
                block.append((f"# {option.name} = {option.example()}", _help(option)))
        lines.append("")
        if reason:  # every line commented once more: removing the first "# " of each line restores it
            lines.append(f"# Left out: {reason}. To include it, remove the first # of each line below.")
            block = [(f"# {code}", note) for code, note in block]
        lines += [f"{code:<35} # {note}" if note else code for code, note in block]
    return "\n".join(lines) + "\n"


def _help(option: Any) -> str:
    text = option.described()
    if option.type == "choice":
        text = f"{' | '.join(option.choices)}: {text}"
    if option.low is not None or option.high is not None:
        low = "" if option.low is None else f"{option.low:g}"
        high = "" if option.high is None else f"{option.high:g}"
        text += f" [{low}..{high}]"
    return text


def _cannot_run(analysis: Analysis, workspace: Any, folder: Path | None) -> str | None:
    if analysis.kind.startswith("scale."):
        if folder is None or not (folder / "scale.toml").is_file():
            return "it needs a scale spec; write one with `loyalist scale init --spec scale.toml`"
    elif any(o.required for o in analysis.options):
        return f"it needs {', '.join(o.name for o in analysis.options if o.required)}"
    if workspace is not None:
        needs, _ = analysis.tables({o.name: o.default for o in analysis.options})
        missing = [t for t in needs if not workspace.has(t)]
        if missing:
            return f"this workspace has no {' or '.join(missing)} table"
    return None
