"""core.privacy: keyed pseudonyms, personal-data columns, small cells (issue 13, shareable exports)."""

import hashlib
import hmac
import stat

import polars as pl
import pytest

from core.errors import InputError
from core.privacy import KEY_FILE, load_or_create_key, personal_columns, pseudonymise
from core.privacy.suppress import suppress_small
from core.result import Result

KEY = bytes(range(32))


def reference_pseudonym(key: bytes, customer_id: str) -> str:
    # Python's own hmac module, written out apart from core.privacy.key (RFC 2104 over SHA-256).
    return hmac.new(key, customer_id.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def test_pseudonyms_are_the_hmac_sha256_of_the_id_with_the_workspace_key():
    # A published vector first: RFC 4231 test case 2 (key "Jefe"), so the hash is HMAC-SHA256 itself.
    rfc = pseudonymise(Result("t", "t", {"c": pl.DataFrame({"customer_id": ["what do ya want for nothing?"]})}),
                       b"Jefe" * 4)  # 16 bytes: keys shorter than that are refused when loaded, not here
    assert rfc.tables["c"]["customer_id"][0] == reference_pseudonym(b"Jefe" * 4, "what do ya want for nothing?")
    assert hmac.new(b"Jefe", b"what do ya want for nothing?", hashlib.sha256).hexdigest().startswith(
        "5bdcc146bf60754e")  # RFC 4231 4.3
    ids = ["C000001", "C000002", "客户-07", None]
    out = pseudonymise(Result("t", "t", {"c": pl.DataFrame({"customer_id": ids})}), KEY)
    assert out.tables["c"]["customer_id"].to_list() == [reference_pseudonym(KEY, i) for i in ids[:3]] + [None]


def test_the_key_is_made_once_private_to_its_owner_and_reused(tmp_path):
    key = load_or_create_key(tmp_path)
    path = tmp_path / KEY_FILE
    assert len(key) == 32 and path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(tmp_path) == key  # the second export finds the same key
    assert load_or_create_key(tmp_path / "other") != key  # another workspace, another key


def test_a_damaged_key_file_is_refused_with_what_to_do(tmp_path):
    (tmp_path / KEY_FILE).parent.mkdir()
    (tmp_path / KEY_FILE).write_text("not hex\n")
    with pytest.raises(InputError, match="pseudonym key.*Fix: restore the key file"):
        load_or_create_key(tmp_path)


def test_direct_identifiers_are_found_by_header_in_english_and_chinese():
    df = pl.DataFrame({"customer_id": ["1"], "First Name": ["Zoe"], "billing_phone": ["x"], "EmailAddress": ["x"],
                       "Address1": ["x"], "手机号": ["x"], "客户姓名": ["x"], "name": ["x"], "region": ["South"],
                       "product_name": ["Tea"], "first_purchase": ["2024-01-01"]})
    found = {p.column: p.kind for p in personal_columns(df)}
    assert found == {"customer_id": "customer id", "First Name": "name", "billing_phone": "phone",
                     "EmailAddress": "email", "Address1": "address", "手机号": "phone", "客户姓名": "name",
                     "name": "name"}
    # A campaign's name is not a person's: a bare `name` counts only beside customer ids.
    assert personal_columns(pl.DataFrame({"campaign_id": ["CMP01"], "name": ["New Year email"]})) == []


def test_identifiers_under_other_headers_are_found_by_their_values():
    n = 40
    df = pl.DataFrame({
        "customer_id": [f"C{i:05}" for i in range(n)],
        "contact": [f"user{i}@example.com" for i in range(n)],
        "reach_me": ["+44 20 7946 09%02d" % i if i % 2 else "138%08d" % i for i in range(n)],
        "wx_no": [13_800_138_000 + i for i in range(n)],
        "who": [f"{f} {l}" for f, l in zip(["Zoe", "Li", "Ana", "Tom"] * 10, [f"Khan{c}" for c in "abcdefghij"] * 4)],
        "segment": ["At Risk", "Champions"] * (n // 2),  # looks like names, but labels repeat
        "order_date": ["2025-01-07"] * n,
    })
    found = {p.column: (p.kind, p.found_by) for p in personal_columns(df)}
    assert found == {"customer_id": ("customer id", "header"), "contact": ("email", "values"),
                     "reach_me": ("phone", "values"), "wx_no": ("phone", "values"), "who": ("name", "values")}


def test_pseudonymised_result_keeps_one_row_per_customer_and_drops_identifiers():
    per_customer = pl.DataFrame({"customer_id": ["A", "B", "C"], "email": ["a@x.com", "b@x.com", "c@x.com"],
                                 "comment": ["call me on +86 138 0013 8000", "mail b@x.com please", "fine"],
                                 "monetary": [10.0, 20.0, 30.0]})
    out = pseudonymise(Result("t", "t", {"customers": per_customer}, headline={"top": "a@x.com"}), KEY)
    table = out.tables["customers"]
    assert table.height == 3 and table["customer_id"].n_unique() == 3
    assert table.columns == ["customer_id", "comment", "monetary"]
    assert table["comment"].to_list() == ["call me on [phone]", "mail [email] please", "fine"]
    assert table["monetary"].to_list() == [10.0, 20.0, 30.0]  # per-customer figures are not suppressed
    assert out.headline["top"] == "[email]"
    assert out.params["pseudonymised"] is True and out.params["min_count"] == 10
    assert "email (email) from customers" in out.notes[-1] and "2 text cells" in out.notes[-1]


def test_rows_of_fewer_than_min_count_people_are_blanked_and_zero_is_kept():
    segments = pl.DataFrame({"segment": ["Big", "Tiny", "Empty"], "customers": [120, 3, 0],
                             "revenue": [5000.0, 77.5, 0.0], "r_score": [5, 1, 2]})
    out, blanked = suppress_small(segments, 10)
    assert out.rows() == [("Big", 120, 5000.0, 5), ("Tiny", None, None, 1), ("Empty", 0, 0.0, 2)]
    assert blanked == 2


def test_cells_of_a_crosstab_under_min_count_are_blanked():
    counts = pl.DataFrame({"from_segment": ["New", "Lost"], "New": [40, 4], "Lost": [9, 30], "total": [49, 34]})
    out, blanked = suppress_small(counts, 10)
    assert out.rows() == [("New", 40, None, 49), ("Lost", None, 30, 34)] and blanked == 2
    # configurable: min_count 5 keeps the 9
    assert suppress_small(counts, 5)[0]["Lost"].to_list() == [9, 30]


def test_a_breakdown_by_a_personal_column_is_left_out():
    # NPS by Last Name: the group labels would be the names themselves.
    nps = pl.DataFrame({"dimension": ["region", "region", "Last Name", "Last Name"],
                        "group": ["North", "South", "Khan", "Okafor"], "responses": [40, 35, 12, 11]})
    out = pseudonymise(Result("report.nps", "NPS", {"segments": nps}), KEY)
    assert out.tables["segments"]["group"].to_list() == ["North", "South"]
    assert "2 rows of breakdowns by personal data left out" in out.notes[-1]
