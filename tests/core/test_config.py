"""loyalist.toml read strictly: a typo is an error suggesting the right key, never ignored."""

import re
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from commands.app import app
from core.config import ARRAYS, TOP_KEYS, SECTIONS, TABLE_KEYS
from core.errors import InputError
from core.workspace import Workspace

runner = CliRunner()
TX = "customer_id,order_date,amount\nC1,2024-01-05,10\nC2,2024-01-06,20\n"
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("toml, words", [
    # misspelt section, table and keys: the right spelling is suggested
    ('[segment.rfm_map]\nBest = { r = [4, 5], f = [3, 5] }\n', ["unknown section [segment]", "'segments'"]),
    ('[segments.rfm]\nBest = { r = [4, 5], f = [3, 5] }\n', ["'rfm'", "'rfm_map'"]),
    ('[tables.transacions]\nfile = "x.csv"\n', ["'transacions'", "did you mean 'transactions'"]),
    ('[tables.transactions]\ndelimeter = ";"\n', ["'delimeter'", "did you mean 'delimiter'"]),
    ('[tables.transactions]\ndate_fromat = "%d/%m/%Y"\n', ["'date_fromat'", "'date_format'"]),
    # wrong types
    ('[tables.transactions]\nfile = 5\n', ["file in [tables.transactions] must be text", 'file = "']),
    ('[tables.transactions]\ncolumns = "oops"\n', ["columns in [tables.transactions] must be a table",
                                                   "[tables.transactions.columns]"]),
    ('[tables.transactions.columns]\ncustomer_id = 3\n', ["customer_id", "header in quotes"]),
    ('[tables.transactions]\ndecimal = ";"\n', ["decimal", "';'", '"."']),
    ('[tables.survey.ranges]\nnps = [10, 0]\n', ["range of 'nps'", "low below high"]),
    ('[tables.survey.ranges]\n"loy_*" = "1-7"\n', ["range of 'loy_*'", "[low, high]"]),
    ('tables = 3\n', ["[tables] must be a table"]),
    ('time_zone = 1\n', ["time_zone must be text", 'time_zone = "Europe/Berlin"']),
    ('time_zon = "UTC"\n', ["unknown section [time_zon]", "did you mean 'time_zone'"]),
    ('[tables]\ntransactions = "sales.csv"\n', ["[tables.transactions] must be a table"]),
    # predict demand's own holidays
    ('[[holidays]]\nname = "x"\ndate = 2025-08-08\nwhen = 3\n', ["unknown key 'when'", "[[holidays]] number 1"]),
    ('[[holidays]]\nname = "x"\nmonth_day = "13-40"\n', ["month_day of holiday 'x'", '"MM-DD"']),
    ('[[holidays]]\nname = "x"\ndate = "2025-08-08"\n', ["must be a date", "without quotes"]),
    ('[[holidays]]\nname = "x"\n', ["either date or month_day"]),
    ('holidays = 3\n', ["holidays must be a list"]),
    ('[[holiday]]\nname = "x"\n', ["unknown section [holiday]", "did you mean 'holidays'"]),
])
def test_bad_keys_and_types_are_errors_with_the_fix(make_workspace, toml, words):
    folder = make_workspace({"transactions.csv": TX, "loyalist.toml": toml})
    with pytest.raises(InputError) as err:
        Workspace.open(folder)
    message = str(err.value)
    assert "loyalist.toml" in message
    for word in words:
        assert word in message, message


@pytest.mark.parametrize("content, words", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["binary content"]),  # an image saved over it
    ('[tables.transactions]\nfile = "Café.csv"\n'.encode("cp1252"), ["not UTF-8", "0xe9"]),
    (b'[tables.transactions\n', ["not valid TOML", "line 1"]),
])
def test_unreadable_config_is_exit_two(make_workspace, content, words):
    folder = make_workspace({"transactions.csv": TX, "loyalist.toml": content})
    result = runner.invoke(app, ["data", "inspect", "-w", str(folder)])
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output
    for word in words:
        assert word in result.stderr, result.stderr


def test_utf8_with_bom_is_fine(make_workspace):
    folder = make_workspace({"sales.csv": TX, "loyalist.toml": '\ufeff[tables.transactions]\nfile = "sales.csv"\n'})
    assert Workspace.open(folder).sources["transactions"].path.name == "sales.csv"


def test_readme_example_holds_every_declared_key_and_is_accepted(make_workspace):
    """The README's loyalist.toml example is the documentation of every key."""
    text = README.read_text(encoding="utf-8")
    example = re.search(r"`loyalist.toml`:\n\n```toml\n(.*?)```", text, re.S).group(1)
    config = tomllib.loads(example)
    keys = {k for table in config["tables"].values() for k in table}
    assert keys == set(TABLE_KEYS)
    assert set(config) == set(SECTIONS) | set(TOP_KEYS) | set(ARRAYS)
    assert set(config["segments"]) == set(SECTIONS["segments"])
    assert {k for alert in config["alerts"] for k in alert} == set(ARRAYS["alerts"])
