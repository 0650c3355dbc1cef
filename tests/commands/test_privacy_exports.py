"""`--pseudonymise` on exports (issue 13, shareable exports), on a shop exported from Shopify:
customer ids are the buyers' emails, orders carry billing names, phones and addresses.

Written files are read back with independent readers (csv, openpyxl, html.parser, pyarrow)."""

from __future__ import annotations

import collections
import csv
import hashlib
import hmac
import json
import random
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from commands.app import app

openpyxl = pytest.importorskip("openpyxl")
pq = pytest.importorskip("pyarrow.parquet")

runner = CliRunner()
FIRST = ["Zoe", "Amara", "Henrik", "Mei", "Tomasz", "Priya", "Lucas", "Ines"]
LAST = ["Okonkwo", "Wainwright", "Haraldsen", "Xiangyu", "Kowalczyk", "Raghunathan", "Delacroix", "Marquesa"]
PEOPLE = [(FIRST[i % 8], LAST[(i * 3 + i // 8) % 8], f"{FIRST[i % 8].lower()}.{i}@example.com",
           f"+44 20 7946 {i:04d}", f"{i + 1} Wharf Street") for i in range(40)]
CONFIG = """[tables.transactions.columns]
customer_id = "Email"
order_date = "Created at"
amount = "Total"
order_id = "Name"
[tables.customers.columns]
customer_id = "Email"
[tables.survey.columns]
customer_id = "Email"
response_date = "Submitted At"
nps = "How likely are you to recommend us?"
comment = "Anything else?"
"""


@pytest.fixture
def shop(make_workspace):
    rnd = random.Random(5)
    orders = ["Name,Email,Financial Status,Created at,Total,Billing Name,Billing Phone,Shipping Address1"]
    for i, (first, last, email, phone, street) in enumerate(PEOPLE):
        for k in range(1 + i % 4):
            day = f"2024-{1 + (i + 3 * k) % 12:02d}-{1 + (i * 7 + k) % 27:02d} {10 + k}:15:00"
            orders.append(f"#{1001 + len(orders)},{email},paid,{day},{rnd.randint(10, 300)}.{rnd.randint(0, 99):02d},"
                          f"{first} {last},{phone},{street}")
    customers = ["Customer ID,First Name,Last Name,Email,Phone,Default Address Address1,Default Address City"]
    customers += [f"{7_000_000 + i},{f},{l},{e},{p},{s},{'London' if i % 2 else 'Leeds'}"
                  for i, (f, l, e, p, s) in enumerate(PEOPLE)]
    survey = ["Email,Submitted At,How likely are you to recommend us?,Anything else?"]
    survey += [f"{e},2024-11-{1 + i % 28:02d},{i % 11},\"Reach me at {e} or {p}\"" for i, (_, _, e, p, _) in
               enumerate(PEOPLE)]
    return make_workspace({"transactions.csv": "\n".join(orders) + "\n", "customers.csv": "\n".join(customers) + "\n",
                           "survey.csv": "\n".join(survey) + "\n", "loyalist.toml": CONFIG})


def loyalist(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def personal_strings():
    return {s for f, l, e, p, street in PEOPLE for s in (e, p, street, l, f"{f} {l}")} | {"example.com"}


def leaks(text: str) -> set[str]:
    return {s for s in personal_strings() if s in text}


def key_of(ws: Path) -> bytes:
    return bytes.fromhex((ws / ".loyalist" / "pseudonym.key").read_text().strip())


def test_plain_export_carries_emails_so_the_check_below_can_fail(shop, tmp_path):
    loyalist("segment", "rfm", "-w", shop, "-o", tmp_path / "plain.csv")
    assert leaks((tmp_path / "plain.csv").read_text(encoding="utf-8"))


def test_two_exports_join_on_the_same_keyed_pseudonyms(shop, tmp_path):
    loyalist("segment", "rfm", "-w", shop, "--pseudonymise", "-o", tmp_path / "rfm.csv")
    loyalist("segment", "kmeans", "-w", shop, "--pseudonymize", "-o", tmp_path / "kmeans.parquet")
    with open(tmp_path / "rfm.csv", encoding="utf-8", newline="") as f:
        rfm = list(csv.DictReader(f))
    kmeans = pq.read_table(tmp_path / "kmeans.parquet").to_pylist()
    key = key_of(shop)
    expected = {hmac.new(key, e.encode(), hashlib.sha256).hexdigest()[:16] for _, _, e, _, _ in PEOPLE}
    # One row per customer, every id a pseudonym that only the key makes from the email.
    assert len(rfm) == len(PEOPLE) and {r["customer_id"] for r in rfm} == expected
    assert {r["customer_id"] for r in kmeans} == expected  # the two exports join on every customer
    assert not leaks((tmp_path / "rfm.csv").read_text(encoding="utf-8"))
    meta = json.loads(pq.read_metadata(tmp_path / "kmeans.parquet").metadata[b"loyalist"])
    assert meta["params"]["pseudonymised"] is True and meta["params"]["min_count"] == 10
    assert any(n.startswith("pseudonymised:") for n in meta["notes"])


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        self.parts.extend(v or "" for _, v in attrs)


RECIPE = """title = "Shareable"
[[report]]
kind = "segment.rfm"
[[report]]
kind = "report.nps"
by = ["Last Name", "Default Address City"]
[[report]]
kind = "segment.kmeans"
[[report]]
kind = "data.validate"
"""


@pytest.mark.parametrize("suffix", [".html", ".xlsx", ".md"])
def test_no_email_phone_or_name_survives_a_pseudonymised_report(shop, tmp_path, suffix):
    recipe = tmp_path / "share.toml"
    recipe.write_text(RECIPE, encoding="utf-8")
    out = tmp_path / f"share{suffix}"
    loyalist("export", "run", recipe, "-w", shop, "-o", out, "--pseudonymise")
    if suffix == ".xlsx":
        book = openpyxl.load_workbook(out)
        text = "\n".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v)
    elif suffix == ".html":
        parser = _Text()
        parser.feed(out.read_text(encoding="utf-8"))
        text = "\n".join(parser.parts)
    else:
        text = out.read_text(encoding="utf-8")
    assert leaks(text) == set()
    assert "Leeds" in text and "London" in text  # a breakdown by city stays: 20 people each
    assert "pseudonymised" in text


def test_counts_under_the_minimum_are_blank(shop):
    per_customer = list(csv.DictReader(loyalist("segment", "rfm", "-w", shop, "-f", "csv").stdout.splitlines()))
    sizes = collections.Counter(r["segment"] for r in per_customer)  # counted here, from the plain export
    shared = json.loads(loyalist("segment", "rfm", "-w", shop, "-f", "json", "--pseudonymise").stdout)
    shown = {r["segment"]: (r["customers"], r["revenue"]) for r in shared["segments"]}
    assert any(0 < n < 10 for n in sizes.values()) and any(n >= 10 for n in sizes.values())
    for segment, (customers, revenue) in shown.items():
        n = sizes.get(segment, 0)
        if 0 < n < 10:
            assert customers is None and revenue is None, segment
        else:
            assert customers == n, segment
    lower = json.loads(loyalist("segment", "rfm", "-w", shop, "-f", "json", "--pseudonymise",
                                "--min-count", "2").stdout)
    assert {r["segment"]: r["customers"] for r in lower["segments"]} == {
        s: (None if sizes.get(s, 0) == 1 else sizes.get(s, 0)) for s in shown}
    assert lower["params"]["min_count"] == 2


def test_a_recipe_can_ask_for_a_shareable_report_and_a_bad_setting_is_refused(shop, tmp_path):
    recipe = tmp_path / "share.toml"
    recipe.write_text("pseudonymise = true\nmin_count = 5\n" + RECIPE, encoding="utf-8")
    loyalist("export", "run", recipe, "-w", shop, "-o", tmp_path / "share.json")
    doc = json.loads((tmp_path / "share.json").read_text(encoding="utf-8"))
    assert not leaks(json.dumps(doc, ensure_ascii=False)) and "\"min_count\": 5" in json.dumps(doc)
    recipe.write_text('pseudonymise = "yes"\n' + RECIPE, encoding="utf-8")
    result = runner.invoke(app, ["export", "run", str(recipe), "-w", str(shop), "-o", str(tmp_path / "x.html")])
    assert result.exit_code == 2 and "pseudonymise must be true or false" in result.output
    assert not (tmp_path / "x.html").exists()


def test_data_inspect_lists_the_columns_that_look_like_personal_data(shop):
    doc = json.loads(loyalist("data", "inspect", "-w", shop, "-f", "json").stdout)
    personal = {(c["table"], c["column"]): c["personal_data"] for c in doc["columns"] if c["personal_data"]}
    assert personal == {
        ("transactions", "customer_id"): "customer id, its values are emails: pseudonymised on export",
        ("transactions", "Billing Name"): "name (by header)",
        ("transactions", "Billing Phone"): "phone (by header)",
        ("transactions", "Shipping Address1"): "address (by header)",
        ("customers", "customer_id"): "customer id, its values are emails: pseudonymised on export",
        ("customers", "First Name"): "name (by header)", ("customers", "Last Name"): "name (by header)",
        ("customers", "Phone"): "phone (by header)", ("customers", "Default Address Address1"): "address (by header)",
        ("survey", "customer_id"): "customer id, its values are emails: pseudonymised on export",
    }
    assert doc["personal_data_columns"] == 7
    assert any("7 columns look like personal data" in n for n in doc["notes"])
