"""Errors an analyst can act on: each says what is wrong, where, and how to fix it."""

from __future__ import annotations

from collections.abc import Sequence


class LoyalistError(Exception):
    """Base for errors the CLI and the app turn into one clear message."""

    exit_code = 1


class InputError(LoyalistError):
    """Bad input: a file, column or option the user must fix (CLI exit code 2)."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        rows: Sequence[int] = (),
        fix: str | None = None,
    ) -> None:
        self.message, self.file, self.column, self.rows, self.fix = (
            message, file, column, tuple(rows), fix,
        )
        super().__init__(self.describe())

    def describe(self) -> str:
        where = ", ".join(
            p for p in (
                self.file and f"file {self.file}",
                self.column and f"column {self.column!r}",
                self.rows and "rows " + ", ".join(map(str, self.rows)),
            ) if p
        )
        text = f"{where}: {self.message}" if where else self.message
        return f"{text}. Fix: {self.fix}" if self.fix else text


class UnmappedColumnError(InputError):
    """A contract column the workspace's column mapping settles: missing, ambiguous, or mapped
    to a header the file lacks. The CLI's fix names loyalist.toml; the app offers its mapping
    editor for ``table`` instead (``canonical``: the contract column, None when the mapping names
    a column the contract does not have)."""

    def __init__(self, message: str, *, table: str, canonical: str | None, **where) -> None:
        self.table, self.canonical = table, canonical
        super().__init__(message, **where)


class AnalysisError(LoyalistError):
    """The analysis cannot be done on this data (too little data, no convergence...)."""

    exit_code = 1


class MissingTableError(AnalysisError):
    """An analysis needs a table the workspace does not have."""

    def __init__(self, table: str, analysis: str, workspace: str, unread: tuple[str, ...] = ()) -> None:
        # `unread`: the folder's data files that no table reads (Workspace.unread), largest first
        fix = (f'if one of the files here that no table reads ({", ".join(unread)}) holds it, name it in '
               f'loyalist.toml: [tables.{table}] file = "{unread[0]}"; or add a {table}.csv file' if unread
               else f"add a {table}.csv (or .parquet/.xlsx/...) file, or name it in loyalist.toml")
        super().__init__(f"{analysis} needs the {table!r} table, which workspace {workspace} does not have. "
                         f"Fix: {fix}")
        self.table = table
