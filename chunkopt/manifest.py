"""Incremental chunking: a manifest of what was chunked, and the operations that bring a store up to date.

The manifest is a JSON file recording, for one configuration, each document's hash and its
ordered chunk ids. `update(corpus, chunker, previous)` re-chunks only the documents whose hash
changed (or that are new) and returns the operations a store needs: upsert each chunk whose id
it does not hold yet, delete each id the document no longer has (all of a removed document's
ids). A chunk whose id is kept is not sent again: its text is unchanged, though its offsets in
the new version of the document may have moved (the manifest and a fresh `chunkopt chunk` have
the new ones, and `Update.moved` lists those chunks for a store that keeps offsets, as
`chunkopt index` does). A manifest from another configuration means a full rebuild: every old id
is deleted and every chunk upserted.

    previous = read_manifest("state.json")           # None on the first run
    plan = update(corpus, chunker, previous)
    for op in plan.operations(): ...                 # {"op": "upsert", ...chunk} / {"op": "delete", "id": ...}
    write_manifest(plan.manifest, "state.json")      # atomic (chunkopt.outputs): temp file beside it + os.replace
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

import chunkopt
from chunkopt.outputs import write_atomic
from chunkopt.sections import chunk_document
from strategies.base import Chunk, Strategy
from strategies.ids import doc_hash

MANIFEST_VERSION = 1


class ManifestError(ValueError):
    """A manifest file that cannot be read or written: the message names the file."""


@dataclass(frozen=True)
class DocumentState:
    """What the manifest remembers of one document: its text's hash and its chunk ids in order."""

    doc_hash: str
    chunks: tuple[str, ...]


@dataclass(frozen=True)
class Manifest:
    """Which documents were chunked with which configuration (fingerprint), and the ids that came out."""

    config: str
    strategy: str
    params: Mapping[str, Any]
    documents: Mapping[str, DocumentState] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "manifest_version": MANIFEST_VERSION,
            "chunkopt_version": chunkopt.__version__,
            "config": self.config,
            "strategy": self.strategy,
            "params": dict(self.params),
            "documents": {d: {"doc_hash": s.doc_hash, "chunks": list(s.chunks)} for d, s in sorted(self.documents.items())},
        }


@dataclass(frozen=True)
class Update:
    """The result of comparing a corpus with a previous manifest: operations, counts and the new manifest."""

    upserts: tuple[Chunk, ...]
    deletes: tuple[tuple[str, str], ...]  # (doc_id, chunk id)
    kept: int  # chunk ids the store already holds and keeps
    moved: tuple[Chunk, ...]  # kept chunks of re-chunked documents: same id and text, offsets may have moved
    manifest: Manifest
    rebuild: bool  # the previous manifest came from another configuration: all re-chunked, every old id deleted
    changed: tuple[str, ...]  # documents re-chunked because they are new or their hash changed
    removed: tuple[str, ...]  # documents of the previous manifest no longer in the corpus
    unchanged: int

    def operations(self) -> Iterator[dict[str, Any]]:
        """The operations as JSON-ready dicts, upserts first (a reader never lacks a document's text), then deletes."""
        for chunk in self.upserts:
            yield {"op": "upsert", **chunk.to_dict()}
        for doc_id, chunk_id in self.deletes:
            yield {"op": "delete", "id": chunk_id, "doc_id": doc_id}

    def summary(self) -> str:
        """One line: "2 documents changed or new, 1 removed, 12 unchanged; 5 chunks upserted, 7 deleted, 180 kept"."""
        return (f"{len(self.changed)} documents changed or new, {len(self.removed)} removed, {self.unchanged} unchanged; "
                f"{len(self.upserts)} chunks upserted, {len(self.deletes)} deleted, {self.kept} kept")


def update(corpus: Any, chunker: Strategy, previous: Manifest | None) -> Update:
    """Operations that turn what `previous` describes into the chunks of `corpus` under `chunker`."""
    config = chunker.fingerprint
    rebuild = previous is None or previous.config != config
    old = {} if previous is None else dict(previous.documents)
    upserts: list[Chunk] = []
    moved: list[Chunk] = []
    deletes: list[tuple[str, str]] = []
    documents: dict[str, DocumentState] = {}
    changed: list[str] = []
    kept = unchanged = 0
    for document in corpus:
        digest = doc_hash(document.text)
        before = old.get(document.id)
        if not rebuild and before is not None and before.doc_hash == digest:
            documents[document.id] = before
            unchanged += 1
            kept += len(before.chunks)
            continue
        changed.append(document.id)
        chunks = chunk_document(chunker, document)
        documents[document.id] = DocumentState(digest, tuple(c.id for c in chunks))
        held = set() if rebuild or before is None else set(before.chunks)
        upserts.extend(c for c in chunks if c.id not in held)
        moved.extend(c for c in chunks if c.id in held)
        if before is not None:
            now = set(documents[document.id].chunks)
            deletes.extend((document.id, i) for i in before.chunks if i not in now)  # never an id just upserted
    removed = sorted(set(old) - set(documents))
    for doc_id in removed:
        deletes.extend((doc_id, i) for i in old[doc_id].chunks)
    manifest = Manifest(config, chunker.name, chunker.params, documents)
    kept += len(moved)
    return Update(tuple(upserts), tuple(deletes), kept, tuple(moved), manifest, rebuild and previous is not None,
                  tuple(changed), tuple(removed), unchanged)


def read_manifest(path: str | os.PathLike[str]) -> Manifest | None:
    """The manifest stored at `path`, or None when there is no file yet (the first run)."""
    path = Path(path)
    if not path.exists():
        return None
    hint = "; delete it (or pass another --manifest) to chunk everything again"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ManifestError(f"cannot read manifest {path}: {err.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ManifestError(f"manifest {path} is not valid JSON (truncated?): {err}{hint}") from None
    if not isinstance(data, dict) or "manifest_version" not in data:
        raise ManifestError(f"{path} is not a chunkopt manifest (no manifest_version){hint}")
    version = data["manifest_version"]
    if not isinstance(version, int) or isinstance(version, bool) or version > MANIFEST_VERSION:
        raise ManifestError(
            f"manifest {path} has manifest_version {version!r}, written by chunkopt {data.get('chunkopt_version', '?')}; "
            f"this chunkopt {chunkopt.__version__} reads manifest_version {MANIFEST_VERSION}. Upgrade chunkopt"
        )
    try:
        documents = {
            str(doc_id): DocumentState(_text(state["doc_hash"]), tuple(_text(i) for i in state["chunks"]))
            for doc_id, state in data["documents"].items()
        }
        return Manifest(_text(data["config"]), _text(data["strategy"]), dict(data["params"]), documents)
    except (KeyError, TypeError, AttributeError, ValueError) as err:
        raise ManifestError(f"manifest {path} is damaged ({type(err).__name__}: {err}){hint}") from None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def manifest_text(manifest: Manifest) -> str:
    """The manifest file's JSON text."""
    return json.dumps(manifest.to_dict(), indent=1, ensure_ascii=False) + "\n"


def write_manifest(manifest: Manifest, path: str | os.PathLike[str]) -> None:
    """Write `manifest` to `path` atomically: the old file stays whole until the new one replaces it."""
    try:
        write_atomic(path, manifest_text(manifest))
    except OSError as err:
        raise ManifestError(f"cannot write manifest {path}: {err.strerror or err}") from None
