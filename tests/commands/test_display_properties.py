"""Property: whatever text the data holds, every renderer prints it without raising and
without a single control character reaching the output (Hypothesis draws the text from
markup-looking fragments, escape sequences and arbitrary Unicode)."""

import re

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from commands.output import print_result
from core.export.markdown import result_markdown
from core.result import Result

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
FRAGMENTS = st.sampled_from(["[/bold]", "[link=http://x]", "[/]", "[", "]", "\\", "\x1b]0;t\x07", "\x1b[2J",
                             "\x9b31m", "\r", "\r\n", "\n", "\t", "\u202e", "|", "*", "_", "=HYPERLINK(", "`"])
TEXT = st.lists(st.one_of(FRAGMENTS, st.text(max_size=5)), max_size=6).map("".join)


@settings(max_examples=60, deadline=None)
@given(title=TEXT, header=TEXT, values=st.lists(TEXT, min_size=1, max_size=4), note=TEXT, key=TEXT)
def test_no_text_breaks_a_printout_or_reaches_the_terminal_raw(title, header, values, note, key):
    header = header or "h"
    result = Result("t", title, {"t": pl.DataFrame({header: values, "n": list(range(len(values)))})},
                    headline={key or "k": values[0]}, notes=(note,))
    console = Console(record=True, width=100, color_system="truecolor", force_terminal=True)
    with console.capture() as captured:
        print_result(result, console)
    printed = captured.get()
    # Rich's own styling is ESC [ ... m (SGR) only; anything else came from the data.
    assert not CONTROL.search(re.sub(r"\x1b\[[0-9;]*m", "", printed).replace("\n", ""))
    markdown = result_markdown(result)
    assert not CONTROL.search(markdown.replace("\n", ""))
