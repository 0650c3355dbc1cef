"""What an analysis does with invalid rows: the scoped check before it runs.

An analysis is stopped only by errors in the tables it reads: the tables its registry
entry needs, and those it uses that the workspace has (core.registry.run calls
`checked_workspace` for every analysis). Per table, loyalist.toml's `on_invalid` (or
`--skip-invalid` for every table) says what a row that breaks an error rule does:

- "error" (the default): errors in a needed table stop the analysis (exit 2, rows named);
  a table it only uses (survey for the channel report) is left out of it instead, and the
  result's notes say which table and why, so bad NPS answers never stop a revenue report.
- "skip": the rows are left out and counted in the result's notes (and so in every
  export that carries notes), per rule with the first rows.

Errors no row can be left out for (a missing required column, an empty table) always stop
an analysis that needs the table.

Warnings in the tables it reads do not stop an analysis, but each is counted in its result's
notes (and so on screen, on the CLI and in every export), so a channel spelt two ways or a
duplicated order never passes unseen because only `data validate` was run to show it. The
checks are the full ones `data validate` runs, remembered per file (core.check_cache).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.errors import InputError, LoyalistError, MissingTableError
from core.validate import (ERROR, WARNING, WHOLE_TABLE_RULES, Finding, raise_for_errors,
                           valid_rows, validate)
from core.workspace import Workspace

if TYPE_CHECKING:
    from core.engines import Reducer

ERROR_POLICY, SKIP_POLICY = "error", "skip"
WARNINGS_ADVICE = "loyalist data validate shows the rows and fixes"  # the app names its own screen (tui.skip)


class InvalidRowsError(InputError):
    """Rows breaking an error rule stopped an analysis; `table` would read with on_invalid = "skip"
    (the app offers that as a key, tui.skip)."""

    def __init__(self, table: str, stopped: InputError) -> None:
        self.table = table
        super().__init__(stopped.message, file=stopped.file, column=stopped.column, rows=stopped.rows,
                         fix=stopped.fix)


@dataclass(frozen=True)
class Checked:
    ws: Workspace  # the workspace as this analysis sees it: valid rows, tables left out
    read: tuple[str, ...]  # the tables it reads
    notes: tuple[str, ...]  # what was left out, and why
    skipped: int = 0  # rows left out under on_invalid = "skip"


def checked_workspace(ws: Workspace, needs: Iterable[str], uses: Iterable[str], analysis: str,
                      engine: Reducer | None = None) -> Checked:
    """Check the tables an analysis reads and apply each table's on_invalid policy. With an
    `engine` (core.engines), the transactions are checked there, by queries."""
    needs, uses = tuple(needs), tuple(uses)
    ws = ws.readable((*needs, *uses))  # a file that cannot be read: its error, as a table with errors
    for table in needs:
        if table in ws.unreadable:
            raise ws.unreadable[table]
        if not ws.has(table):
            raise MissingTableError(table, analysis, str(ws.root), ws.unread)
    unread_notes = [_unreadable_note(table, ws.unreadable[table]) for table in uses if table in ws.unreadable]
    read = (*needs, *(t for t in uses if ws.has(t)))
    if not read:
        return Checked(ws, (), tuple(unread_notes))
    by_table: dict[str, list[Finding]] = {}
    warned: dict[str, list[Finding]] = {}
    on_engine = engine is not None and "transactions" in read
    # the full checks, warnings too (an engine's transactions by its queries there, core.engines)
    findings = validate(ws, tables=read, orphans="customers" in read, engine=engine if on_engine else None)
    ws.remember_formats()  # beside the checks just written (core.check_cache)
    for finding in findings:
        if finding.severity == ERROR:
            by_table.setdefault(finding.table, []).append(finding)
        elif finding.severity == WARNING and _worth_a_note(finding):
            warned.setdefault(finding.table, []).append(finding)
    left_out: set[str] = set()
    frames, notes, skipped = {}, unread_notes, 0
    for table in read:
        errors = by_table.get(table)
        if not errors:
            continue
        whole = any(f.rule in WHOLE_TABLE_RULES for f in errors)
        if on_engine and table == "transactions" and ws.on_invalid(table) == SKIP_POLICY and not whole:
            raise InputError(f"--engine {engine.engine} cannot leave out the invalid transactions rows "
                             f"({_rules_text(errors)})", file=ws.sources[table].where,
                             fix="correct those rows, or use --engine polars to leave them out")
        if ws.on_invalid(table) == SKIP_POLICY and not whole:
            frames[table], count = valid_rows(ws, table)
            skipped += count
            notes.append(_skipped_note(ws, table, count, errors))
        elif table not in needs:
            left_out.add(table)
            notes.append(_left_out_note(ws, table, errors))
        elif whole:
            raise_for_errors(errors)
        else:
            try:
                raise_for_errors(errors)
            except InputError as exc:
                raise InvalidRowsError(table, exc) from None
    notes += [_warned_note(ws, table, warned[table]) for table in read if table in warned and table not in left_out]
    view = ws.view(left_out=left_out, frames=frames) if left_out or frames else ws
    return Checked(view, tuple(t for t in read if t not in left_out), tuple(notes), skipped)


def _rules_text(errors: list[Finding]) -> str:
    return "; ".join(f"{f.message}: {f.count} row{'' if f.count == 1 else 's'}" + (f" ({', '.join(map(str, f.rows))}"
                                                        f"{', ...' if f.count > len(f.rows) else ''})"
                                                        if f.rows else "")
                     for f in errors)


def _unreadable_note(table: str, error: LoyalistError) -> str:
    return f"the {table} table was left out of this analysis because its file cannot be read: {error}"


def _worth_a_note(finding: Finding) -> bool:
    """Transactions dated after today are noted by the analysis itself, against its as-of date
    (core.registry.run), so the check's warning would say it twice."""
    return not (finding.table == "transactions" and finding.rule == "date_after_as_of")


def _warned_note(ws: Workspace, table: str, warnings: list[Finding]) -> str:
    name = ws.sources[table].rows_name
    said = "; ".join(f"{f.message}: {f.count:,} row{'' if f.count == 1 else 's'}" for f in warnings)
    return f"The data checks warn about {name} (kept in this analysis; {WARNINGS_ADVICE}): {said}"


def _skipped_note(ws: Workspace, table: str, count: int, errors: list[Finding]) -> str:
    name = ws.sources[table].rows_name
    rows = "1 row" if count == 1 else f"{count} rows"
    return f"{rows} of {name} left out as invalid (on_invalid = \"skip\"): {_rules_text(errors)}"


def _left_out_note(ws: Workspace, table: str, errors: list[Finding]) -> str:
    name = ws.sources[table].rows_name
    return (f"the {table} table ({name}) was left out of this analysis because it has errors: "
            f"{_rules_text(errors)}. {left_out_advice(table)}")


def left_out_advice(table: str) -> str:
    """How a left-out note says to use the table's valid rows (the app says its own key instead)."""
    return (f"Correct them (loyalist data validate), or set on_invalid = \"skip\" under [tables.{table}] in "
            f"loyalist.toml (or pass --skip-invalid) to use its valid rows")
