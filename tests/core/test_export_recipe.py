"""Recipes: TOML listing reports, checked in full before anything runs, run into one bundle."""

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from core.errors import AnalysisError, InputError, LoyalistError
from core.export.recipe import load_recipe, output_path, recipe_text, run_recipe
from core.registry import DATE, FLOAT, INT, LIST, TEXT, Analysis, Option
from core.result import Result
from core.workspace import Workspace

TX = "customer_id,order_date,amount\nC1,2024-01-05,10\nC2,2024-02-06,-3\nC1,2024-03-01,12\n"


@pytest.fixture
def fake_kinds(add_analysis):
    """Two made-up analyses; echo records the options it was given (those with a value)."""
    calls = []

    def echo(ws, **options):
        given = {k: v for k, v in options.items() if v is not None}
        calls.append(given)
        table = pl.DataFrame({"k": list(given), "v": list(map(str, given.values()))})
        return Result("test.echo", "Echo", {"options": table}, params=given)

    def broken(ws):
        raise AnalysisError("too little data for this")

    add_analysis(Analysis("test.echo", "Echo", "says what it was given", run=echo, needs=(), options=(
        Option("as_of", DATE), Option("bins", INT, low=2), Option("weight", FLOAT), Option("label", TEXT),
        Option("items", LIST), Option("window_days", INT, flags=("--window",)))))
    add_analysis(Analysis("test.broken", "Broken", "always fails", run=broken, needs=()))
    return calls


def write(tmp_path, text, name="recipe.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_own_options_and_overrides_in_that_order(tmp_path, fake_kinds):
    path = write(tmp_path, """
title = "Monthly"
workspace = "shop"
output = "out/monthly.html"
[defaults]
as_of = 2024-06-30
bins = 4
[[report]]
kind = "test.echo"
[[report]]
kind = "test.echo"
title = "Five bins"
bins = 5
weight = 2
as-of = "2024-05-31"
[[report]]
kind = "data.inspect"
""")
    recipe = load_recipe(path)
    assert recipe.title == "Monthly"
    assert recipe.workspace == tmp_path / "shop" and recipe.output == tmp_path / "out" / "monthly.html"
    first, second, third = recipe.reports
    assert first.options == {"as_of": dt.date(2024, 6, 30), "bins": 4}
    assert second.options == {"as_of": dt.date(2024, 5, 31), "bins": 5, "weight": 2.0}
    assert second.title == "Five bins"
    assert third.options == {}  # defaults go only to reports that take them
    forced = load_recipe(path, overrides={"as_of": dt.date(2024, 7, 31)})
    assert [r.options.get("as_of") for r in forced.reports] == [dt.date(2024, 7, 31)] * 2 + [None]


@pytest.mark.parametrize(("text", "message"), [
    ("", "lists no reports"),
    ('tilte = "x"\n[[report]]\nkind = "data.inspect"', "unknown setting tilte"),
    ('[[report]]\nkind = "data.inspekt"', "unknown kind 'data.inspekt'"),
    ("[[report]]\nbins = 3", "has no kind"),
    ('[[report]]\nkind = "test.echo"\nbinz = 3', r"report 1 \(test.echo\): unknown option binz"),
    ('[[report]]\nkind = "test.echo"\nbins = "three"', "bins must be a whole number"),
    ('[[report]]\nkind = "test.echo"\nbins = true', "bins must be a whole number"),
    ('[[report]]\nkind = "test.echo"\nbins = 1', "bins must be at least 2"),
    ('[[report]]\nkind = "segment.rfm"\nmethod = "mean"', "method must be one of rank, midrank"),
    ('[[report]]\nkind = "test.echo"\nwindow = 3\nwindow_days = 4', "given twice|window"),
    ('[[report]]\nkind = "test.echo"\nas_of = "June"', "as_of must be a date"),
    ('[[report]]\nkind = "data.inspect"\n[[report]]\nkind = "test.echo"\nlabel = 3', "report 2 .*label must be text"),
    ('[defaults]\nbins = [1\n', "not valid TOML"),
    ('title = 3\n[[report]]\nkind = "data.inspect"', "title must be text"),
])
def test_mistakes_are_named_with_a_fix(tmp_path, fake_kinds, text, message):
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=message) as err:
        load_recipe(path)
    assert str(path) in str(err.value) and "Fix:" in str(err.value)


def test_missing_recipe_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_recipe(tmp_path / "nope.toml")


def test_a_recipe_is_data_never_code(tmp_path, fake_kinds):
    # TOML has no way to run code; a string that looks like Python is just a string.
    path = write(tmp_path, '[[report]]\nkind = "test.echo"\nlabel = "__import__(\'os\').system(\'false\')"\n')
    recipe = load_recipe(path)
    assert recipe.reports[0].options["label"] == "__import__('os').system('false')"


def test_runs_reports_on_one_workspace(tmp_path, fake_kinds, make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    path = write(tmp_path, """
[defaults]
as_of = 2024-02-29
[[report]]
kind = "data.inspect"
[[report]]
kind = "data.validate"
title = "Quality"
[[report]]
kind = "test.echo"
items = ["a", "b"]
""")
    recipe = load_recipe(path)
    seen = []
    results, failures = run_recipe(recipe, Workspace.open(folder), on_report=lambda i, s: seen.append((i, s.kind)))
    assert failures == []
    assert seen == [(1, "data.inspect"), (2, "data.validate"), (3, "test.echo")]
    inspect, validate, echo = results
    assert inspect.name == "data.inspect" and inspect.main_table["rows"].to_list() == [3]
    assert validate.title == "Quality" and validate.params["as_of"] == dt.date(2024, 2, 29)
    # the 2024-03-01 order is after the as-of date: the validator must have been given it
    assert "date_after_as_of" in validate.main_table["rule"].to_list()
    assert fake_kinds == [{"as_of": dt.date(2024, 2, 29), "items": ("a", "b")}]
    assert Path(echo.params["workspace"]) == Path(folder)


def test_a_failing_report_stops_the_run_and_is_named(tmp_path, fake_kinds, make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    recipe = load_recipe(write(tmp_path, '[[report]]\nkind = "test.echo"\n[[report]]\nkind = "test.broken"\n'))
    with pytest.raises(LoyalistError, match=r"report 2 \(test.broken\): too little data") as err:
        run_recipe(recipe, Workspace.open(folder))
    assert err.value.exit_code == 1


def test_keep_going_turns_a_failure_into_a_section(tmp_path, fake_kinds, make_workspace):
    folder = make_workspace({"transactions.csv": TX})
    recipe = load_recipe(write(tmp_path, '[[report]]\nkind = "test.broken"\n[[report]]\nkind = "test.echo"\n'))
    results, failures = run_recipe(recipe, Workspace.open(folder), keep_going=True)
    assert failures == ["report 1 (test.broken): too little data for this"]
    assert [r.name for r in results] == ["test.broken", "test.echo"]
    assert results[0].tables == {} and "could not be produced" in results[0].notes[0]


def test_a_flag_spelling_and_defaults_reach_the_option_they_name(tmp_path, fake_kinds):
    # --window is window_days; [defaults] as_of reaches kpi's period end (--as-of) and clv's
    # calibration end (--calibration-end/--as-of), so `export run --as-of` moves them all.
    path = write(tmp_path, """
[defaults]
as_of = 2024-06-30
[[report]]
kind = "test.echo"
window = 14
[[report]]
kind = "report.kpi"
[[report]]
kind = "predict.clv"
""")
    echo, kpi, clv = load_recipe(path).reports
    assert echo.options == {"as_of": dt.date(2024, 6, 30), "window_days": 14}
    assert kpi.options == {"end": dt.date(2024, 6, 30)}
    assert clv.options == {"calibration_end": dt.date(2024, 6, 30)}
    moved = load_recipe(path, overrides={"as_of": dt.date(2024, 7, 31)}).reports
    assert {r.options.get("end") or r.options.get("calibration_end") for r in moved[1:]} == {dt.date(2024, 7, 31)}


def test_files_named_in_a_recipe_are_found_beside_it(tmp_path):
    path = write(tmp_path, '[[report]]\nkind = "scale.score"\nspec = "specs/loyalty.toml"\n')
    assert load_recipe(path).reports[0].options["spec"] == tmp_path / "specs" / "loyalty.toml"


@pytest.mark.parametrize("output", ["../escape.html", "sub/../../escape.html", "/tmp/loyalist-escape.html"])
def test_a_recipe_cannot_write_outside_its_folder(tmp_path, output):
    folder = tmp_path / "recipes"
    folder.mkdir()
    recipe = load_recipe(write(folder, f'output = "{output}"\n[[report]]\nkind = "data.inspect"\n'))
    with pytest.raises(InputError, match="outside the recipe's folder") as err:
        output_path(recipe)
    assert err.value.exit_code == 2 and "--output" in str(err.value)
    given = tmp_path / "elsewhere.html"
    assert output_path(recipe, given) == given  # the user's own path goes anywhere


def test_a_symbolic_link_out_of_the_folder_is_outside_too(tmp_path):
    folder, outside = tmp_path / "recipes", tmp_path / "outside"
    folder.mkdir()
    outside.mkdir()
    (folder / "reports").symlink_to(outside, target_is_directory=True)
    recipe = load_recipe(write(folder, 'output = "reports/monthly.html"\n[[report]]\nkind = "data.inspect"\n'))
    with pytest.raises(InputError, match="outside"):
        output_path(recipe)
    inside = load_recipe(write(folder, 'output = "out/monthly.html"\n[[report]]\nkind = "data.inspect"\n'))
    assert output_path(inside) == (folder / "out" / "monthly.html").resolve()


def test_a_saved_recipe_reads_back_as_the_same_steps(tmp_path, fake_kinds):
    from core.export.recipe import ReportStep

    steps = [ReportStep("test.echo", {"as_of": dt.date(2024, 1, 31), "label": 'say "hi"\n', "items": ("a", "b"),
                                      "weight": 0.5}, title="Échos 回声"),
             ReportStep("report.experiment", {"split": {"control": 50.0, "treatment": 50.0}}),
             ReportStep("data.inspect", {})]
    text = recipe_text("Monthly", steps, output="monthly.html")
    recipe = load_recipe(write(tmp_path, text))
    assert recipe.title == "Monthly" and recipe.output == tmp_path / "monthly.html"
    assert list(recipe.reports) == steps


def test_a_nul_in_a_recipe_output_is_a_clear_error(tmp_path):
    recipe = load_recipe(write(tmp_path, 'output = "monthly\\u0000.html"\n[[report]]\nkind = "data.inspect"\n'))
    with pytest.raises(InputError, match="contains a NUL character") as err:
        output_path(recipe)
    assert err.value.exit_code == 2
