"""Shareable exports: a result made safe to hand over (`--pseudonymise`).

`pseudonymise(result, key, min_count)` returns the same result with
- customer ids replaced by a keyed hash (HMAC-SHA256 with the workspace's key, kept in
  `.loyalist/pseudonym.key` in the workspace; core.privacy.key): two exports of one
  workspace join on it, and nobody without the key can turn a pseudonym back into an id;
- direct identifiers dropped: columns that look like names, emails, phone numbers,
  addresses, national ids, birth dates or IP addresses, by header or by values
  (core.privacy.detect); emails and phone numbers inside kept text replaced by [email]
  and [phone];
- small cells blanked in aggregate tables: counts of 1 to min_count - 1 people, and every
  figure of a row describing that few (core.privacy.suppress);
- breakdowns by a personal-data column left out: rows of an aggregate table whose
  `dimension` (or feature, driver, variable, attribute) is such a column, e.g. NPS by
  `Last Name`, whose group labels would be the names themselves;
- what was done said in its notes and params (pseudonymised, min_count, the key's id).
Tables of one row per customer keep every row. Renderers write the returned result as
any other; nothing here touches the analysis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import polars as pl

from core.privacy.detect import (CUSTOMER_ID, SAMPLE, PersonalColumn, kind_by_values, has_contact, kind_by_header,
                                 personal_columns, scrub_text)
from core.privacy.key import KEY_ENV, KEY_FILE, key_id, key_path, load_or_create_key, pseudonyms
from core.privacy.suppress import suppress_small
from core.result import Result

MIN_COUNT = 10  # default smallest group shown in an aggregate table
BREAKDOWN_COLUMNS = ("dimension", "feature", "driver", "variable", "attribute")  # name the column grouped by

__all__ = ["CUSTOMER_ID", "KEY_ENV", "KEY_FILE", "MIN_COUNT", "PersonalColumn", "key_path", "load_or_create_key",
           "personal_columns", "pseudonymise", "workspace_personal_data"]


def pseudonymise(result: Result, key: bytes | Callable[[], bytes], min_count: int = MIN_COUNT) -> Result:
    """The result with ids hashed, identifiers dropped and small cells blanked (see the module).

    key: the key, or a function returning it (called only when a table holds customer ids,
    so a result without any creates no key file).
    """
    if min_count < 1:
        raise ValueError("min_count must be at least 1")
    get_key = key if callable(key) else (lambda: key)
    tables: dict[str, pl.DataFrame] = {}
    dropped: dict[str, list[str]] = {}
    scrubbed = blanked = left_out = 0
    used_key: bytes | None = None
    for name, df in result.tables.items():
        found = personal_columns(df)
        drop = [p.column for p in found if p.column != CUSTOMER_ID]
        for p in found:
            if p.column != CUSTOMER_ID:
                dropped.setdefault(f"{p.column} ({p.kind})", []).append(name)
        df = df.drop(drop)
        text = [n for n, t in df.schema.items() if t == pl.String and n != CUSTOMER_ID]
        if text:
            scrubbed += int(df.select(pl.sum_horizontal([has_contact(n).sum() for n in text])).item() or 0)
            df = df.with_columns(scrub_text(n) for n in text)
        if CUSTOMER_ID in df.columns:
            used_key = used_key or get_key()
            df = df.with_columns(pseudonyms(df[CUSTOMER_ID], used_key))
        else:
            kept = df.filter(~pl.any_horizontal([_names_personal(df, c) for c in BREAKDOWN_COLUMNS if c in df.columns]
                                                or [pl.lit(False)]))
            left_out += df.height - kept.height
            df, n_blank = suppress_small(kept, min_count)
            blanked += n_blank
        tables[name] = df
    notes = [_summary(used_key, dropped, scrubbed, blanked, min_count, left_out)]
    params = {"pseudonymised": True, "min_count": min_count}
    if used_key is not None:
        params["pseudonym_key_id"] = key_id(used_key)
    return replace(result, tables=tables, notes=(*result.notes, *notes),
                   headline=_without_contacts(result.headline), params={**result.params, **params})


def _names_personal(df: pl.DataFrame, column: str) -> pl.Expr:
    """Rows whose `column` names a personal-data column (a breakdown by it); judged once per distinct value."""
    values = df[column].cast(pl.String).drop_nulls().unique().to_list()
    return pl.col(column).cast(pl.String).is_in([v for v in values if kind_by_header(v, True)]).fill_null(False)


def _summary(key: bytes | None, dropped: dict[str, list[str]], scrubbed: int, blanked: int, min_count: int,
             left_out: int) -> str:
    parts = [f"customer ids are pseudonyms (keyed hash, key {key_id(key)})" if key is not None
             else "no customer ids"]
    if dropped:
        parts.append("personal data dropped: " + ", ".join(
            f"{column} from {', '.join(tables)}" for column, tables in dropped.items()))
    if scrubbed:
        parts.append(f"{scrubbed} text cells had an email or phone number replaced")
    if left_out:
        parts.append(f"{left_out} rows of breakdowns by personal data left out")
    parts.append(f"{blanked} cells of fewer than {min_count} people blanked in aggregate tables")
    return "pseudonymised: " + "; ".join(parts) + "."


def _without_contacts(headline):
    """Headline text figures with emails and phone numbers replaced, like table text."""
    texts = {k: v for k, v in headline.items() if isinstance(v, str)}
    if not texts:
        return headline
    clean = pl.DataFrame({k: [v] for k, v in texts.items()}).select(scrub_text(k) for k in texts).row(0, named=True)
    return {**headline, **clean}


def workspace_personal_data(ws) -> dict[tuple[str, str], str]:
    """{(table, canonical column): what it is} for every column of a workspace that looks like
    personal data, from its headers and a sample of each table (for `data inspect`)."""
    tables = list(ws.sources)
    samples = pl.collect_all([
        (ws.scan_raw(t) if ws.sources[t].missing_required else ws.scan(t)).head(SAMPLE) for t in tables])
    found = {}
    for table, sample in zip(tables, samples):
        for p in personal_columns(sample):
            what = f"{p.kind} (by {p.found_by})"
            if p.column == CUSTOMER_ID:
                held = kind_by_values(sample[CUSTOMER_ID], False)
                what = f"customer id{f', its values are {held}s' if held else ''}: pseudonymised on export"
            found[table, p.column] = what
    return found
