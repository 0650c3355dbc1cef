"""What an export writes: one result, or a bundle of results under one title."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.export.display import generated_at
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
