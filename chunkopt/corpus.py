"""Reading a folder of documents into a Corpus of Documents with stable ids."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterator, Mapping


@dataclass(frozen=True)
class Document:
    """One source document. `id` is its path relative to the corpus folder, in POSIX form."""

    id: str
    text: str
    metadata: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


class Corpus:
    """Documents in a stable order (sorted by id), addressable by id."""

    def __init__(self, documents: list[Document], skipped: list[tuple[str, str]] | None = None) -> None:
        self.documents = sorted(documents, key=lambda d: d.id)
        self.by_id = {d.id: d for d in self.documents}
        if len(self.by_id) != len(self.documents):
            raise ValueError("two documents share an id")
        self.skipped = list(skipped or [])  # (relative path, reason) for files not read

    def __iter__(self) -> Iterator[Document]:
        return iter(self.documents)

    def __len__(self) -> int:
        return len(self.documents)

    def __getitem__(self, doc_id: str) -> Document:
        return self.by_id[doc_id]

    def fingerprint(self) -> dict[str, str]:
        """SHA-256 of each document's text, by id: what a tuned config records to detect drift."""
        return {d.id: hashlib.sha256(d.text.encode("utf-8")).hexdigest() for d in self.documents}
