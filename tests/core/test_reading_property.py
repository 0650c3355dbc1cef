"""Property: any mixture of real-world file quirks reads right, or fails with a clear error.

Generated transaction files mix encodings, delimiters, line ends, decimal conventions and
odd amounts. Whatever the mixture, `data inspect` and `report kpi` never end in
`internal error`, exit only with 0, 1 or 2, and print only finite or missing figures.
"""

import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from commands.app import app
from core.errors import InputError
from core.workspace import Workspace

runner = CliRunner()

AMOUNTS = ["12.50", "12,50", "1,234", "1.234", "1.234,50", "1,234.50", "¥1,000", "(12.00)", "-5",
           "7", "N/A", "", "1e3", "12,5,0", "€ 3,99", "0,125"]
LATIN = ["Müller", "Zürich", "Crème", "São Paulo", "Köln", "plain"]
CHINESE = ["北京", "门店", "王先生", "plain"]


@st.composite
def transaction_files(draw):
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "gb18030", "cp1252"]))
    words = LATIN if encoding == "cp1252" else draw(st.sampled_from([LATIN, CHINESE, LATIN + CHINESE]))
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    header = ["customer_id", "order_date", "amount", "city"]
    if draw(st.booleans()) and draw(st.booleans()):
        header.append("amount")  # a duplicate header now and then
    rows = draw(st.lists(st.tuples(st.sampled_from(AMOUNTS), st.sampled_from(words)), min_size=1, max_size=30))
    lines = [sep.join(header)]
    for i, (amount, word) in enumerate(rows):
        cells = [f"C{i % 7}", f"2024-01-{i % 28 + 1:02d}", amount, word] + [amount] * (len(header) - 4)
        lines.append(sep.join(f'"{c}"' if sep in c else c for c in cells))
    return (eol.join(lines) + eol).encode(encoding), [word for _, word in rows]


def finite_or_missing(value) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(finite_or_missing(v) for v in value.values())
    if isinstance(value, list):
        return all(finite_or_missing(v) for v in value)
    return True


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(generated=transaction_files())
def test_odd_files_read_right_or_fail_clearly(make_workspace, generated):
    data, cities = generated
    folder = make_workspace({"transactions.csv": data})
    for args in (["data", "inspect"], ["report", "kpi"]):
        result = runner.invoke(app, [*args, "-w", str(folder), "--format", "json"])
        assert result.exit_code in (0, 1, 2), (args, result.output)
        assert "internal error" not in result.output and "Traceback" not in result.output
        if result.exit_code == 0:
            assert finite_or_missing(json.loads(result.stdout)), result.stdout
        else:
            assert "Fix:" in result.stderr or result.exit_code == 1, result.stderr
    try:
        read = Workspace.open(folder).scan_raw("transactions").select("city").collect()
    except InputError:
        return  # refused, with the fix (checked above)
    assert read["city"].to_list() == cities  # text is the text written: no mojibake
