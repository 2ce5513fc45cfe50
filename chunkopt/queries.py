"""Query sets: queries with the reference spans that answer them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    """A character range [start, end) of one document that answers (part of) a query."""

    doc: str
    start: int
    end: int


@dataclass(frozen=True)
class Query:
    id: str
    query: str
    references: tuple[Reference, ...]
