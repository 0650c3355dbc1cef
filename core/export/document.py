"""What an export writes: one result, or a bundle of results under one title."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.export.display import generated_at
from core.registry import detail_tables
from core.result import Result


@dataclass(frozen=True)
class Document:
    title: str
    results: tuple[Result, ...]
    source: str | None = None  # e.g. the recipe file a bundle came from
    bundle: bool = False  # a bundle gets contents and a section per result, even with one result
    created: str = field(default_factory=generated_at)

    def __post_init__(self) -> None:
        if not self.results:
            raise ValueError("a document needs at least one result")

    @property
    def is_bundle(self) -> bool:
        return self.bundle or len(self.results) != 1

    @classmethod
    def of(cls, result: Result) -> Document:
        return cls(result.title, (result,))


def section_tables(result: Result) -> tuple[list[str], list[str]]:
    """(summary tables, detail tables) of a result in the order a report shows them: the
    tables its kind declares per-customer or long (core.registry) come last, collapsed in
    HTML, so a reader meets the segment summary before 2,000 customer rows."""
    detail = set(detail_tables(result.name))
    names = list(result.tables)
    return [n for n in names if n not in detail], [n for n in names if n in detail]
