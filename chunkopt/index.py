"""Building a vector index from a tuned configuration, incrementally: `build_index(corpus, chunker, store, embed)`.

The store is its own manifest: it reports the configuration fingerprint it was built with and,
per document, the hash and chunk ids it holds (`Store.manifest()`), so `chunkopt.manifest.update`
decides what to do exactly as for `chunkopt chunk --manifest`. Then only new chunks are embedded
and upserted (by stable id), the kept chunks of re-chunked documents get their metadata refreshed
(offsets, position, document hash; no re-embedding), and stale ids are deleted. Writes go in
batches of `batch_size` chunks, upserts before deletes and the configuration record last, so an
interrupted run leaves a state the next run completes (what it finds written is kept, not redone).

A store implements the `Store` protocol; `chunkopt.integrations.chroma_store.ChromaStore` is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol, Sequence

import numpy as np

from chunkopt.manifest import Manifest, Update, update
from chunkopt.sections import indexed_text
from strategies.base import Chunk, Strategy

Embed = Callable[[list[str]], np.ndarray]  # texts -> (n, dimensions) float array
DEFAULT_BATCH_SIZE = 256  # chunks per embedding call and per database write
# The packaged model (extra `neural`), which is also the `neural` retriever's: the tuned JSON records no other.
DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"


class StoreError(ValueError):
    """The index cannot be opened or written: the message names the store and what is wrong."""


class Store(Protocol):
    """Where `build_index` writes: a collection of chunks with embeddings, addressable by id."""

    def describe(self) -> str: ...
    def manifest(self) -> Manifest | None: ...  # None when the store is empty or does not exist yet
    # n_chunks: how many chunks each document has in all, so a half-written document is told from a whole one
    def upsert(self, chunks: Sequence[Chunk], embeddings: np.ndarray, n_chunks: Mapping[str, int]) -> None: ...
    def refresh(self, chunks: Sequence[Chunk], n_chunks: Mapping[str, int]) -> None: ...  # metadata only
    def delete(self, ids: Sequence[str]) -> None: ...
    def record_config(self, manifest: Manifest) -> None: ...


@dataclass(frozen=True)
class IndexReport:
    """What a run did (or, for a dry run, would do)."""

    plan: Update
    store: str
    dry_run: bool

    @property
    def added(self) -> int:
        return len(self.plan.upserts)

    @property
    def deleted(self) -> int:
        return len(self.plan.deletes)

    @property
    def kept(self) -> int:
        return self.plan.kept

    def summary(self) -> str:
        """One line: "indexed into chroma:db (collection chunkopt): 3 added, 120 kept, 2 deleted; ..."."""
        verb = "would index" if self.dry_run else "indexed"
        p = self.plan
        return (f"{verb} into {self.store}: {self.added} added, {self.kept} kept, {self.deleted} deleted; "
                f"{len(p.changed)} documents changed or new, {len(p.removed)} removed, {p.unchanged} unchanged")

    def lines(self) -> list[str]:
        """The plan per document, for --dry-run: "a.md: 2 to add, 9 kept, 1 to delete"."""
        adds: dict[str, int] = {}
        for c in self.plan.upserts:
            adds[c.doc_id or ""] = adds.get(c.doc_id or "", 0) + 1
        moves: dict[str, int] = {}
        for c in self.plan.moved:
            moves[c.doc_id or ""] = moves.get(c.doc_id or "", 0) + 1
        deletes: dict[str, int] = {}
        for doc_id, _ in self.plan.deletes:
            deletes[doc_id] = deletes.get(doc_id, 0) + 1
        out = [f"{d}: {adds.get(d, 0)} to add, {moves.get(d, 0)} kept, {deletes.get(d, 0)} to delete"
               for d in self.plan.changed]
        out += [f"{d}: removed, {deletes.get(d, 0)} to delete" for d in self.plan.removed]
        return out


def build_index(corpus: Any, chunker: Strategy, store: Store, embed: Embed | None, *, dry_run: bool = False,
                batch_size: int = DEFAULT_BATCH_SIZE) -> IndexReport:
    """Bring `store` up to date with `corpus` chunked by `chunker`; see the module docstring. A dry run needs no `embed`."""
    plan = update(corpus, chunker, store.manifest())
    report = IndexReport(plan, store.describe(), dry_run)
    if dry_run:
        return report
    if embed is None:
        raise ValueError("build_index needs an embed function unless dry_run=True")
    n_chunks = {doc_id: len(state.chunks) for doc_id, state in plan.manifest.documents.items()}
    for batch in _batches(list(plan.upserts), batch_size):
        vectors = np.asarray(embed([indexed_text(c) for c in batch]), dtype=np.float32)
        if vectors.shape[0] != len(batch):
            raise StoreError(f"the embedder returned {vectors.shape[0]} vectors for {len(batch)} texts")
        store.upsert(batch, vectors, n_chunks)
    for batch in _batches(list(plan.moved), batch_size):
        store.refresh(batch, n_chunks)
    for batch in _batches([i for _, i in plan.deletes], batch_size):
        store.delete(batch)
    store.record_config(plan.manifest)
    return report


def _batches(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def chunk_record(chunk: Chunk, n_chunks: int) -> dict[str, Any]:
    """A chunk's metadata as a vector store keeps it beside the text (scalars and lists only); `n_chunks` is its document's count."""
    record: dict[str, Any] = {"doc_id": chunk.doc_id or "", "doc_hash": chunk.doc_hash or "", "config": chunk.config or "",
                              "index": chunk.index, "n_chunks": n_chunks, "start": chunk.start, "end": chunk.end,
                              "n_tokens": chunk.n_tokens}
    for key, value in chunk.metadata.items():
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
            record[key] = list(value)
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, int) for v in value):
            record[key] = list(value)
        elif isinstance(value, (str, int, float, bool)):
            record[key] = value
    return record


def sentence_embedder(model: str) -> Embed:
    """A sentence-transformers model (local, never downloaded) as an Embed function: unit-length float32 rows.

    It embeds through the `neural` retriever at full precision (PyTorch, float32): the index holds
    the vectors the team's own queries, embedded by the same model, will be compared with, not the
    bf16 or int8 approximation a sweep measures with. Chunks a `precision=fp32` sweep already embedded come
    from the persistent embedding cache (`chunkopt cache info`) instead of the model.
    """
    from chunkopt.retrievers.neural import NeuralRetriever

    return NeuralRetriever(model=model, precision="fp32").embed
