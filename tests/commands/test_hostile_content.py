"""Values and headers from the data are shown literally: never markup, never terminal control.

The inputs are shaped like a Shopify order export whose free-text columns carry Rich
markup (`[/bold]`, `[link=...]`) and raw escape sequences (OSC 0 sets the window title,
CSI 2J clears the screen), as pasted notes and scraped campaign names do.
"""

import re

import polars as pl
from typer.testing import CliRunner

from commands.app import app
from core.export import write_result
from core.result import Result

runner = CliRunner()
SET_TITLE = "\x1b]0;owned\x07"
CLEAR = "\x1b[2J"
ORDERS = ("Order ID,Customer,Created at,Total,Source,[bold]Notes[/bold]\n"
          f"#1001,ana@example.com,2024-01-10,100.00,web,{SET_TITLE}hi\n"
          "#1002,ben@example.com,2024-01-12,50.00,[/bold],[link=http://evil.example]click[/link]\n"
          f"#1003,ben@example.com,2024-02-20,70.00,{CLEAR}store,ok\n")


def invoke(*args):
    return runner.invoke(app, list(args), env={"COLUMNS": "250"})


def test_markup_in_values_is_printed_as_text_not_parsed(make_workspace):
    folder = make_workspace({"transactions.csv": ORDERS})
    result = invoke("report", "channels", "-w", str(folder))
    assert result.exit_code == 0, result.output
    assert "[/bold]" in result.stdout  # shown as typed, not a MarkupError
    assert "\x1b]8;" not in result.stdout  # no hyperlink escape sequence


def test_markup_headers_and_control_characters_never_reach_the_terminal(make_workspace):
    folder = make_workspace({"transactions.csv": ORDERS})
    result = invoke("data", "inspect", "-w", str(folder))
    assert result.exit_code == 0, result.output
    assert "[bold]Notes[/bold]" in result.stdout.replace("\n", "")
    channels = invoke("report", "channels", "-w", str(folder))
    assert channels.exit_code == 0, channels.output
    assert "\x1b" not in channels.stdout  # neither the title nor the clear-screen sequence
    assert "␛[2Jstore" in channels.stdout.replace("\n", "").replace(" ", "").replace("│", "")


def test_an_error_naming_a_hostile_value_prints_it_literally(make_workspace):
    # The file name is the user's; the error line quotes it.
    folder = make_workspace({"transactions.csv": ORDERS})
    target = folder / "[red]x\x1b[2J.csv"
    target.write_text("taken", encoding="utf-8")
    result = invoke("report", "channels", "-w", str(folder), "--output", str(target))
    assert result.exit_code == 2
    assert "[red]x␛[2J.csv" in result.stderr and "already exists" in result.stderr
    assert "\x1b" not in result.stderr


def test_notes_with_markup_are_printed_literally(make_workspace, add_analysis):
    from commands.output import print_result
    from rich.console import Console

    console = Console(record=True, width=120, color_system=None)
    hostile = Result("t", "Report [bold]x", {"[red]t": pl.DataFrame({"[i]c": ["[/]\x9b31m"]})},
                     headline={"[b]k": "[/b]"}, notes=("column [link=x]y[/link] was empty",))
    print_result(hostile, console)
    text = console.export_text()
    for literal in ("Report [bold]x", "[red]t", "[i]c", "[/]\ufffd31m", "[b]k", "[/b]",
                    "note: column [link=x]y[/link] was empty"):
        assert literal in text


def test_markdown_report_replaces_control_characters_and_keeps_markup_inert(tmp_path):
    df = pl.DataFrame({"[x](http://e)": [f"{SET_TITLE}name", "a\u202eb", "line\r\nbreak"]})
    path = write_result(Result("t", "T", {"notes": df}), tmp_path / "out.md")
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202a-\u202e]", text)
    assert r"\[x\](http://e)" in text  # a link only in looks
    assert r"␛\]0;owned␇name" in text and "line<br>break" in text


def test_a_recipe_output_name_with_escape_sequences_is_reported_literally(make_workspace, tmp_path):
    folder = make_workspace({"transactions.csv": ORDERS})
    recipe = tmp_path / "monthly.toml"
    recipe.write_text(f'output = "report\\u001b[2J.html"\nworkspace = "{folder}"\n'
                      '[[report]]\nkind = "data.inspect"\n', encoding="utf-8")
    result = invoke("export", "run", str(recipe))
    assert result.exit_code == 0, result.output
    assert "report␛[2J.html" in result.stderr and "\x1b" not in result.stderr
