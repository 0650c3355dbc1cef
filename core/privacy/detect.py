"""Columns that look like personal data: by their header, and by their values.

Direct identifiers (a person's name, email, phone number, postal address, national id,
birth date, IP address) are dropped from a pseudonymised export; `customer_id` is kept
as a keyed hash (core.privacy.key). Headers are matched in English and Chinese, word by
word (`Email Address`, `billing_phone`, `FirstName`, `手机号`); a bare `name` counts as a
person's name only in a table that also holds customer ids (a campaign's `name` is not
personal). Values are matched on a sample: a text column is an email or phone column when
at least half of its values are emails or phone numbers, and a name column when, in a table
with customer ids, most values look like personal names and most are different.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

CUSTOMER_ID = "customer_id"
SAMPLE = 1000  # values looked at per column
VALUE_SHARE = 0.5  # share of sampled values that must match an email or phone pattern
NAME_SHARE = 0.8  # ... a personal-name pattern (names are checked more strictly)
NAME_DISTINCT = 0.5  # names mostly differ; labels such as segments repeat

EMAIL, PHONE, NAME, ADDRESS, NATIONAL_ID, BIRTH_DATE, IP_ADDRESS = (
    "email", "phone", "name", "address", "national id", "birth date", "IP address")

# Header words (after splitting on _ - spaces and camelCase) that name a kind of identifier.
HEADER_WORDS = {
    EMAIL: {"email", "mail", "emailaddress"},
    PHONE: {"phone", "telephone", "tel", "mobile", "cell", "cellphone", "fax", "whatsapp", "msisdn"},
    IP_ADDRESS: {"ip"},  # before address: ip_address
    ADDRESS: {"address", "addr", "street", "address1", "address2", "postcode", "zipcode", "zip", "postal"},
    NATIONAL_ID: {"ssn", "passport", "nino"},
    BIRTH_DATE: {"dob", "birthday", "birthdate", "birth"},
    NAME: {"firstname", "lastname", "fullname", "surname", "forename", "givenname", "familyname"},
}
HEADER_TEXT = {  # Chinese headers are matched as substrings
    EMAIL: ("邮箱", "电子邮件", "邮件地址"), PHONE: ("电话", "手机", "联系方式"),
    ADDRESS: ("地址", "住址", "邮编"), NATIONAL_ID: ("身份证", "护照"), BIRTH_DATE: ("生日", "出生"),
    NAME: ("姓名", "名字", "联系人", "收货人"),
}
# Coarse places are not addresses: "Default Address City" or "billing country" stay.
PLACE_WORDS = {"city", "country", "province", "state", "region", "county", "company", "code"}
# "<word> name" is a person's name: first name, customer name, billing name ...
PERSON_WORDS = {"first", "last", "full", "given", "family", "middle", "sur", "customer", "contact", "member",
                "client", "buyer", "billing", "shipping", "recipient", "user", "nick", "display", "person"}

EMAIL_VALUE = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
PHONE_VALUE = "|".join((
    r"^\+\d[\d\s().-]{6,18}\d$",  # international: +44 20 7946 0958, +86 138 0013 8000
    r"^1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}$",  # mainland China mobile: 13800138000
    r"^\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}$",  # North America: (212) 555-0187
    r"^0\d{2,4}[\s-]\d{3,4}[\s-]?\d{3,4}$",  # with a trunk 0 and a space: 020 7946 0958, 010-8888 6666
    r"^0\d{9,10}$",  # national without spaces: 07700900123
))
NAME_VALUE = r"^(\p{Lu}[\p{L}'’.]+(?:[ -]\p{Lu}[\p{L}'’.]+){1,3}|\p{Han}{2,3})$"
# Emails and phone numbers inside free text (a comment quoting an address): replaced in kept text.
EMAIL_IN_TEXT = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}"
PHONE_IN_TEXT = r"\+\d[\d ().-]{6,18}\d|\b1[3-9]\d[ -]?\d{4}[ -]?\d{4}\b|\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b"
CN_MOBILE = (13_000_000_000, 19_999_999_999)  # phone numbers stored as integers


@dataclass(frozen=True)
class PersonalColumn:
    column: str
    kind: str  # EMAIL, PHONE, ... or "customer id"
    found_by: str  # "header" or "values"


def header_words(header: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", header)  # FirstName -> First Name
    return [w for w in re.split(r"[\W_]+", spaced.lower()) if w]


def kind_by_header(header: str, has_customer_ids: bool) -> str | None:
    words = header_words(header)
    for kind, texts in HEADER_TEXT.items():
        if any(t in header for t in texts):
            return kind
    for kind, names in HEADER_WORDS.items():
        if names.intersection(words):
            if (kind == IP_ADDRESS and len(words) > 2) or (kind == ADDRESS and PLACE_WORDS.intersection(words)):
                return None
            return kind
    if "name" in words and (PERSON_WORDS.intersection(words) or (words == ["name"] and has_customer_ids)):
        return NAME
    if words in (["e", "mail"], ["e", "mail", "address"]):
        return EMAIL
    return None


def personal_columns(df: pl.DataFrame | pl.LazyFrame) -> list[PersonalColumn]:
    """The columns of a table that hold personal data, from the headers and a sample of values."""
    sample = (df.lazy() if isinstance(df, pl.DataFrame) else df).head(SAMPLE).collect()
    has_ids = CUSTOMER_ID in sample.columns
    found = []
    for name, dtype in sample.schema.items():
        if name == CUSTOMER_ID:
            found.append(PersonalColumn(name, "customer id", "header"))
        elif kind := kind_by_header(name, has_ids):
            found.append(PersonalColumn(name, kind, "header"))
        elif kind := kind_by_values(sample[name], has_ids):
            found.append(PersonalColumn(name, kind, "values"))
    return found


def kind_by_values(values: pl.Series, has_customer_ids: bool) -> str | None:
    values = values.drop_nulls()
    if values.is_empty():
        return None
    if values.dtype.is_integer():
        low, high = CN_MOBILE
        return PHONE if values.cast(pl.Int64, strict=False).is_between(low, high).mean() >= VALUE_SHARE else None
    if values.dtype != pl.String:
        return None
    values = values.str.strip_chars()
    if values.str.contains(EMAIL_VALUE).mean() >= VALUE_SHARE:
        return EMAIL
    if values.str.contains(PHONE_VALUE).mean() >= VALUE_SHARE:
        return PHONE
    if (has_customer_ids and values.str.contains(NAME_VALUE).mean() >= NAME_SHARE
            and values.n_unique() >= NAME_DISTINCT * values.len()):
        return NAME
    return None


def scrub_text(column: str) -> pl.Expr:
    """Emails and phone numbers inside a text column replaced by [email] and [phone]."""
    return (pl.col(column).str.replace_all(EMAIL_IN_TEXT, "[email]")
            .str.replace_all(PHONE_IN_TEXT, "[phone]"))


def has_contact(column: str) -> pl.Expr:
    return pl.col(column).str.contains(EMAIL_IN_TEXT) | pl.col(column).str.contains(PHONE_IN_TEXT)
