"""The Chroma database `chunkopt index --into chroma:PATH` writes: an embedded `chromadb.PersistentClient`.

One collection (default "chunkopt", cosine distance) holds one record per chunk: the stable chunk
id, the embedding, the text, and metadata `doc_id`, `doc_hash`, `config`, `index`, `start`, `end`,
`n_tokens` plus section metadata (`headings`, `page`). The collection's metadata names the
embedder, so vectors of two models are never mixed. What the collection holds is read back as a
manifest (chunkopt.index.Store), so no state lives anywhere else. Needs the `chroma` extra.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import chromadb
import numpy as np

from chunkopt.index import StoreError, chunk_record
from chunkopt.manifest import DocumentState, Manifest
from chunkopt.outputs import check_writable_folder
from strategies.base import Chunk

DEFAULT_COLLECTION = "chunkopt"
_DATABASE_FILE = "chroma.sqlite3"
_COLLECTION_NAME = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9._-]{1,510})[a-zA-Z0-9]")
_PAGE = 5000  # ids read per request when the collection is read back


class ChromaStore:
    """A collection in an embedded Chroma database at `path`, created on the first write."""

    def __init__(self, path: str | os.PathLike[str], collection: str = DEFAULT_COLLECTION, embedder: str = "") -> None:
        if not _COLLECTION_NAME.fullmatch(collection):
            raise StoreError(f"collection name must be 3-512 characters of letters, digits, '.', '_' and '-', starting "
                             f"and ending with a letter or digit (Chroma's rule), got {collection!r}")
        self.path = Path(path)
        self.name = collection
        self.embedder = embedder
        self._client: Any = None
        self._collection: Any = None
        _check_place(self.path)

    def describe(self) -> str:
        return f"chroma:{self.path} (collection {self.name})"

    def _open(self, create: bool) -> Any:
        if self._collection is not None:
            return self._collection
        if not create and not (self.path / _DATABASE_FILE).exists():
            return None
        try:
            # chromadb caches one client per path string in the process: an absolute path cannot alias another folder
            self._client = self._client or chromadb.PersistentClient(path=str(self.path.absolute()))
            if create:
                self._collection = self._client.get_or_create_collection(
                    self.name, metadata={"hnsw:space": "cosine", "chunkopt_embedder": self.embedder}, embedding_function=None)
            else:
                names = {c if isinstance(c, str) else c.name for c in self._client.list_collections()}
                if self.name not in names:
                    return None
                self._collection = self._client.get_collection(self.name, embedding_function=None)
        except Exception as exc:  # chromadb raises its own errors for a damaged or foreign database
            raise StoreError(f"cannot open the Chroma database {self.path}: {type(exc).__name__}: {exc}") from None
        held = (self._collection.metadata or {}).get("chunkopt_embedder")
        if held is not None and held != self.embedder:
            raise StoreError(f"{self.describe()} holds embeddings of {held!r}, not {self.embedder!r}; "
                             f"pass --embedder {held!r}, or index into another collection")
        return self._collection

    def manifest(self) -> Manifest | None:
        collection = self._open(create=False)
        if collection is None:
            return None
        ids: list[str] = []
        metadatas: list[dict[str, Any]] = []
        while True:
            page = collection.get(include=["metadatas"], limit=_PAGE, offset=len(ids))
            ids += page["ids"]
            metadatas += page["metadatas"]
            if len(page["ids"]) < _PAGE:
                break
        if not ids:
            return None
        foreign = next((i for i, m in zip(ids, metadatas) if not m or not {"doc_id", "doc_hash", "config", "index"} <= set(m)), None)
        if foreign is not None:
            raise StoreError(f"{self.describe()} holds records chunkopt did not write (id {foreign!r} has no doc_id, "
                             "doc_hash, config and index); index into another collection")
        by_doc: dict[str, list[tuple[int, str, str]]] = {}
        for chunk_id, m in zip(ids, metadatas):
            by_doc.setdefault(m["doc_id"], []).append((m["index"], chunk_id, m["doc_hash"], m.get("n_chunks")))
        configs = {m["config"] for m in metadatas}
        # A run interrupted in a rebuild leaves chunks of two configurations: a config no chunker has rebuilds again.
        config = configs.pop() if len(configs) == 1 else "mixed:" + ",".join(sorted(configs))
        documents = {}
        for doc_id, rows in by_doc.items():
            rows.sort()
            hashes, counts = {h for _, _, h, _ in rows}, {n for _, _, _, n in rows}
            # A document is whole when all its chunks agree on its hash and count and that many are here;
            # otherwise (an interrupted run) its hash reads as "", so the next run re-chunks it and writes the rest.
            whole = len(hashes) == 1 and counts == {len(rows)}
            documents[doc_id] = DocumentState(hashes.pop() if whole else "", tuple(i for _, i, _, _ in rows))
        meta = collection.metadata or {}
        return Manifest(config, meta.get("chunkopt_strategy", ""), json.loads(meta.get("chunkopt_params", "{}")), documents)

    def upsert(self, chunks: Sequence[Chunk], embeddings: np.ndarray, n_chunks: Mapping[str, int]) -> None:
        self._write("upsert", ids=[c.id for c in chunks], embeddings=embeddings.tolist(), documents=[c.text for c in chunks],
                    metadatas=[chunk_record(c, n_chunks[c.doc_id or ""]) for c in chunks])

    def refresh(self, chunks: Sequence[Chunk], n_chunks: Mapping[str, int]) -> None:
        self._write("update", ids=[c.id for c in chunks], metadatas=[chunk_record(c, n_chunks[c.doc_id or ""]) for c in chunks])

    def delete(self, ids: Sequence[str]) -> None:
        self._write("delete", ids=list(ids))

    def record_config(self, manifest: Manifest) -> None:
        meta = {k: v for k, v in (self._open(create=True).metadata or {}).items() if not k.startswith("hnsw:")}
        meta.update(chunkopt_config=manifest.config, chunkopt_strategy=manifest.strategy,
                    chunkopt_params=json.dumps(dict(manifest.params), sort_keys=True), chunkopt_embedder=self.embedder)
        self._write("modify", metadata=meta)

    def _write(self, method: str, **kwargs: Any) -> None:
        collection = self._open(create=True)
        try:
            getattr(collection, method)(**kwargs)
        except Exception as exc:
            raise StoreError(f"writing to {self.describe()} failed ({method}: {type(exc).__name__}: {exc}); "
                             "what was written is kept and the next run completes it") from None


def _check_place(path: Path) -> None:
    """Refuse a path that is a file, a folder holding something other than a Chroma database, or not writable."""
    if path.exists() and not path.is_dir():
        raise StoreError(f"chroma:{path} is a file, not a Chroma database folder")
    if path.is_dir() and any(path.iterdir()) and not (path / _DATABASE_FILE).exists():
        raise StoreError(f"chroma:{path} is a folder that holds no Chroma database ({_DATABASE_FILE}); "
                         "give an empty or new folder, or an existing Chroma database")
    check_writable_folder(path, f"chroma:{path}")  # creates and removes a probe file: the only sure test
